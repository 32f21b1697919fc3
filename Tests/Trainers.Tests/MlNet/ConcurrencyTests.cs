using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers.Tests.MlNet;

/// <summary>
/// One loaded model (a <c>Quantize</c> transform and a quantization-aware classifier) scored from 8 threads at once,
/// through separate PredictionEngines and through a set of 8 parallel cursors consumed concurrently, gives exactly the
/// single-threaded scores.
/// </summary>
[TestClass]
public sealed class ConcurrencyTests
{
    private const int Threads = 8;

    private static (ITransformer Model, IDataView Test, List<TrainerPipelineTests.Digit> Rows) LoadedModel()
    {
        var ml = new MLContext(seed: 1);
        var all = ml.Data.LoadFromTextFile<TrainerPipelineTests.Digit>(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), hasHeader: true, separatorChar: ',');
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Quantize("Features", "Pixels", bits: 4))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 32 }, WeightBits = 4, MaxEpoch = 3, NumberOfThreads = 2 }))
            .Fit(all);
        using var stream = new MemoryStream();
        ml.Model.Save(model, all.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = new MLContext().Model.Load(stream, out _);
        return (loaded, all, ml.Data.CreateEnumerable<TrainerPipelineTests.Digit>(all, reuseRowObject: false).ToList());
    }

    [TestMethod]
    public void EightPredictionEngines_SameScoresAsOneThread()
    {
        var (model, _, rows) = LoadedModel();
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
                CollectionAssert.AreEqual(expected[i], results[t][i], $"thread {t}, row {i}");
            }
        }
    }

    [TestMethod]
    public void EightParallelCursors_SameScoresAsOneCursor()
    {
        var (model, test, _) = LoadedModel();
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
            CollectionAssert.AreEqual(single[id], values, $"row {id}");
        }
    }

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
