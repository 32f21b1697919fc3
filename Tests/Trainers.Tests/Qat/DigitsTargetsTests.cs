using Microsoft.ML;
namespace MlRounding.Trainers.Tests.Qat;

/// <summary>
/// The accuracy targets on the bundled digits split (see <see cref="Digits"/>, 360 test rows: one row is 0.28 points)
/// with the trainer's defaults and the 128-64 network, scored by the plain C# scorer, against ML.NET's
/// <c>SdcaMaximumEntropy</c> trained in the same run on the same features (the best of ML.NET's multiclass trainers on
/// this split, <c>BuiltInPeerTests</c>). Each measured value is printed; README quotes them.
/// </summary>
[TestClass, TestCategory(TestLanes.Slow)]
public sealed class DigitsTargetsTests
{
    /// <summary>SdcaMaximumEntropy on the same rows and features (pixel counts / 16), seeded.</summary>
    private static readonly Lazy<double> BuiltInPeer = new(() =>
    {
        var ml = new Microsoft.ML.MLContext(seed: 1);
        Microsoft.ML.IDataView View(QatData data) => ml.Data.LoadFromEnumerable(Enumerable.Range(0, data.Count).Select(i => new PeerRow
        {
            Features = data.Features.AsSpan(i * data.FeatureCount, data.FeatureCount).ToArray(),
            Label = (uint)data.Labels[i] + 1,
        }));
        var model = ml.MulticlassClassification.Trainers.SdcaMaximumEntropy().Fit(View(Digits.Train));
        double accuracy = ml.MulticlassClassification.Evaluate(model.Transform(View(Digits.Test))).MicroAccuracy;
        Console.WriteLine($"SdcaMaximumEntropy: {accuracy:P2}");
        return accuracy;
    });

    /// <summary>The seeds each target is judged on: a target compares means over them, not one seed's 360 rows.</summary>
    private static readonly int[] Seeds = { 1, 2, 3 };

    private static double Accuracy(QatMode mode, int weightBits, int activationBits = 8, QatQuantizer estimator = QatQuantizer.LearnedStepSize, int[]? hidden = null, int seed = 1)
    {
        double accuracy = Digits.Accuracy(QatTraining.Train(Digits.Train, 10, new QatOptions
        {
            Mode = mode, WeightBits = weightBits, ActivationBits = activationBits, Quantizer = estimator, NumberOfThreads = 1, HiddenLayers = hidden ?? new[] { 128, 64 }, Seed = seed,
        }), Digits.Test);
        Console.WriteLine($"{mode} W{weightBits}A{activationBits} {estimator} {string.Join("-", hidden ?? new[] { 128, 64 })} seed {seed}: {accuracy:P2}");
        return accuracy;
    }

    /// <summary>The mean accuracy over <see cref="Seeds"/>.</summary>
    private static double Mean(QatMode mode, int weightBits, int activationBits = 8, int[]? hidden = null) =>
        Seeds.Average(seed => Accuracy(mode, weightBits, activationBits, hidden: hidden, seed: seed));

    private static readonly Lazy<double> FloatAccuracy = new(() => Mean(QatMode.Float, 32, 32));

    private sealed class PeerRow
    {
        [Microsoft.ML.Data.VectorType(64)]
        public float[] Features { get; set; } = Array.Empty<float>();

        [Microsoft.ML.Data.KeyType(10)]
        public uint Label { get; set; }
    }

    [TestMethod]
    public void Float_WithinOnePointOfTheBestBuiltInTrainer()
    {
        Assert.IsGreaterThanOrEqualTo(BuiltInPeer.Value - 0.01, FloatAccuracy.Value);
    }

    [TestMethod]
    public void W8A8_WithinHalfAPointOfFloat()
    {
        Assert.IsGreaterThanOrEqualTo(FloatAccuracy.Value - 0.005, Mean(QatMode.QuantizationAware, 8), "means over seeds 1-3");
    }

    [TestMethod]
    public void W4A8_WithinOnePointOfFloat()
    {
        Assert.IsGreaterThanOrEqualTo(FloatAccuracy.Value - 0.01, Mean(QatMode.QuantizationAware, 4), "means over seeds 1-3");
    }

    [TestMethod]
    public void W2A8_TwentyPointsAbovePostTrainingQuantization()
    {
        double qat = Mean(QatMode.QuantizationAware, 2);
        double ptq = Mean(QatMode.PostTraining, 2);
        Assert.IsGreaterThanOrEqualTo(ptq + 0.20, qat, $"means over seeds 1-3: QAT {qat:P2} vs PTQ {ptq:P2}");
    }

    /// <summary>The smaller 64-32 network meets every target too (means over seeds 1-3).</summary>
    [TestMethod]
    public void SmallerNetwork_MeetsEveryTarget()
    {
        int[] small = { 64, 32 };
        double fp = Mean(QatMode.Float, 32, 32, hidden: small);
        Assert.IsGreaterThanOrEqualTo(BuiltInPeer.Value - 0.01, fp, "float within 1 point of the best built-in trainer");
        Assert.IsGreaterThanOrEqualTo(fp - 0.005, Mean(QatMode.QuantizationAware, 8, hidden: small), "W8A8 within half a point");
        Assert.IsGreaterThanOrEqualTo(fp - 0.01, Mean(QatMode.QuantizationAware, 4, hidden: small), "W4A8 within one point");
        double qat2 = Mean(QatMode.QuantizationAware, 2, hidden: small), ptq2 = Mean(QatMode.PostTraining, 2, hidden: small);
        Assert.IsGreaterThanOrEqualTo(ptq2 + 0.20, qat2, $"W2A8: QAT {qat2:P2} vs PTQ {ptq2:P2}");
    }

    [TestMethod]
    [DataRow(QatQuantizer.StraightThrough)]
    [DataRow(QatQuantizer.Sigmoid)]
    [DataRow(QatQuantizer.Softmax)]
    [DataRow(QatQuantizer.FiniteDifference)]
    [DataRow(QatQuantizer.SoftRound)]
    [DataRow(QatQuantizer.Noise)]
    public void EveryGradient_TrainsAW4A8Network(QatQuantizer estimator)
    {
        // One seed against a floor far below what these reach (96-98 %): the margin is over ten rows of the 360.
        Assert.IsGreaterThanOrEqualTo(0.94, Accuracy(QatMode.QuantizationAware, 4, 8, estimator), estimator.ToString());
    }

    [TestMethod]
    public void BinaryWeights_Train()
    {
        // One seed against a floor far below what W1A8 reaches (about 97 %): the margin is over ten rows of the 360.
        Assert.IsGreaterThanOrEqualTo(0.94, Accuracy(QatMode.QuantizationAware, 1));
    }
}
