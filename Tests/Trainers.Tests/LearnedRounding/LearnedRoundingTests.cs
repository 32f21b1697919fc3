
namespace MlRounding.Trainers.Tests.PostTraining;

/// <summary>
/// Learned rounding of trained float networks: on a fixed layer whose best rounding is found by trying every
/// combination, against nearest rounding layer by layer, codes on the grid, the convolution blocks, equal seeds, and bad
/// input naming the option.
/// </summary>
[TestClass]
public sealed class LearnedRoundingTests
{
    private static readonly Lazy<QuantizedMlp> FloatMlp = new(() => QatTraining.Train(Digits.Train, 10, new QatOptions
    {
        Mode = QatMode.Float, HiddenLayers = new[] { 32 }, MaxEpoch = 8, NumberOfThreads = 1, Seed = 1, Task = QatTask.MulticlassClassification,
    }));

    private static QuantizedMlp Quantize(QuantizedMlp network, QatData rows, LearnedRoundingOptions options) =>
        Trainers.LearnedRounding.Quantize(network, rows.Features, rows.Count, options);

    private static LearnedRoundingOptions Options(int bits, PostTrainingRounding rounding = PostTrainingRounding.Learned, IProgress<LearnedRoundingProgress>? progress = null) => new()
    {
        WeightBits = bits, Rounding = rounding, Iterations = 2000, NumberOfThreads = 1, Progress = progress,
    };

    /// <summary>Collects the reports synchronously (<see cref="Progress{T}"/> posts them to the thread pool).</summary>
    private sealed class Reports : IProgress<LearnedRoundingProgress>
    {
        public List<LearnedRoundingProgress> All { get; } = new();

        public void Report(LearnedRoundingProgress value) => All.Add(value);
    }

    [TestMethod]
    [DataRow(1.0)]
    [DataRow(1000.0)]
    [DataRow(0.001)]
    public void OneLayerAtAFixedStep_LearnedRounding_RecoversAThirdOfTheBestRoundingsGain_AtAnyOutputScale(double scale)
    {
        // The inputs are multiplied by scale, so the output error of every rounding by scale²: the objective is relative to
        // nearest rounding's error, so the outcome must not depend on it (with AdaRound's fixed λ = 0.01 beside the raw
        // error, scale 1000 left the rounding undecided and 0.001 froze it at the start).
        // One linear output, 12 inputs, 3-bit codes from the step 0.3: the 2^12 up/down choices at that step are all tried
        // here in float64, and the best is compared with nearest rounding and with AdaRound's choice (whose step is learned
        // too, so it may even beat the best at the fixed step).
        var random = new Random(3); // nearest 0.129, the best rounding 0.0098 (seeds 6 and 7 make nearest the best)
        const int Inputs = 12, Rows = 256;
        const double Step = 0.3;
        float[] weights = Enumerable.Range(0, Inputs).Select(_ => (float)(random.NextDouble() * 1.6 - 0.8)).ToArray();
        float[] x = Enumerable.Range(0, Inputs * Rows).Select(_ => (float)((0.5 + random.NextDouble()) * scale)).ToArray();
        double Error(Func<int, double> weight) => Enumerable.Range(0, Rows).Average(r =>
        {
            double e = 0;
            for (int k = 0; k < Inputs; k++)
            {
                e += x[(r * Inputs) + k] * (weight(k) - weights[k]);
            }

            return e * e;
        });

        double best = double.PositiveInfinity;
        for (int mask = 0; mask < 1 << Inputs; mask++)
        {
            best = Math.Min(best, Error(k => Math.Clamp(Math.Floor(weights[k] / Step) + ((mask >> k) & 1), -3, 3) * Step));
        }

        double nearest = Error(k => Math.Clamp(Math.Round(weights[k] / Step, MidpointRounding.ToEven), -3, 3) * Step);
        float[] codes;
        double learnedStep;
        using (var scope = TorchSharp.torch.NewDisposeScope())
        {
            var network = new QuantizedMlp(QatTask.Regression, 1, new[] { new QuantizedLayer(Inputs, 1, weights, new[] { 0f }) });
            var stage = ReconstructionStage.Of(network)[0];
            var inputs = TorchSharp.torch.tensor(x).reshape(Rows, Inputs);
            var target = stage.Forward(inputs, stage.Weight);
            using var generator = new TorchSharp.torch.Generator(1);
            var learned = AdaRound.Learn(stage, stage.Weight, TorchSharp.torch.tensor(new[] { (float)Step }), CodeLattice.For(3), inputs, target, nearest, 1000, 64, generator, CancellationToken.None);
            codes = learned.Codes.data<float>().ToArray();
            learnedStep = learned.Steps.data<float>()[0];
        }

        double learnedError = Error(k => codes[k] * learnedStep);
        Assert.IsTrue(codes.All(c => c is >= -3 and <= 3 && c == MathF.Round(c)), "codes on the grid");
        Assert.IsTrue(codes.Select((c, k) => Math.Abs(c - (weights[k] / Step)) < 1 + 1e-6).All(b => b), "each weight rounds up or down from the starting step's lattice");
        Assert.IsTrue(learnedStep > 0 && double.IsFinite(learnedStep));
        Assert.IsLessThan(0.5 * nearest, best, "a much better rounding than nearest exists");
        // Measured at scale 1 (times scale² otherwise): nearest 0.129, the best 0.0098.
        Assert.IsLessThanOrEqualTo(nearest - ((nearest - best) / 3), learnedError, $"learned {learnedError:G4}, nearest {nearest:G4}, best {best:G4}");
    }

