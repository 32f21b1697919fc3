namespace MlRounding.Trainers.Tests.Qat;

/// <summary>
/// The accuracy targets on the bundled digits split (see <see cref="Digits"/>) with the default network (128-64 hidden),
/// scored by the plain C# scorer. Measured on 2026-11-26 (seed 1): float 97.50 %, QAT W8A8 97.78 %, W4A8 97.78 %,
/// W2A8 96.11 %, PTQ W2A8 66.67 %; ML.NET's best built-in multiclass trainer (SdcaMaximumEntropy) 96.67 %.
/// </summary>
[TestClass]
public sealed class DigitsTargetsTests
{
    /// <summary>SdcaMaximumEntropy on the same split, the best of ML.NET's multiclass trainers there (<c>BuiltInPeerTests</c>).</summary>
    private const double BestBuiltIn = 0.9667;

    private static double Accuracy(QatMode mode, int weightBits, int activationBits = 8, QatGradient estimator = QatGradient.LearnedStepSize, int[]? hidden = null) =>
        Digits.Accuracy(QatTraining.Train(Digits.Train, 10, new QatOptions
        {
            Mode = mode, WeightBits = weightBits, ActivationBits = activationBits, Gradient = estimator, NumberOfThreads = 2, HiddenLayers = hidden ?? new QatOptions().HiddenLayers,
        }), Digits.Test);

    private static readonly Lazy<double> FloatAccuracy = new(() => Accuracy(QatMode.Float, 32, 32));

    [TestMethod]
    public void Float_WithinOnePointOfTheBestBuiltInTrainer()
    {
        Assert.IsGreaterThanOrEqualTo(BestBuiltIn - 0.01, FloatAccuracy.Value);
    }

    [TestMethod]
    public void W8A8_WithinHalfAPointOfFloat()
    {
        Assert.IsGreaterThanOrEqualTo(FloatAccuracy.Value - 0.005, Accuracy(QatMode.QuantizationAware, 8));
    }

    [TestMethod]
    public void W4A8_WithinOnePointOfFloat()
    {
        Assert.IsGreaterThanOrEqualTo(FloatAccuracy.Value - 0.01, Accuracy(QatMode.QuantizationAware, 4));
    }

    [TestMethod]
    public void W2A8_TwentyPointsAbovePostTrainingQuantization()
    {
        double qat = Accuracy(QatMode.QuantizationAware, 2);
        double ptq = Accuracy(QatMode.PostTraining, 2);
        Assert.IsGreaterThanOrEqualTo(ptq + 0.20, qat, $"QAT {qat:P2} vs PTQ {ptq:P2}");
    }

    /// <summary>
    /// The smaller 64-32 network meets every target too (measured: float 97.50 %, W8A8 97.22 %, W4A8 97.22 %, W2A8
    /// 96.39 %, PTQ W2A8 58.89 %).
    /// </summary>
    [TestMethod]
    public void SmallerNetwork_MeetsEveryTarget()
    {
        int[] small = { 64, 32 };
        double fp = Accuracy(QatMode.Float, 32, 32, hidden: small);
        Assert.IsGreaterThanOrEqualTo(BestBuiltIn - 0.01, fp, "float within 1 point of the best built-in trainer");
        Assert.IsGreaterThanOrEqualTo(fp - 0.005, Accuracy(QatMode.QuantizationAware, 8, hidden: small), "W8A8 within half a point");
        Assert.IsGreaterThanOrEqualTo(fp - 0.01, Accuracy(QatMode.QuantizationAware, 4, hidden: small), "W4A8 within one point");
        double qat2 = Accuracy(QatMode.QuantizationAware, 2, hidden: small), ptq2 = Accuracy(QatMode.PostTraining, 2, hidden: small);
        Assert.IsGreaterThanOrEqualTo(ptq2 + 0.20, qat2, $"W2A8: QAT {qat2:P2} vs PTQ {ptq2:P2}");
    }

    [TestMethod]
    [DataRow(QatGradient.StraightThrough)]
    [DataRow(QatGradient.Sigmoid)]
    [DataRow(QatGradient.Softmax)]
    [DataRow(QatGradient.FiniteDifference)]
    [DataRow(QatGradient.SoftRound)]
    [DataRow(QatGradient.Noise)]
    public void EveryGradient_TrainsAW4A8Network(QatGradient estimator)
    {
        Assert.IsGreaterThanOrEqualTo(0.94, Accuracy(QatMode.QuantizationAware, 4, 8, estimator), estimator.ToString());
    }

    [TestMethod]
    public void BinaryWeights_Train()
    {
        Assert.IsGreaterThanOrEqualTo(0.94, Accuracy(QatMode.QuantizationAware, 1));
    }
}
