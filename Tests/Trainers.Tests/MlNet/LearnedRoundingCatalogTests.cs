using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers.Tests.MlNet;

/// <summary>
/// <c>mlContext.Model.QuantizeNetwork</c> on fitted ML.NET pipelines: the same kind of pipeline comes back, its network
/// integer, saving and loading it scores the same, the calibration rows need no label, and what cannot be quantized
/// is refused naming why.
/// </summary>
[TestClass]
public sealed class LearnedRoundingCatalogTests
{
    private static (MLContext Ml, IDataView Rows, TransformerChain<MulticlassPredictionTransformer<QatMulticlassModelParameters>> Model) FloatPipeline()
    {
        var ml = new MLContext(seed: 1);
        IDataView rows = ml.Data.LoadFromTextFile<TrainerPipelineTests.Digit>(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), hasHeader: true, separatorChar: ',');
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Concatenate("Features", "Pixels"))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { Mode = QatMode.Float, HiddenLayers = new[] { 32 }, MaxEpoch = 6, NumberOfThreads = 1 }));
        return (ml, rows, pipeline.Fit(rows));
    }

    [TestMethod]
    public void FittedPipeline_ComesBackOfTheSameType_WithAnIntegerNetwork_AndSavesAndLoads()
    {
        var (ml, rows, model) = FloatPipeline();
        var unlabeled = ml.Transforms.DropColumns("Label").Fit(rows).Transform(rows); // calibration needs no label
        var quantized = ml.Model.QuantizeNetwork(model, unlabeled, new LearnedRoundingOptions { WeightBits = 4, Iterations = 300, NumberOfThreads = 1 });
        Assert.IsInstanceOfType<TransformerChain<MulticlassPredictionTransformer<QatMulticlassModelParameters>>>(quantized);
        QuantizedMlp network = quantized.LastTransformer.Model.Network;
        Assert.IsTrue(network.Layers.All(l => l.WeightBits == 4));
        Assert.IsTrue(model.LastTransformer.Model.Network.Layers.All(l => l.HasFloatWeights), "the float model is left as it was");
        double floatAccuracy = ml.MulticlassClassification.Evaluate(model.Transform(rows)).MicroAccuracy;
        double accuracy = ml.MulticlassClassification.Evaluate(quantized.Transform(rows)).MicroAccuracy;
        Assert.IsGreaterThan(floatAccuracy - 0.03, accuracy, $"W4: {accuracy}, float {floatAccuracy}");

        using var stream = new MemoryStream();
        ml.Model.Save(quantized, rows.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = ml.Model.Load(stream, out _);
        float[][] Scores(ITransformer m) => m.Transform(rows).GetColumn<float[]>("Score").ToArray();
        var before = Scores(quantized);
        var after = Scores(loaded);
        for (int i = 0; i < before.Length; i++)
        {
            CollectionAssert.AreEqual(before[i], after[i], $"row {i}");
        }

        // The loaded pipeline's output columns carry the float model's annotations (the multiclass transformer kept its
        // label column: the score slots and predicted labels are named by the label's key values).
        foreach (string column in new[] { "Score", "PredictedLabel" })
        {
            string[] Names(ITransformer m) => m.Transform(rows).Schema[column].Annotations.Schema.Select(a => a.Name).ToArray();
            CollectionAssert.AreEqual(Names(model), Names(loaded), column);
            CollectionAssert.Contains(Names(loaded), column == "Score" ? "TrainingLabelValues" : "KeyValues", column);
        }
    }

    [TestMethod]
    public void PredictionTransformerAlone_ComesBackAlone()
    {
        var (ml, rows, model) = FloatPipeline();
        var features = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.Concatenate("Features", "Pixels")).Append(ml.Transforms.NormalizeMinMax("Features")).Fit(rows).Transform(rows);
        var logged = new List<string>();
        ml.Log += (_, e) => logged.Add(e.Message);
        var reports = new List<LearnedRoundingProgress>();
        var options = new LearnedRoundingOptions { WeightBits = 8, Iterations = 100, NumberOfThreads = 1, Progress = new Collect(reports) };
        var quantized = ml.Model.QuantizeNetwork(model.LastTransformer, features, options);
        Assert.AreEqual(8, quantized.Model.Network.Layers[0].WeightBits);
        CollectionAssert.AreEqual(new[] { 1, 2 }, reports.Select(r => r.Layer).ToArray(), "one report per weight matrix, as training reports its epochs");
        Assert.IsTrue(reports.All(r => r.Layers == 2 && r.Error <= r.NearestError && r.Seconds >= 0));
        Assert.AreEqual(2, logged.Count(m => m.Contains("Learned rounding, layer ", StringComparison.Ordinal)), "and to ML.NET's log");
    }

    [TestMethod]
    public void NotAnMlRoundingNetwork_IsRefused_NamingTheStep()
    {
        var ml = new MLContext(1);
        var rows = ml.Data.LoadFromEnumerable(new[] { new TrainerPipelineTests.Digit() });
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Model.QuantizeNetwork(ml.Transforms.Concatenate("Features", "Pixels").Fit(rows), rows));
        StringAssert.Contains(e.Message, "ColumnConcatenatingTransformer");
    }

    [TestMethod]
    public void CalibrationFeaturesOfAnotherWidth_AreRefused_NamingTheColumn()
    {
        var (ml, _, model) = FloatPipeline();
        var narrow = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 5).Select(_ => new Narrow()));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Model.QuantizeNetwork(model.LastTransformer, narrow));
        StringAssert.Contains(e.Message, "'Features': expected vector of Single of size 64");
    }

    [TestMethod]
    public void CalibrationRowsWithoutAFiniteRow_AreRefused_NamingTheColumn()
    {
        var (ml, _, model) = FloatPipeline();
        var nan = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 3).Select(_ => new Wide { Features = Enumerable.Repeat(float.NaN, 64).ToArray() }));
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Model.QuantizeNetwork(model.LastTransformer, nan));
        Assert.AreEqual("No calibration row has finite values in 'Features'.", e.Message);
    }

    private sealed class Wide
    {
        [VectorType(64)]
        public float[] Features { get; set; } = new float[64];
    }

    private sealed class Collect(List<LearnedRoundingProgress> reports) : IProgress<LearnedRoundingProgress>
    {
        public void Report(LearnedRoundingProgress value) => reports.Add(value);
    }

    private sealed class Narrow
    {
        [VectorType(3)]
        public float[] Features { get; set; } = new float[3];
    }
}
