using Microsoft.ML;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Qat;

[TestClass]
public sealed class InputGridTests
{
    [TestMethod]
    public void IntegerInputGrid_WholePathInteger_ScorerTracksNetwork()
    {
        // The digits features are p / 16 for integer pixel counts p: exactly a grid of step 1/16.
        var options = new QatOptions { WeightBits = 4, MaxEpoch = 10, NumberOfThreads = 1 };
        using var network = QatTraining.TrainNetwork(Digits.Train, 10, options);
        network.Input = new InputGrid(new AffineGrid(8, QuantizationRange.FromBits(8, signed: false), new[] { 1.0 / 16 }, new[] { 0L }), 1f / 16);
        var model = network.Export(options.Task, 10);
        Assert.AreEqual(1.0 / 16, model.InputGrid!.Scales[0]);
        Digits.AssertTracks(network, model, Digits.Test, 0.03, "W4A8, integer input grid");
        Assert.IsGreaterThan(0.94, Digits.Accuracy(model, Digits.Test));
        Assert.AreEqual(model.Forward(Digits.Test.Features.AsSpan(0, 64))[3], QuantizedMlpFormat.Read(QuantizedMlpFormat.Write(model)).Forward(Digits.Test.Features.AsSpan(0, 64))[3]);
    }

    [TestMethod]
    public void QuantizeTransformFeatures_AreRecognised_InAPipeline()
    {
        var ml = new MLContext(seed: 1);
        var rows = ml.Data.CreateEnumerable<MlNet.TrainerPipelineTests.Digit>(
            ml.Data.LoadFromTextFile<MlNet.TrainerPipelineTests.Digit>(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), hasHeader: true, separatorChar: ','), false).ToList();
        var train = ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 != 0));
        var test = ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 == 0));
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Concatenate("Raw", "Pixels"))
            .Append(ml.Transforms.NormalizeMinMax("Raw"))
            .Append(ml.Transforms.Quantize("Features", "Raw", bits: 8))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { WeightBits = 4, MaxEpoch = 20, NumberOfThreads = 1 }))
            .Fit(train);
        Assert.IsNotNull(model.LastTransformer.Model.Network.InputGrid, "the input grid was recognised");
        Assert.IsGreaterThan(0.94, ml.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy);
    }
}
