using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class StraightThroughTests
{
    [TestMethod]
    [DataRow(ScalarType.Float32)]
    [DataRow(ScalarType.Float64)]
    public void StraightThrough_RoundsHalfToEven_GradientIsIdentity(ScalarType dtype)
    {
        var (value, gradient) = ValueAndGradient(Rounding.StraightThrough, Grid, dtype);
        double[] expected = Grid.Select(v => dtype == ScalarType.Float32 ? MathF.Round((float)v) : Math.Round(v)).ToArray();
        CollectionAssert.AreEqual(expected, value);
        CollectionAssert.AreEqual(Enumerable.Repeat(1.0, Grid.Length).ToArray(), gradient);
    }

    [TestMethod]
    public void StraightThrough_SpecialValues_PassThrough()
    {
        double[] special = { double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e300, -1e300, 1e-300, -1e-300, 4503599627370497.0 };
        var (value, gradient) = ValueAndGradient(Rounding.StraightThrough, special);
        Assert.IsTrue(double.IsNaN(value[0]));
        CollectionAssert.AreEqual(new[] { double.PositiveInfinity, double.NegativeInfinity, 1e300, -1e300, 0, -0.0, 4503599627370497.0 }, value[1..]);
        Assert.IsTrue(double.IsNegative(value[6]), "-1e-300 rounds to -0");
        CollectionAssert.AreEqual(Enumerable.Repeat(1.0, special.Length).ToArray(), gradient);
    }

    [TestMethod]
    [DataRow(ScalarType.Float32, 1_000_003)]
    [DataRow(ScalarType.Float64, 300_001)]
    [DataRow(ScalarType.Float32, 4096)]
    [DataRow(ScalarType.Float32, 13)]
    public void StraightThrough_FastKernel_EqualsLibTorchRound(ScalarType dtype, int n)
    {
        using var scope = NewDisposeScope();
        Tensor x = (randn(n, dtype: dtype, generator: new Generator(7)) * 100).round() / 4; // many exact ties
        Tensor y = Rounding.StraightThrough(x);
        TensorAssert.BitIdentical(x.round(), y);
    }

    [TestMethod]
    public void StraightThrough_NonContiguousAndHigherRank_TakeCompositePathWithSameResult()
    {
        using var scope = NewDisposeScope();
        Tensor x = (randn(new long[] { 3, 4, 5 }, generator: new Generator(3)) * 3).requires_grad_(true);
        Tensor t = x.transpose(0, 2);
        Assert.IsFalse(t.is_contiguous());
        Tensor y = Rounding.StraightThrough(t);
        CollectionAssert.AreEqual(new long[] { 5, 4, 3 }, y.shape);
        TensorAssert.BitIdentical(t.detach().round(), y);
        (y * 2).sum().backward();
        TensorAssert.BitIdentical(full_like(x, 2.0), x.grad!);
    }

    [TestMethod]
    public void StraightThrough_ScalarAndEmptyTensors()
    {
        using var scope = NewDisposeScope();
        Assert.AreEqual(2f, Rounding.StraightThrough(tensor(2.5f)).item<float>());
        Assert.AreEqual(0, Rounding.StraightThrough(empty(0)).numel());
    }

    [TestMethod]
    public void StraightThrough_IntegerTensor_IsRejected()
    {
        using var x = tensor(new long[] { 1, 2 });
        var e = Assert.ThrowsExactly<ArgumentException>(() => Rounding.StraightThrough(x));
        Assert.AreEqual("x", e.ParamName);
    }

    [TestMethod]
    public void Clipped_ClampsOutput_ZeroGradientOutside()
    {
        double[] x = { -5, -2.6, -2, -1.5, 0.4, 1.5, 2, 2.4, 3.7, double.NaN, double.PositiveInfinity };
        var (value, gradient) = ValueAndGradient(t => Rounding.StraightThroughClipped(t, -2, 2.4), x);
        AllClose(new[] { -2, -2, -2, -2, 0, 2, 2, 2, 2.4, double.NaN, 2.4 }, value, 0, "value");
        CollectionAssert.AreEqual(new double[] { 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0 }, gradient);
    }

    [TestMethod]
    public void Clipped_GradientCheck_AgainstClampSurrogate()
    {
        double[] points = { -3.3, -1.2, -0.6, 0.2, 0.7, 1.3, 2.9 };
        var result = GradientCheck.Run(t => Rounding.StraightThroughClipped(t, -2, 2), T(points), t => t.clamp(-2, 2));
        Assert.IsTrue(result.Passed(1e-6, 1e-6), result.ToString());
    }

    [TestMethod]
    public void Clipped_InvalidBounds_NameTheParameter()
    {
        using var x = zeros(3);
        Assert.AreEqual("max", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.StraightThroughClipped(x, 1, 0)).ParamName);
        Assert.AreEqual("min", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.StraightThroughClipped(x, double.NaN, 0)).ParamName);
        Assert.AreEqual("max", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.StraightThroughClipped(x, 0, double.PositiveInfinity)).ParamName);
    }

    [TestMethod]
    public void Modules_ForwardCallTheFunctions()
    {
        using var scope = NewDisposeScope();
        Tensor x = T(Grid);
        TensorAssert.BitIdentical(Rounding.StraightThrough(x), Rounding.Modules.StraightThrough().call(x));
        TensorAssert.BitIdentical(Rounding.StraightThroughClipped(x, -1, 1), Rounding.Modules.StraightThroughClipped(-1, 1).call(x));
    }
}
