using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class RoundDecimalsTests
{
    public static IEnumerable<object[]> AllDecimals => Enumerable.Range(-8, 17).Select(d => new object[] { d });

    [TestMethod]
    [DynamicData(nameof(AllDecimals))]
    public void ToEven_BitIdenticalToTorchRoundDecimals(int decimals)
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            Tensor magnitudes = pow(10.0, rand(20000, dtype: ScalarType.Float64, generator: new Generator((ulong)(decimals + 20))) * 16 - 8);
            Tensor signs = randint(0, 2, 20000, generator: new Generator(3)) * 2 - 1;
            Tensor x = (magnitudes * signs).to_type(dtype);
            Tensor ties = (arange(-50, 50, dtype: ScalarType.Float64) + 0.5) * Math.Pow(10, -decimals);
            x = cat(new[] { x, ties.to_type(dtype) });
            TensorAssert.BitIdentical(x.round(decimals), Rounding.RoundDecimals(x, decimals), $"decimals={decimals} {dtype}");
        }
    }

    [TestMethod]
    public void AwayFromZero_MatchesMathRound()
    {
        double[] xs = { 2.5, -2.5, 0.5, -0.5, 1.5, 0.49999999999999994, 12345.5, -7.25, 3.7 };
        var (value, _) = ValueAndGradient(x => Rounding.RoundDecimals(x, 0, MidpointRounding.AwayFromZero), xs);
        CollectionAssert.AreEqual(xs.Select(v => Math.Round(v, MidpointRounding.AwayFromZero)).ToArray(), value);
        // Scaled ties: 0.125 * 100 = 12.5 exactly.
        Assert.AreEqual(0.13, ValueAndGradient(x => Rounding.RoundDecimals(x, 2, MidpointRounding.AwayFromZero), new[] { 0.125 }).Value[0], 1e-15);
        Assert.AreEqual(0.12, ValueAndGradient(x => Rounding.RoundDecimals(x, 2), new[] { 0.125 }).Value[0], 1e-15);
        // Tens: 25 -> 30 (away) and 20 (to even).
        Assert.AreEqual(30, ValueAndGradient(x => Rounding.RoundDecimals(x, -1, MidpointRounding.AwayFromZero), new[] { 25.0 }).Value[0]);
        Assert.AreEqual(20, ValueAndGradient(x => Rounding.RoundDecimals(x, -1), new[] { 25.0 }).Value[0]);
    }

    [TestMethod]
    public void Overflow_ReturnsTheIntegerInputInsteadOfInfinity()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new[] { 1e37f, -3e38f, float.PositiveInfinity, float.NaN });
        Tensor torchResult = x.round(8);
        Assert.IsTrue(float.IsInfinity(F(torchResult)[0]), "LibTorch overflows");
        float[] ours = F(Rounding.RoundDecimals(x, 8));
        CollectionAssert.AreEqual(new[] { 1e37f, -3e38f, float.PositiveInfinity }, ours[..3]);
        Assert.IsTrue(float.IsNaN(ours[3]));
    }

    [TestMethod]
    public void Gradient_IsTheEstimatorsDerivativeAtTheScaledValue()
    {
        double[] xs = { 0.123, 0.1249, 0.131, 1.005 };
        var (_, ste) = ValueAndGradient(x => Rounding.RoundDecimals(x, 2), xs);
        CollectionAssert.AreEqual(new[] { 1.0, 1, 1, 1 }, ste);
        var estimator = RoundingGradient.SoftRound(3);
        var (_, soft) = ValueAndGradient(x => Rounding.RoundDecimals(x, 2, gradient: estimator), xs);
        using var scope = NewDisposeScope();
        AllClose(D(estimator.Derivative(T(xs) * 100)), soft, 1e-12, "soft round gradient");
        var result = GradientCheck.Run(x => Rounding.RoundDecimals(x, 2, gradient: estimator), T(xs), x => estimator.Surrogate(x * 100) / 100, 1e-8);
        Assert.IsTrue(result.Passed(1e-6, 1e-5), result.ToString());
    }

    [TestMethod]
    public void InvalidArguments_NameTheParameter()
    {
        using var x = zeros(2);
        Assert.AreEqual("decimals", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.RoundDecimals(x, 9)).ParamName);
        Assert.AreEqual("decimals", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.RoundDecimals(x, -9)).ParamName);
        Assert.AreEqual("midpoint", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.RoundDecimals(x, 2, MidpointRounding.ToZero)).ParamName);
        Assert.AreEqual("decimals", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.Modules.RoundDecimals(12)).ParamName);
    }
}
