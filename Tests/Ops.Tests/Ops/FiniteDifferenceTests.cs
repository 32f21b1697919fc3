using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class FiniteDifferenceTests
{
    private static double Expected(double x, double h) => (Math.Floor(x + h + 0.5) - Math.Floor(x - h + 0.5)) / (2 * h);

    [TestMethod]
    [DataRow(0.1)]
    [DataRow(0.3)]
    [DataRow(0.75)]
    [DataRow(2.0)]
    public void FiniteDifference_ForwardRounds_BackwardIsCentralDifference(double h)
    {
        var (value, gradient) = ValueAndGradient(x => Rounding.FiniteDifference(x, h), Grid);
        CollectionAssert.AreEqual(Grid.Select(v => Math.Round(v)).ToArray(), value);
        AllClose(Grid.Select(v => Expected(v, h)).ToArray(), gradient, 1e-15, $"h={h}");
    }

    [TestMethod]
    public void FiniteDifference_HalfWidthOneHalf_IsStraightThrough_EvenAtTies()
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var (_, gradient) = ValueAndGradient(x => Rounding.FiniteDifference(x, 0.5), Grid, dtype);
            CollectionAssert.AreEqual(Enumerable.Repeat(1.0, Grid.Length).ToArray(), gradient);
        }
    }

    [TestMethod]
    public void FiniteDifference_NeverNaNOrInfinite()
    {
        double[] inputs = Grid.Concat(new[] { 1e30, -1e30, 3e38, double.NaN, double.PositiveInfinity }).ToArray();
        foreach (double h in new[] { 1e-30, 1e-6, 0.25, 1, 1e30 })
        {
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            {
                AllFinite(ValueAndGradient(x => Rounding.FiniteDifference(x, h), inputs, dtype).Gradient, $"h={h} {dtype}");
            }
        }
    }

    [TestMethod]
    public void FiniteDifference_GradientCheck_AgainstBoxFilteredStaircase()
    {
        // Points kept away from the kinks x = n - 1/2 +- h of the box-filtered staircase.
        double[] points = { -1.62, -0.6, -0.1, 0.2, 0.45, 0.85, 1.33 };
        foreach (double h in new[] { 0.15, 0.5, 1.2 })
        {
            var estimator = RoundingGradient.FiniteDifference(h);
            Assert.IsTrue(GradientCheck.Run(x => Rounding.FiniteDifference(x, h), T(points), estimator.Surrogate).Passed(1e-7, 1e-6), $"h={h}");
        }
    }

    [TestMethod]
    public void FiniteDifference_InvalidH_NamesParameter()
    {
        using var x = zeros(2);
        foreach (double bad in new[] { 0, -0.5, double.NaN, double.PositiveInfinity, 1e31 })
        {
            Assert.AreEqual("h", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.FiniteDifference(x, bad)).ParamName);
        }
    }

    [TestMethod]
    public void Module_UsesItsHalfWidth()
    {
        var module = Rounding.Modules.FiniteDifference(0.3);
        var (_, gradient) = ValueAndGradient(module.call, Grid);
        AllClose(Grid.Select(v => Expected(v, 0.3)).ToArray(), gradient, 1e-15, "module");
    }
}