    [TestMethod]
    [DataRow(4)]
    [DataRow(2)]
    [DataRow(1)]
    public void DigitsMlp_EveryLayerBeatsNearest_AndEndsOnTheGrid(int bits)
    {
        var reports = new Reports();
        QuantizedMlp learned = Quantize(FloatMlp.Value, Digits.Train, Options(bits, progress: reports));
        Assert.HasCount(2, reports.All);
        foreach (var r in reports.All)
        {
            // Strictly: the learned codes are kept only where they beat nearest, so an equal error means nothing was learned.
            Assert.IsLessThan(r.NearestError, r.Error, r.ToString());
        }

        long max = bits == 1 ? 1 : (1L << (bits - 1)) - 1;
        foreach (QuantizedLayer layer in learned.Layers)
        {
            Assert.AreEqual(bits, layer.WeightBits);
            Assert.IsTrue(layer.WeightCodes.All(c => c >= -max && c <= max && (bits != 1 || c != 0)), "codes on the grid");
            Assert.IsTrue(layer.WeightSteps.All(s => s > 0 && float.IsFinite(s)), "steps positive");
            Assert.HasCount(layer.Outputs, layer.WeightSteps);
        }

        Assert.AreEqual(8, learned.Layers[0].ActivationBits);
        Assert.IsNotNull(learned.InputGrid, "an 8-bit input grid fitted on the calibration rows: the whole path is integer");
        double floatAccuracy = Accuracy(FloatMlp.Value), learnedAccuracy = Accuracy(learned);
        double nearestAccuracy = Accuracy(Quantize(FloatMlp.Value, Digits.Train, Options(bits, PostTrainingRounding.Nearest)));
        Assert.IsGreaterThanOrEqualTo(nearestAccuracy - 0.01, learnedAccuracy, $"learned {learnedAccuracy}, nearest {nearestAccuracy}, float {floatAccuracy}");
    }

    [TestMethod]
    public void EqualSeeds_GiveByteIdenticalModels()
    {
        byte[] Run(int seed)
        {
            var options = Options(2);
            options.Seed = seed;
            options.CalibrationRows = 500;
            var (rows, count) = Sample(options);
            return QuantizedMlpFormat.Write(Trainers.LearnedRounding.Quantize(FloatMlp.Value, rows, count, options));
        }

        CollectionAssert.AreEqual(Run(3), Run(3));
        CollectionAssert.AreNotEqual(Run(3), Run(4));
    }

    /// <summary>The seeded sample the catalog method draws, from the digits' training rows.</summary>
    private static (float[] Rows, int Count) Sample(LearnedRoundingOptions options)
    {
        var ml = new Microsoft.ML.MLContext(1);
        var view = ml.Data.LoadFromEnumerable(Enumerable.Range(0, Digits.Train.Count).Select(i => new Row { Features = Digits.Train.Features.AsSpan(i * 64, 64).ToArray() }));
        return CalibrationRows.Read(view, "Features", 64, options.CalibrationRows, options.Seed);
    }

