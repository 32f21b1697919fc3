using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers.Tests.MlNet;

/// <summary>
/// One loaded model scored from 8 threads at once, through separate PredictionEngines and through a set of 8 parallel
/// cursors consumed concurrently, gives the single-threaded scores bit for bit. Both scorer paths: the integer one (a
/// <c>Quantize</c> transform in front, so the first layer takes integer codes) and the float one (NormalizeMinMax and a
/// network without an input grid: the first layer multiplies float inputs in its per-thread float64 buffers).
/// </summary>
[TestClass]
public sealed class ConcurrencyTests
{
    private const int Threads = 8;

    private static (ITransformer Model, IDataView Test, List<TrainerPipelineTests.Digit> Rows) LoadedModel(bool integerPath)
    {
        var ml = new MLContext(seed: 1);
        var all = ml.Data.LoadFromTextFile<TrainerPipelineTests.Digit>(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), hasHeader: true, separatorChar: ',');
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label");
        IEstimator<ITransformer> features = integerPath
            ? keyed.Append(ml.Transforms.Quantize("Features", "Pixels", bits: 4))
            : keyed.Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"));
        var trained = features
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 32 }, WeightBits = 4, InputBits = integerPath ? 8 : 32, MaxEpoch = 3, NumberOfThreads = 1 }))
            .Fit(all);
        QuantizedMlp network = trained.LastTransformer.Model.Network;
        Assert.AreEqual(integerPath, network.InputGrid is not null, "the path under test: integer codes into the first layer, or float inputs");
        ITransformer model = trained;
        using var stream = new MemoryStream();
        ml.Model.Save(model, all.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = new MLContext().Model.Load(stream, out _);
        return (loaded, all, ml.Data.CreateEnumerable<TrainerPipelineTests.Digit>(all, reuseRowObject: false).ToList());
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void EightPredictionEngines_SameScoresAsOneThread(bool integerPath)
    {
        var (model, _, rows) = LoadedModel(integerPath);
        var ml = new MLContext();
        float[][] expected;
        using (var engine = ml.Model.CreatePredictionEngine<TrainerPipelineTests.Digit, TrainerPipelineTests.DigitPrediction>(model))
        {
            expected = rows.Select(r => engine.Predict(r).Score.ToArray()).ToArray();
        }

        var results = new float[Threads][][];
        using var start = new Barrier(Threads);
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            using var engine = ml.Model.CreatePredictionEngine<TrainerPipelineTests.Digit, TrainerPipelineTests.DigitPrediction>(model);
            start.SignalAndWait();
            var mine = new float[rows.Count][];

            // Each thread walks the rows from a different starting point, so that threads score different rows at once.
            for (int k = 0; k < rows.Count; k++)
            {
                int i = (k + t * rows.Count / Threads) % rows.Count;
                mine[i] = engine.Predict(rows[i]).Score.ToArray();
            }

            results[t] = mine;
        });

        for (int t = 0; t < Threads; t++)
        {
            for (int i = 0; i < rows.Count; i++)
            {
                AssertSameBits(expected[i], results[t][i], $"thread {t}, row {i}");
            }
        }
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void EightParallelCursors_SameScoresAsOneCursor(bool integerPath)
    {
        var (model, test, _) = LoadedModel(integerPath);
        IDataView scored = model.Transform(test);
        var score = scored.Schema["Score"];
        var single = Read(scored.GetRowCursor(new[] { score }), score);
        DataViewRowCursor[] set = scored.GetRowCursorSet(new[] { score }, Threads);
        var parts = new Dictionary<DataViewRowId, float[]>[set.Length];
        Parallel.For(0, set.Length, new ParallelOptions { MaxDegreeOfParallelism = Threads }, i => parts[i] = Read(set[i], score));
        var merged = parts.SelectMany(p => p).ToList();
        Assert.HasCount(single.Count, merged, "every row exactly once");
        foreach (var (id, values) in merged)
        {
            AssertSameBits(single[id], values, $"row {id}");
        }
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what) =>
        CollectionAssert.AreEqual(expected.Select(BitConverter.SingleToInt32Bits).ToArray(), actual.Select(BitConverter.SingleToInt32Bits).ToArray(), what);

    private static Dictionary<DataViewRowId, float[]> Read(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        using (cursor)
        {
            var result = new Dictionary<DataViewRowId, float[]>();
            var id = cursor.GetIdGetter();
            var get = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> buffer = default;
            DataViewRowId rowId = default;
            while (cursor.MoveNext())
            {
                id(ref rowId);
                get(ref buffer);
                result.Add(rowId, buffer.DenseValues().ToArray());
            }

            return result;
        }
    }
}
