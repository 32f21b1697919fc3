using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class SigmoidRoundTests
{
    // The normalised sigmoid staircase in double, written with sigmoids (not through soft round).
    private static double Reference(double x, double k)
    {
        double f = Math.Floor(x), r = x - f;
        return f + (Sigma(k * (r - 0.5)) - Sigma(-k / 2)) / (Sigma(k / 2) - Sigma(-k / 2));
    }

    // The widely copied snippet, for contrast.
    private static double Snippet(double x, double k) => Sigma(k * (x - Math.Round(x))) + Math.Round(x) - 0.5;

    [TestMethod]
    [DataRow(0.1)]
    [DataRow(2.0)]
    [DataRow(10.0)]
    [DataRow(50.0)]
    public void Sigmoid_MatchesNormalisedSigmoidStaircase(double k)
    {
        var (value, _) = ValueAndGradient(x => Rounding.Sigmoid(x, k), Grid);
        AllClose(Grid.Select(v => Reference(v, k)).ToArray(), value, 1e-10, $"k={k}");
    }

    [TestMethod]
    [DataRow(1.0)]
    [DataRow(20.0)]
    [DataRow(1000.0)]
    public void Sigmoid_IsContinuousAndMonotone(double k)
    {
        double[] xs = Enumerable.Range(0, 4001).Select(i => -2 + i * 0.001).ToArray();
        double[] y = ValueAndGradient(x => Rounding.Sigmoid(x, k), xs).Value;
        double maxSlope = k / 4 / Math.Tanh(k / 4); // the derivative peaks at half-integers
        for (int i = 1; i < xs.Length; i++)
        {
            Assert.IsGreaterThanOrEqualTo(y[i - 1] - 1e-12, y[i], $"not monotone at {xs[i]}");
            Assert.IsLessThanOrEqualTo(maxSlope * 0.001 * 1.0001 + 1e-12, y[i] - y[i - 1], $"jump at {xs[i]}");
        }
    }

    [TestMethod]
    public void Snippet_JumpsAtHalfIntegers_OursDoesNot()
    {
        const double k = 1, eps = 1e-9;
        foreach (double half in new[] { -1.5, -0.5, 0.5, 1.5 })
        {
            double snippetJump = Math.Abs(Snippet(half + eps, k) - Snippet(half - eps, k));
            Assert.AreEqual(2 * Sigma(-k / 2), snippetJump, 1e-6, "the snippet jumps by 2 sigma(-k/2)");
            double[] ours = ValueAndGradient(x => Rounding.Sigmoid(x, k), new[] { half - eps, half + eps }).Value;
            Assert.IsLessThan(1e-8, Math.Abs(ours[1] - ours[0]));
        }
    }

    [TestMethod]
    public void Sigmoid_Limits_IdentityAtSmallK_RoundAtLargeK_SnippetOffsetByHalf()
    {
        double[] xs = { -1.3, -0.7, -0.2, 0.2, 0.6, 1.2, 1.9 };
        AllClose(xs, ValueAndGradient(x => Rounding.Sigmoid(x, 1e-7), xs).Value, 1e-12, "k -> 0");
        AllClose(xs.Select(v => Math.Round(v)).ToArray(), ValueAndGradient(x => Rounding.Sigmoid(x, 1e4), xs).Value, 1e-12, "k large");
        // The snippet converges to round(x) - 1/2 for x below the integer and round(x) + 1/2 above: not round(x).
        Assert.AreEqual(Math.Round(0.2) + 0.5, Snippet(0.2, 1e4), 1e-9);
    }

    [TestMethod]
    public void Sigmoid_HardMode_ForwardRounds_GradientOfSoftCurve()
    {
        var (value, gradient) = ValueAndGradient(x => Rounding.Sigmoid(x, 6, hard: true), Grid, ScalarType.Float32);
        CollectionAssert.AreEqual(Grid.Select(v => (double)MathF.Round((float)v)).ToArray(), value);
        var (_, softGradient) = ValueAndGradient(x => Rounding.Sigmoid(x, 6), Grid, ScalarType.Float32);
        AllClose(softGradient, gradient, 1e-6, "hard-mode gradient");
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(1e-6)]
    [DataRow(1e-2)]
    [DataRow(5.0)]
    public void Sigmoid_GradientChecks(double k)
    {
        double[] points = { -1.7, -0.6, -0.1, 0.2, 0.45, 0.8, 1.3 };
        Assert.IsTrue(GradientCheck.Run(x => Rounding.Sigmoid(x, k), T(points)).Passed(1e-7, 1e-6), "soft");
        var estimator = RoundingGradient.Sigmoid(k);
        Assert.IsTrue(GradientCheck.Run(x => Rounding.Sigmoid(x, k, hard: true), T(points), estimator.Surrogate).Passed(1e-7, 1e-6), "hard");
    }

    [TestMethod]
    public void Sigmoid_ExtremeK_FiniteEverywhere()
    {
        foreach (double k in new[] { 0, 1e-6, 1e6, 1e30 })
        {
            foreach (bool hard in new[] { false, true })
            {
                var (value, gradient) = ValueAndGradient(x => Rounding.Sigmoid(x, k, hard), Grid, ScalarType.Float32);
                AllFinite(value, $"k={k}");
                AllFinite(gradient, $"k={k} gradient");
            }
        }
    }

    [TestMethod]
    public void Sigmoid_InvalidK_NamesParameter()
    {
        using var x = zeros(2);
        Assert.AreEqual("k", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.Sigmoid(x, -0.1)).ParamName);
        Assert.AreEqual("k", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.Modules.Sigmoid(double.NaN)).ParamName);
    }
}
