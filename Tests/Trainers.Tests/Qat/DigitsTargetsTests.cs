namespace MlRounding.Trainers.Tests.Qat;

/// <summary>
/// The accuracy targets on the bundled digits split (see <see cref="Digits"/>), scored by the plain C# scorer.
/// Numbers measured on 2026-11-26: float 96.67 %, QAT W8A8 96.94 %, W4A8 96.67 %, W2A8 96.11 %, PTQ W2A8 77.78 %.
/// </summary>
[TestClass]
public sealed class DigitsTargetsTests
{
    private static double Accuracy(QatMode mode, int weightBits, int activationBits = 8, QatEstimator estimator = QatEstimator.LearnedStepSize) =>
        Digits.Accuracy(QatTraining.Train(Digits.Train, 10, new QatOptions { Mode = mode, WeightBits = weightBits, ActivationBits = activationBits, Estimator = estimator, NumberOfThreads = 2 }), Digits.Test);

    private static readonly Lazy<double> FloatAccuracy = new(() => Accuracy(QatMode.Float, 32, 32));

    [TestMethod]
    public void Float_IsAStrongBaseline()
    {
        Assert.IsGreaterThanOrEqualTo(0.95, FloatAccuracy.Value);
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
    public void W2A8_FarAbovePostTrainingQuantization()
    {
        double qat = Accuracy(QatMode.QuantizationAware, 2);
        double ptq = Accuracy(QatMode.PostTraining, 2);
        Assert.IsGreaterThanOrEqualTo(ptq + 0.15, qat, $"QAT {qat:P2} vs PTQ {ptq:P2}");
        Assert.IsGreaterThanOrEqualTo(FloatAccuracy.Value - 0.01, qat);
    }

    [TestMethod]
    [DataRow(QatEstimator.StraightThrough)]
    [DataRow(QatEstimator.Sigmoid)]
    [DataRow(QatEstimator.Softmax)]
    [DataRow(QatEstimator.FiniteDifference)]
    [DataRow(QatEstimator.SoftRound)]
    [DataRow(QatEstimator.Noise)]
    public void EveryEstimator_TrainsAW4A8Network(QatEstimator estimator)
    {
        Assert.IsGreaterThanOrEqualTo(0.94, Accuracy(QatMode.QuantizationAware, 4, 8, estimator), estimator.ToString());
    }

    [TestMethod]
    public void BinaryWeights_Train()
    {
        Assert.IsGreaterThanOrEqualTo(0.94, Accuracy(QatMode.QuantizationAware, 1));
    }
}