    private sealed class Row
    {
        [Microsoft.ML.Data.VectorType(64)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    [TestMethod]
    public void Cnn_BlocksAndDenseLayers_QuantizedWithAPerChannelInputGrid()
    {
        var cnn = new QatOptions
        {
            Mode = QatMode.Float, ActivationBits = 32, ImageShape = new ImageShape(1, 8, 8), ConvolutionChannels = new[] { 4, 6 },
            HiddenLayers = new[] { 16 }, MaxEpoch = 4, NumberOfThreads = 1, Seed = 1, Task = QatTask.MulticlassClassification,
        };
        QuantizedMlp network = QatTraining.Train(Digits.Train, 10, cnn);
        var reports = new Reports();
        QuantizedMlp learned = Quantize(network, Digits.Train, Options(4, progress: reports));
        Assert.HasCount(4, reports.All, "two blocks, two dense layers");
        Assert.IsTrue(reports.All.All(r => r.Error <= r.NearestError));
        Assert.HasCount(2, learned.Convolutions);
        Assert.IsTrue(learned.Convolutions.All(c => c.Filters.WeightBits == 4 && c.Filters.ActivationBits == 8 && c.Filters.WeightCodes.All(v => v is >= -7 and <= 7)));
        Assert.AreEqual(network.Convolutions[1].Output, learned.Convolutions[1].Output);
        Assert.IsGreaterThan(Accuracy(network) - 0.05, Accuracy(learned), $"learned {Accuracy(learned)}, float {Accuracy(network)}");
    }

    [TestMethod]
    public void OutputError_OfAMulticlassNetworksLogits_LeavesOutEachRowsCommonShift()
    {
        // Softmax (the model's score) and the class do not change when all of a row's logits move together, so the
        // output layer of a multiclass network is measured without that shift; a hidden layer's outputs are not.
        var network = new QuantizedMlp(QatTask.MulticlassClassification, 3, new[]
        {
            new QuantizedLayer(2, 3, new float[6], new float[3]), new QuantizedLayer(3, 3, new float[9], new float[3]),
        });
        var stages = ReconstructionStage.Of(network);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var target = TorchSharp.torch.tensor(new float[] { 0, 0, 0, 1, 2, 3 }).reshape(2, 3);
        var output = target + TorchSharp.torch.tensor(new float[] { 1, 2, 3, 5, 5, 5 }).reshape(2, 3);
        // Row 1 differs by (1, 2, 3): (-1, 0, 1) after its mean, 2 squared; row 2 by (5, 5, 5): 0. Mean over rows 1.
        Assert.IsTrue(stages[1].Logits);
        Assert.AreEqual(1.0, stages[1].Error(output, target).item<float>());
        // Plainly: (1 + 4 + 9 + 75) / 2.
        Assert.IsFalse(stages[0].Logits);
        Assert.AreEqual(44.5, stages[0].Error(output, target).item<float>());
        var regression = ReconstructionStage.Of(new QuantizedMlp(QatTask.Regression, 1, new[] { new QuantizedLayer(2, 1, new float[2], new float[1]) }));
        Assert.IsFalse(regression[0].Logits, "one regression output: no shift to leave out");
    }

    [TestMethod]
    public void QuantizedNetwork_IsRefused_NamingWhatLearnedRoundingNeeds()
    {
        QuantizedMlp quantized = Quantize(FloatMlp.Value, Digits.Train, Options(4, PostTrainingRounding.Nearest));
        var e = Assert.ThrowsExactly<ArgumentException>(() => Quantize(quantized, Digits.Train, Options(4)));
        StringAssert.Contains(e.Message, "float network");
    }

    [TestMethod]
    [DataRow("WeightBits", 9)]
    [DataRow("ActivationBits", 1)]
    [DataRow("InputBits", 17)]
    [DataRow("CalibrationRows", 0)]
    [DataRow("Iterations", 0)]
    [DataRow("BatchSize", 0)]
    public void OptionOutOfRange_NamesTheOption(string name, int value)
    {
        var options = Options(4);
        typeof(LearnedRoundingOptions).GetProperty(name)!.SetValue(options, value);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Quantize(FloatMlp.Value, Digits.Train, options));
        Assert.AreEqual(name, e.ParamName);
    }

    [TestMethod]
    public void LayerWeightBits_OfTheWrongLength_NamesTheCount()
    {
        var options = Options(4);
        options.LayerWeightBits = new[] { 4, 4, 4 };
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Quantize(FloatMlp.Value, Digits.Train, options));
        StringAssert.Contains(e.Message, "2 for this network, got 3");
    }

    [TestMethod]
    public void CancelledToken_StopsWithOperationCanceled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var options = Options(2);
        options.CancellationToken = cancelled.Token;
        Assert.ThrowsExactly<OperationCanceledException>(() => Quantize(FloatMlp.Value, Digits.Train, options));
    }

    private static double Accuracy(QuantizedMlp network)
    {
        var outputs = new float[Digits.Test.Count * 10];
        network.ForwardBatch(Digits.Test.Features, outputs, 1);
        return Enumerable.Range(0, Digits.Test.Count).Count(i => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(outputs.AsSpan(i * 10, 10)) == (int)Digits.Test.Labels[i]) / (double)Digits.Test.Count;
    }
}
