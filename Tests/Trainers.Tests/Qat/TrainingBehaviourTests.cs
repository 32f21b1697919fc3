using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Qat;

[TestClass]
public sealed class TrainingBehaviourTests
{
    private static QatOptions Small(int weightBits = 4) => new() { HiddenLayers = new[] { 32 }, MaxEpoch = 5, WeightBits = weightBits, NumberOfThreads = 1 };

    [TestMethod, TestCategory(TestLanes.Slow)]
    public void Validation_ScoresTheDeployedModel_BitForBit()
    {
        // Early stopping keeps the epoch with the lowest validation loss, computed by the deployed scorer on the exported
        // model. The model Train returns must be that very model: its validation loss, recomputed, has the same bits.
        var (lows, highs) = InputGrid.Ranges(Digits.Train.Features, 64);
        foreach (var (bits, grid) in new[] { (1, (InputGrid?)null), (4, null), (32, null), (4, InputGrid.Fit(8, lows, highs)) })
        {
            var seen = new List<QatProgress>();
            var options = new QatOptions { WeightBits = bits, MaxEpoch = 8, NumberOfThreads = 1 };
            QuantizedMlp model = QatTraining.Train(Digits.Train, 10, options, validation: Digits.Test, progress: new Collect(seen), inputGrid: grid);
            Assert.AreEqual(grid is not null, model.InputGrid is not null);
            double best = seen.Min(p => p.ValidationLoss);
            var (metric, loss) = QatTraining.Validate(model, Digits.Test);
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(best), BitConverter.DoubleToInt64Bits(loss), $"W{bits}: validation loss of the returned model");
            Assert.AreEqual(seen.First(p => p.ValidationLoss == best).ValidationMetric, metric, $"W{bits}: its accuracy");
            Assert.AreEqual(metric, Digits.Accuracy(model, Digits.Test), 1e-12, $"W{bits}: the accuracy is the scorer's");
        }
    }

    [TestMethod, TestCategory(TestLanes.Slow)]
    public void FakeQuantizedPass_TracksTheDeployedScorer()
    {
        // Measured on the digits test rows (2026-12-01, automatic settings): W4 0.0022 on a row where an activation sits
        // on a rounding tie (earlier settings: W1 0.0206, W2 0.0109, W4 7.7e-7, W8 6.0e-7); a float network has no
        // rounding to sit on, so it agrees everywhere. The bounds below are what docs/trainer.md states.
        foreach (var (bits, bound) in new[] { (1, 0.03), (2, 0.03), (4, 0.03), (8, 0.03), (32, 1e-5) })
        {
            var options = new QatOptions { WeightBits = bits, MaxEpoch = 10, NumberOfThreads = 1 };
            using var network = QatTraining.TrainNetwork(Digits.Train, 10, options);
            Digits.AssertTracks(network, network.Export(options.Task, 10), Digits.Test, bound, $"W{bits}");
        }
    }

    [TestMethod]
    public void W4Model_TakesAboutAnEighthOfTheFloatBytes_PlusStepsAndBiases()
    {
        // The weight codes take exactly 1/8 of the float weights' bytes; the float steps (one per output neuron) and
        // biases add the rest: 10,136 of 68,916 bytes (0.147) for the default 128-64 network, 0.155 for 64-32.
        foreach (int[] hidden in new[] { new[] { 64, 32 }, new[] { 128, 64 } })
        {
            var model = QatTraining.Train(Digits.Train, 10, new QatOptions { HiddenLayers = hidden, WeightBits = 4, MaxEpoch = 1, NumberOfThreads = 1 });
            long weights = model.Layers.Sum(l => (long)l.Inputs * l.Outputs);
            Assert.AreEqual(weights / 2, model.Layers.Sum(l => (long)l.PackedWeights.Length), "4 bits per weight");
            long extras = model.Layers.Sum(l => (l.Outputs * 2L * sizeof(float)) + sizeof(float)); // step and bias per output, activation step
            Assert.AreEqual((weights / 2) + extras, model.ParameterBytes, 4, "codes plus float steps and biases (the output layer has no activation step)");
            Assert.IsLessThan(0.16, (double)model.ParameterBytes / model.FloatParameterBytes, string.Join("-", hidden));
        }
    }

    [TestMethod]
    public void SameSeedAndThreads_IdenticalModel()
    {
        var a = QatTraining.Train(Digits.Train, 10, Small());
        var b = QatTraining.Train(Digits.Train, 10, Small());
        for (int l = 0; l < a.Layers.Count; l++)
        {
            CollectionAssert.AreEqual(a.Layers[l].PackedWeights, b.Layers[l].PackedWeights);
            CollectionAssert.AreEqual(a.Layers[l].WeightSteps, b.Layers[l].WeightSteps);
            CollectionAssert.AreEqual(a.Layers[l].Bias, b.Layers[l].Bias);
        }

        var c = QatTraining.Train(Digits.Train, 10, new QatOptions { HiddenLayers = new[] { 32 }, MaxEpoch = 5, WeightBits = 4, NumberOfThreads = 1, Seed = 2 });
        CollectionAssert.AreNotEqual(a.Layers[0].Bias, c.Layers[0].Bias, "another seed, another model");
    }

    [TestMethod]
    public void Progress_IsReportedPerEpoch_AndCancellationStopsTraining()
    {
        var seen = new List<QatProgress>();
        QatTraining.Train(Digits.Train, 10, Small(), progress: new Collect(seen));
        Assert.HasCount(5, seen);
        Assert.IsTrue(seen.All(p => double.IsFinite(p.TrainingLoss) && p.ValidationMetric is >= 0 and <= 1));
        using var cancel = new CancellationTokenSource();
        var steps = new List<QatProgress>();
        Assert.ThrowsExactly<OperationCanceledException>(() => QatTraining.Train(Digits.Train, 10, Small(), progress: new CancelAfterFirst(cancel), cancellation: cancel.Token));
    }

    [TestMethod]
    public void RegressionAndBinaryTasks_Learn()
    {
        // Digit 0 against the rest (binary), and the digit's value as a number (regression).
        var binary = Digits.Train with { Labels = Digits.Train.Labels.Select(l => l == 0 ? 1f : 0f).ToArray() };
        var binaryTest = Digits.Test with { Labels = Digits.Test.Labels.Select(l => l == 0 ? 1f : 0f).ToArray() };
        var model = QatTraining.Train(binary, 2, new QatOptions { Task = QatTask.BinaryClassification, MaxEpoch = 10, NumberOfThreads = 1 });
        int correct = Enumerable.Range(0, binaryTest.Count).Count(i => (model.Forward(binaryTest.Features.AsSpan(i * 64, 64))[0] > 0 ? 1f : 0f) == binaryTest.Labels[i]);
        Assert.IsGreaterThan(0.97, (double)correct / binaryTest.Count);
        var regression = QatTraining.Train(Digits.Train, 1, new QatOptions { Task = QatTask.Regression, MaxEpoch = 20, NumberOfThreads = 1 });
        double mse = Enumerable.Range(0, Digits.Test.Count).Average(i => Math.Pow(regression.Forward(Digits.Test.Features.AsSpan(i * 64, 64))[0] - Digits.Test.Labels[i], 2));
        double variance = Digits.Test.Labels.Select(l => Math.Pow(l - Digits.Test.Labels.Average(), 2)).Average();
        Assert.IsLessThan(variance * 0.3, mse, "explains most of the variance");
    }

    [TestMethod]
    public void InvalidOptions_NameTheOption()
    {
        (QatOptions Options, string Name)[] cases =
        {
            (new QatOptions { WeightBits = 9 }, nameof(QatOptions.WeightBits)),
            (new QatOptions { WeightBits = 0 }, nameof(QatOptions.WeightBits)),
            (new QatOptions { ActivationBits = 1 }, nameof(QatOptions.ActivationBits)),
            (new QatOptions { HiddenLayers = new[] { 0 } }, nameof(QatOptions.HiddenLayers)),
            (new QatOptions { MaxEpoch = 0 }, nameof(QatOptions.MaxEpoch)),
            (new QatOptions { BatchSize = 0 }, nameof(QatOptions.BatchSize)),
            (new QatOptions { LearningRate = 0 }, nameof(QatOptions.LearningRate)),
            (new QatOptions { WeightDecay = -1 }, nameof(QatOptions.WeightDecay)),
            (new QatOptions { ValidationFraction = 0.5 }, nameof(QatOptions.ValidationFraction)),
            (new QatOptions { EarlyStoppingPatience = -1 }, nameof(QatOptions.EarlyStoppingPatience)),
            (new QatOptions { NumberOfThreads = 0 }, nameof(QatOptions.NumberOfThreads)),
            (new QatOptions { Quantizer = (QatQuantizer)99 }, nameof(QatOptions.Quantizer)),
        };
        foreach (var (options, name) in cases)
        {
            Assert.AreEqual(name, Assert.ThrowsExactly<ArgumentOutOfRangeException>(options.Validate).ParamName);
        }
    }

    [TestMethod, TestCategory(TestLanes.Slow)]
    [DataRow(QatMode.QuantizationAware, 4)]
    [DataRow(QatMode.Float, 32)]
    public void EarlyStopping_KeepsTheEpochWithTheLowestValidationLoss(QatMode mode, int bits)
    {
        // Half the test rows validate; the kept model's cross-entropy on them, computed here from the C# scorer's logits
        // in float64, must be the lowest any epoch reported, and that epoch must not be the last (else this could not
        // tell "keep the best" from "keep the last").
        QatData validation = Digits.Test.Subset(Enumerable.Range(0, 180).ToArray());
        var seen = new List<QatProgress>();
        var options = new QatOptions { Mode = mode, WeightBits = bits, ActivationBits = bits == 32 ? 32 : 8, MaxEpoch = 40, EarlyStoppingPatience = 0, LearningRate = 0.01, NumberOfThreads = 1 };
        QuantizedMlp model = QatTraining.Train(Digits.Train, 10, options, validation, new Collect(seen));

        double crossEntropy = 0;
        for (int i = 0; i < validation.Count; i++)
        {
            float[] logits = model.Forward(validation.Features.AsSpan(i * 64, 64));
            double max = logits.Max();
            double logSum = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            crossEntropy += (logSum - logits[(int)validation.Labels[i]]) / validation.Count;
        }

        Assert.HasCount(40, seen);
        Assert.IsTrue(seen.All(p => double.IsFinite(p.ValidationLoss) && p.ValidationLoss > 0));
        QatProgress best = seen.MinBy(p => p.ValidationLoss);
        Assert.AreEqual(best.ValidationLoss, crossEntropy, 1e-5 * best.ValidationLoss, $"kept model's validation loss; best epoch {best.Epoch}");
        Assert.IsLessThan(seen.Count, best.Epoch, "the best epoch is not the last");
        Assert.IsGreaterThan(best.ValidationLoss * 1.05, seen[^1].ValidationLoss, "the last epoch's loss is clearly worse");
    }

    [TestMethod]
    [DataRow(EpochSelection.ValidationMetric, 180)]
    [DataRow(EpochSelection.Automatic, 2160)]
    [DataRow(EpochSelection.Automatic, 180)]
    public void EpochSelection_KeepsTheBestAccuracy_OrTheLowestLossOnFewRows(EpochSelection selection, int rows)
    {
        // 180 test rows, repeated to 2,160 for the automatic rule's accuracy branch (2,000 rows or more). The kept
        // model's accuracy and loss on them, from the C# scorer, must be those of the epoch the rule names: the highest
        // accuracy (ties to the lower loss), or the lowest loss; BestEpoch reports it. On this run (seed 3, one thread)
        // the loss is lowest at epoch 13 and the accuracy highest at 22.
        QatData validation = Digits.Test.Subset(Enumerable.Range(0, rows).Select(i => i % 180).ToArray());
        var seen = new List<QatProgress>();
        var options = new QatOptions { HiddenLayers = new[] { 32 }, WeightBits = 4, MaxEpoch = 25, EarlyStoppingPatience = 0, LearningRate = 0.03, NumberOfThreads = 1, Seed = 3, EpochSelection = selection };
        QuantizedMlp model = QatTraining.Train(Digits.Train, 10, options, validation, new Collect(seen));
        bool byAccuracy = selection == EpochSelection.ValidationMetric || rows >= QatOptions.AccuracySelectionRows;
        QatProgress expected = byAccuracy
            ? seen.OrderByDescending(p => p.ValidationMetric).ThenBy(p => p.ValidationLoss).First()
            : seen.MinBy(p => p.ValidationLoss);
        Assert.AreEqual(expected.Epoch, seen[^1].BestEpoch, "the reported kept epoch");
        int correct = 0;
        for (int i = 0; i < validation.Count; i++)
        {
            float[] logits = model.Forward(validation.Features.AsSpan(i * 64, 64));
            correct += Array.IndexOf(logits, logits.Max()) == (int)validation.Labels[i] ? 1 : 0;
        }

        Assert.AreEqual(expected.ValidationMetric, correct / (double)validation.Count, 1e-12, $"the kept model's accuracy is epoch {expected.Epoch}'s");
        var lossBest = seen.MinBy(p => p.ValidationLoss);
        var accuracyBest = seen.OrderByDescending(p => p.ValidationMetric).ThenBy(p => p.ValidationLoss).First();
        Assert.AreNotEqual(lossBest.Epoch, accuracyBest.Epoch, "the two rules disagree on this run, so the test tells them apart");
    }

    [TestMethod]
    [DataRow(9_999)] // QatOptions.LargeDataRows - 1
    [DataRow(10_000)] // QatOptions.LargeDataRows
    public void AutomaticValidationFraction_ATenthBelowLargeDataRows_NoneFromThere_WhereTheLastEpochIsKept(int rows)
    {
        // Labels unrelated to the features, so the validation accuracy is far from 0 and 1: below LargeDataRows it is a
        // count over exactly a tenth of the rows (999 of 9999); from there on no row is held out and every epoch after the
        // float warm-up is the kept one.
        var features = new float[rows * 2];
        var labels = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            features[2 * i] = i % 97 / 97f;
            features[(2 * i) + 1] = i % 89 / 89f;
            labels[i] = i * 7919 % 10 < 3 ? 1 : 0;
        }

        Assert.AreEqual(10_000, QatOptions.LargeDataRows, "the data rows straddle the threshold");
        var seen = new List<QatProgress>();
        var options = new QatOptions { HiddenLayers = new[] { 4 }, MaxEpoch = 3, WarmupEpochs = 1, BatchSize = 256, NumberOfThreads = 1 };
        QatTraining.Train(new QatData(features, labels, 2), 2, options, progress: new Collect(seen));
        Assert.HasCount(3, seen);
        if (rows < QatOptions.LargeDataRows)
        {
            int held = rows / 10; // a tenth, rounded down (999.9 -> 999)
            double correct = seen[^1].ValidationMetric * held;
            Assert.IsTrue(correct > 100 && correct < held - 100, $"a real accuracy ({seen[^1].ValidationMetric})");
            Assert.AreEqual(Math.Round(correct), correct, 1e-6, "the accuracy counts rows out of a tenth of them");
        }
        else
        {
            Assert.IsTrue(seen.All(p => double.IsNaN(p.ValidationMetric) && double.IsNaN(p.ValidationLoss)), "no validation rows");
            CollectionAssert.AreEqual(new[] { 0, 2, 3 }, seen.Select(p => p.BestEpoch).ToArray(), "the latest epoch after the warm-up is kept");
        }
    }
}
