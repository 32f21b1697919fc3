using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class SoftmaxRoundTests
{
    public static IEnumerable<object[]> Betas => new[] { 1e-2, 0.3, 1.0, 3.0, Math.PI * 0.999999, Math.PI, 4.0, 10.0, 50.0 }.Select(b => new object[] { b });

    [TestMethod]
    [DynamicData(nameof(Betas))]
    public void Softmax_MatchesBruteForceSumOverIntegers(double beta)
    {
        var (value, _) = ValueAndGradient(x => Rounding.Softmax(x, beta), Grid);
        AllClose(Grid.Select(v => SoftmaxReference(v, beta)).ToArray(), value, 1e-12, $"beta={beta}");
    }

    [TestMethod]
    [DynamicData(nameof(Betas))]
    public void Softmax_AnalyticDerivative_EqualsAutogradOfSoftForm(double beta)
    {
        var (_, autogradGradient) = ValueAndGradient(x => Rounding.Softmax(x, beta), Grid);
        using var scope = NewDisposeScope();
        double[] analytic = D(Rounding.SoftmaxDerivative(T(Grid), beta));
        AllClose(autogradGradient, analytic, 1e-10, "derivative");
        Assert.IsTrue(analytic.All(d => d >= 0), "monotone: dy/dx = 2 beta Var >= 0");
    }

    [TestMethod]
    public void Softmax_BothRegimesAgreeAtTheCrossover()
    {
        using var scope = NewDisposeScope();
        Tensor r = T(Enumerable.Range(0, 101).Select(i => i / 100.0 * 0.999).ToArray());
        foreach (double beta in new[] { 2.0, Math.PI, 5.0 })
        {
            AllClose(D(Rounding.SoftmaxDirect(r, beta)), D(Rounding.SoftmaxTheta(r, beta)), 1e-13, $"beta={beta}");
        }
    }

    [TestMethod]
    public void Softmax_WeightsFavourTheNearerInteger_ConvergesToRound()
    {
        // 0.2 is nearer to 0: the average must sit below 0.5 and approach 0 as beta grows.
        double previous = 0.2;
        foreach (double beta in new[] { 1.0, 4.0, 16.0, 64.0 })
        {
            double y = ValueAndGradient(x => Rounding.Softmax(x, beta), new[] { 0.2 }).Value[0];
            Assert.IsLessThan(previous, y);
            previous = y;
        }

        Assert.AreEqual(0, previous, 1e-9);
        double[] xs = { -1.3, -0.7, 0.2, 0.6, 1.9 };
        AllClose(xs.Select(v => Math.Round(v)).ToArray(), ValueAndGradient(x => Rounding.Softmax(x, 1e6), xs).Value, 1e-12, "beta large");
        AllClose(xs, ValueAndGradient(x => Rounding.Softmax(x, 1e-3), xs).Value, 1e-12, "beta small");
    }

    [TestMethod]
    public void Softmax_IsContinuousAcrossIntegersAndPeriodic()
    {
        const double eps = 1e-12;
        foreach (double beta in new[] { 0.5, 3.0, 8.0 })
        {
            foreach (double n in new[] { -2.0, 0, 1, 3 })
            {
                double[] y = ValueAndGradient(x => Rounding.Softmax(x, beta), new[] { n - eps, n, n + eps, n + 0.3, n + 1.3 }).Value;
                Assert.AreEqual(y[1], y[0], 1e-10);
                Assert.AreEqual(y[1], y[2], 1e-10);
                Assert.AreEqual(y[3] + 1, y[4], 1e-12, "y(x + 1) = y(x) + 1");
            }
        }
    }

    [TestMethod]
    public void Softmax_HardMode_ForwardRounds_GradientOfSoftForm()
    {
        var (value, gradient) = ValueAndGradient(x => Rounding.Softmax(x, 2.5, hard: true), Grid);
        CollectionAssert.AreEqual(Grid.Select(v => Math.Round(v)).ToArray(), value);
        AllClose(ValueAndGradient(x => Rounding.Softmax(x, 2.5), Grid).Gradient, gradient, 1e-10, "gradient");
    }

    [TestMethod]
    public void Softmax_GradientChecks_AndFiniteForExtremeBeta()
    {
        double[] points = { -1.7, -0.6, -0.1, 0.2, 0.45, 0.8, 1.3 };
        foreach (double beta in new[] { 0, 1e-6, 0.5, 5 })
        {
            Assert.IsTrue(GradientCheck.Run(x => Rounding.Softmax(x, beta), T(points)).Passed(1e-7, 1e-6), $"soft beta={beta}");
            Assert.IsTrue(GradientCheck.Run(x => Rounding.Softmax(x, beta, true), T(points), RoundingGradient.Softmax(beta).Surrogate).Passed(1e-7, 1e-6), $"hard beta={beta}");
        }

        foreach (double beta in new[] { 0, 1e-6, 1e6, 1e30 })
        {
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            {
                var (value, gradient) = ValueAndGradient(x => Rounding.Softmax(x, beta), Grid, dtype);
                AllFinite(value, $"beta={beta}");
                AllFinite(gradient, $"beta={beta} gradient");
            }
        }
    }

    [TestMethod]
    public void Softmax_SpecialValues_PassThroughWithZeroGradient()
    {
        var (value, gradient) = ValueAndGradient(x => Rounding.Softmax(x, 2), new[] { double.NaN, double.NegativeInfinity, 0.25 });
        Assert.IsTrue(double.IsNaN(value[0]));
        Assert.AreEqual(double.NegativeInfinity, value[1]);
        CollectionAssert.AreEqual(new[] { 0.0, 0.0 }, gradient[..2]);
        Assert.IsTrue(double.IsFinite(gradient[2]));
    }

    [TestMethod]
    public void Softmax_InvalidBeta_NamesParameter()
    {
        using var x = zeros(2);
        Assert.AreEqual("beta", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.Softmax(x, -1)).ParamName);
        Assert.AreEqual("beta", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => RoundingGradient.Softmax(double.NaN)).ParamName);
    }
}
