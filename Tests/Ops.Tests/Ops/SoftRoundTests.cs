using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class SoftRoundTests
{
    public static IEnumerable<object[]> Alphas => new[] { 0, 1e-6, 1e-2, 5, 1e6 }.Select(a => new object[] { a });

    [TestMethod]
    [DynamicData(nameof(Alphas))]
    public void SoftRound_ValuesAndGradientsFinite_OnIntegersAndHalfIntegers(double alpha)
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var (value, gradient) = ValueAndGradient(x => Rounding.SoftRound(x, alpha), Grid, dtype);
            AllFinite(value, $"value alpha={alpha} {dtype}");
            AllFinite(gradient, $"gradient alpha={alpha} {dtype}");
            var (inverse, inverseGradient) = ValueAndGradient(y => Rounding.SoftRoundInverse(y, alpha), Grid, dtype);
            AllFinite(inverse, "inverse");
            AllFinite(inverseGradient, "inverse gradient");
            var (mean, meanGradient) = ValueAndGradient(y => Rounding.SoftRoundConditionalMean(y, alpha), Grid, dtype);
            AllFinite(mean, "conditional mean");
            AllFinite(meanGradient, "conditional mean gradient");
        }
    }

    [TestMethod]
    [DataRow(1e-2)]
    [DataRow(0.7)]
    [DataRow(5.0)]
    [DataRow(30.0)]
    public void SoftRound_MatchesPaperFormula(double alpha)
    {
        var (value, _) = ValueAndGradient(x => Rounding.SoftRound(x, alpha), Grid);
        AllClose(Grid.Select(v => SoftRoundReference(v, alpha)).ToArray(), value, 1e-12, "soft round");
    }

    [TestMethod]
    public void SoftRound_TinyAlpha_UsesSeriesAndMatchesHighPrecisionLimit()
    {
        // For alpha -> 0 the paper's formula loses digits; the series r (1 + a^2 (1/12 - r^2/3)) is exact to O(a^4).
        var (value, gradient) = ValueAndGradient(x => Rounding.SoftRound(x, 1e-6), Grid);
        AllClose(Grid, value, 1e-12, "value");
        AllClose(Enumerable.Repeat(1.0, Grid.Length).ToArray(), gradient, 1e-12, "gradient");
    }

    [TestMethod]
    public void SoftRound_ZeroAlpha_IsExactlyTheIdentity()
    {
        var (value, gradient) = ValueAndGradient(x => Rounding.SoftRound(x, 0), Grid, ScalarType.Float32);
        CollectionAssert.AreEqual(Grid.Select(v => (double)(float)v).ToArray(), value);
        CollectionAssert.AreEqual(Enumerable.Repeat(1.0, Grid.Length).ToArray(), gradient);
    }

    [TestMethod]
    public void SoftRound_LargeAlpha_IsRound_HalfIntegersAreFixedPoints()
    {
        var (value, gradient) = ValueAndGradient(x => Rounding.SoftRound(x, 1e6), Grid);
        for (int i = 0; i < Grid.Length; i++)
        {
            double x = Grid[i];
            bool tie = x - Math.Floor(x) == 0.5;
            if (!tie && Math.Abs(x - Math.Floor(x) - 0.5) < 1e-4)
            {
                continue; // within the transition width 1/alpha of a half-integer
            }

            Assert.AreEqual(tie ? x : Math.Round(x), value[i], 1e-9, $"x={x}");
            Assert.AreEqual(tie ? 5e5 : 0, gradient[i], tie ? 1 : 1e-9, $"gradient at x={x}");
        }
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(1e-6)]
    [DataRow(1e-2)]
    [DataRow(5.0)]
    public void SoftRound_GradientCheck(double alpha)
    {
        double[] points = { -2.3, -1.05, -0.7, -0.2, 0.05, 0.3, 0.6, 0.95, 1.4, 2.2 };
        Assert.IsTrue(GradientCheck.Run(x => Rounding.SoftRound(x, alpha), T(points)).Passed(1e-7, 1e-6));
        Assert.IsTrue(GradientCheck.Run(x => Rounding.SoftRoundInverse(x, alpha), T(points)).Passed(1e-7, 1e-6));
        Assert.IsTrue(GradientCheck.Run(x => Rounding.SoftRoundConditionalMean(x, alpha), T(points)).Passed(1e-7, 1e-6));
    }

    [TestMethod]
    public void SoftRound_HugeAlpha_GradientIsTheClosedForm()
    {
        // At alpha = 1e6 the derivative spikes to alpha/2 within 1e-6 of a half-integer, too narrow for finite
        // differences; it is checked against the closed form instead: d/dx = alpha / (2 tanh(alpha/2)) * sech^2(alpha r),
        // r = x - floor(x) - 1/2, at points inside and outside the spike.
        const double alpha = 1e6;
        double[] points = { 0.5, 0.5 + 2e-7, 0.5 - 1e-6, 1.5 + 3e-6, -0.5 - 5e-7, 0.3, 2.9, 0.5 + 5e-5 };
        var (_, gradient) = ValueAndGradient(x => Rounding.SoftRound(x, alpha), points);
        for (int i = 0; i < points.Length; i++)
        {
            double r = points[i] - Math.Floor(points[i]) - 0.5;
            double sech = 1 / Math.Cosh(alpha * r);
            double expected = alpha / (2 * Math.Tanh(alpha / 2)) * sech * sech;
            Assert.AreEqual(expected, gradient[i], (1e-6 * expected) + 1e-12, $"x={points[i]:R}"); // 1e-12: far outside the spike both are ~0
        }

        Assert.IsGreaterThan(1e5, gradient[1], "inside the spike the slope is of order alpha");
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(3.0)]
    [DataRow(12.0)]
    public void SoftRoundInverse_UndoesSoftRound(double alpha)
    {
        double[] points = { -2.3, -1.05, -0.7, -0.2, 0, 0.05, 0.3, 0.5, 0.6, 0.95, 1, 1.4, 2.2 };
        var (roundTrip, _) = ValueAndGradient(x => Rounding.SoftRoundInverse(Rounding.SoftRound(x, alpha), alpha), points);
        AllClose(points, roundTrip, 1e-9, "inverse(soft round(x))");
    }

    [TestMethod]
    public void SoftRoundConditionalMean_LimitsAreIdentityAndRound()
    {
        double[] points = { -1.3, -0.2, 0.3, 0.8, 1.7 };
        AllClose(points, ValueAndGradient(y => Rounding.SoftRoundConditionalMean(y, 1e-8), points).Value, 1e-12, "alpha -> 0");
        AllClose(points.Select(v => Math.Round(v)).ToArray(), ValueAndGradient(y => Rounding.SoftRoundConditionalMean(y, 1e5), points).Value, 1e-4, "alpha large");
    }

    [TestMethod]
    public void SoftRound_SpecialValues()
    {
        double[] special = { double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e300, 3e38 };
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var (value, gradient) = ValueAndGradient(x => Rounding.SoftRound(x, 5), special, dtype);
            Assert.IsTrue(double.IsNaN(value[0]));
            Assert.AreEqual(double.PositiveInfinity, value[1]);
            Assert.AreEqual(double.NegativeInfinity, value[2]);
            Assert.AreEqual(0, gradient[1]);
            Assert.AreEqual(0, gradient[2]);
            Assert.AreEqual(dtype == ScalarType.Float32 ? double.PositiveInfinity : 1e300, value[3]);
        }
    }

    [TestMethod]
    public void SoftRound_InvalidAlpha_NamesParameter()
    {
        using var x = zeros(2);
        foreach (double bad in new[] { -1, double.NaN, double.PositiveInfinity, 1e31 })
        {
            Assert.AreEqual("alpha", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.SoftRound(x, bad)).ParamName);
            Assert.AreEqual("alpha", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.SoftRoundInverse(x, bad)).ParamName);
        }
    }

    [TestMethod]
    [DataRow(4.0)]
    [DataRow(1e6)]
    public void SoftRoundEstimator_HardForward_GradientIsSoftRoundDerivative(double alpha)
    {
        // The estimator's backward is its own closed-form derivative (not autograd through soft round); at 1e6 it is
        // checked on points inside and outside the spike at half-integers too.
        double[] points = Grid.Concat(new[] { 0.5 + 2e-7, 1.5 - 1e-6, -0.5 + 5e-7 }).ToArray();
        var estimator = RoundingGradient.SoftRound(alpha);
        var (value, gradient) = ValueAndGradient(estimator.Round, points);
        CollectionAssert.AreEqual(points.Select(v => Math.Round(v, MidpointRounding.ToEven)).ToArray(), value);
        var (_, softGradient) = ValueAndGradient(x => Rounding.SoftRound(x, alpha), points);
        for (int i = 0; i < points.Length; i++)
        {
            Assert.AreEqual(softGradient[i], gradient[i], (1e-9 * Math.Abs(softGradient[i])) + 1e-12, $"x={points[i]:R}");
        }
    }

    [TestMethod]
    public void Module_FollowsItsHardness()
    {
        using var scope = NewDisposeScope();
        var module = Rounding.Modules.SoftRound(0);
        Tensor x = T(new[] { 0.3, 1.2 });
        TensorAssert.BitIdentical(x, module.call(x));
        new HardnessSchedule(ScheduleCurve.Linear, 0, 10, 10).Apply(module, 5);
        Assert.AreEqual(5, module.Hardness);
        TensorAssert.BitIdentical(Rounding.SoftRound(x, 5), module.call(x));
    }
}
