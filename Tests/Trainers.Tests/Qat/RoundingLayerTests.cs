using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Qat;

[TestClass]
public sealed class RoundingLayerTests
{
    [TestMethod]
    public void OutputRoundedToCents_TrainedThroughTheRounding_ScorerMatchesNetwork()
    {
        // Regression on the digit's value / 3 (not a multiple of a cent), output rounded to 2 decimals by the
        // grid a Round transform would use.
        var data = Digits.Train with { Labels = Digits.Train.Labels.Select(l => l / 3f).ToArray() };
        var options = new QatOptions { Task = QatTask.Regression, MaxEpoch = 15, NumberOfThreads = 1 };
        options.RoundingLayers.Add(new QatRoundingLayer { Grid = new DecimalGrid(2), Position = options.HiddenLayers.Length + 1 });
        using var network = QatTraining.TrainNetwork(data, 1, options);
        var model = network.Export(options.Task, 1);
        var (torchScores, scores) = Digits.BothScores(network, model, Digits.Test);
        for (int i = 0; i < Digits.Test.Count; i++)
        {
            float ours = scores[i];
            Assert.AreEqual(torchScores[i], ours, $"row {i}: scorer equals the network");
            Assert.AreEqual(MathF.Round(ours * 100) / 100, ours, $"row {i}: a whole number of cents");
        }

        double mse = Enumerable.Range(0, Digits.Test.Count).Average(i => Math.Pow(model.Forward(Digits.Test.Features.AsSpan(i * 64, 64))[0] - Digits.Test.Labels[i] / 3.0, 2));
        Assert.IsLessThan(0.3, mse, "it learned through the rounding");
        var reloaded = QuantizedMlpFormat.Read(QuantizedMlpFormat.Write(model));
        Assert.HasCount(1, reloaded.Roundings);
        Assert.AreEqual(model.Forward(Digits.Test.Features.AsSpan(0, 64))[0], reloaded.Forward(Digits.Test.Features.AsSpan(0, 64))[0]);
    }

    [TestMethod]
    public void HiddenAndInputRoundingLayers_FromATransformer_ScorerTracksNetwork()
    {
        var ml = new MLContext();
        var column = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 100).Select(i => new Row { X = i / 50f - 1 }));
        var transformer = ml.Transforms.RoundToStep("Y", "X", step: 0.25).Fit(column);
        var options = new QatOptions { WeightBits = 4, MaxEpoch = 8, NumberOfThreads = 1 };
        options.RoundingLayers.Add(new QatRoundingLayer { Grid = transformer.GridOf("Y"), Position = 0, Gradient = RoundingGradient.SoftRound(2) });
        options.RoundingLayers.Add(new QatRoundingLayer { Grid = new StepGrid(0.5), Position = 1 });
        using var network = QatTraining.TrainNetwork(Digits.Train, 10, options);
        var model = network.Export(options.Task, 10);
        Digits.AssertTracks(network, model, Digits.Test, 1e-6, "W4A8, input and hidden rounding layers");
        Assert.IsGreaterThan(0.9, Digits.Accuracy(model, Digits.Test));
    }

    [TestMethod]
    public void BadPosition_IsRejected()
    {
        var options = new QatOptions();
        options.RoundingLayers.Add(new QatRoundingLayer { Grid = new DecimalGrid(0), Position = 9 });
        Assert.AreEqual("RoundingLayers", Assert.ThrowsExactly<ArgumentOutOfRangeException>(options.Validate).ParamName);
    }

    public sealed class Row
    {
        public float X { get; set; }
    }
}
