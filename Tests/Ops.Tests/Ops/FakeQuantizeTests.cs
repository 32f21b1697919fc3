using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class FakeQuantizeTests
{
    public static IEnumerable<object[]> Grids => new[]
    {
        new object[] { 8, false, false, 0.05, 128L },
        new object[] { 8, true, false, 0.02, 0L },
        new object[] { 8, true, true, 0.02, 0L },
        new object[] { 4, false, false, 0.3, 3L },
        new object[] { 2, true, false, 0.5, 0L },
        new object[] { 16, false, false, 1e-4, 30000L },
        new object[] { 3, false, true, 0.7, 1L },
    };

    /// <summary>Random values plus exact grid points, their midpoints and both ends of the range.</summary>
    private static Tensor Inputs(double scale, long zero, QuantizationRange range, long n, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        double lo = (range.Min - zero - 3) * scale, hi = (range.Max - zero + 3) * scale;
        Tensor random = rand(n, dtype: ScalarType.Float64, generator: new Generator(42)) * (hi - lo) + lo;
        Tensor codes = arange(range.Min - 2, range.Max + 3, dtype: ScalarType.Float64);
        Tensor grid = (codes - zero) * scale;
        Tensor midpoints = grid + scale / 2;
        return cat(new[] { random, grid, midpoints, -midpoints }).to_type(dtype).MoveToOuterDisposeScope();
    }

    [TestMethod]
    [DynamicData(nameof(Grids))]
    public void FakeQuantize_Float32_BitIdenticalToLibTorch_ValueAndGradient(int bits, bool signed, bool narrow, double scale, long zero)
    {
        using var scope = NewDisposeScope();
        var range = QuantizationRange.FromBits(bits, signed, narrow);
        Tensor x = Inputs(scale, zero, range, 300_000).requires_grad_(true);
        Tensor ours = Rounding.FakeQuantize(x, scale, zero, range);
        Tensor xr = x.detach().clone().requires_grad_(true);
        Tensor theirs = LibTorchReference.FakeQuantize(xr, scale, zero, range.Min, range.Max);
        TensorAssert.BitIdentical(theirs, ours, "forward");
        Tensor seed = randn(x.shape, generator: new Generator(1));
        ours.backward(new[] { seed });
        theirs.backward(new[] { seed });
        TensorAssert.BitIdentical(xr.grad!, x.grad!, "gradient");
    }

    public static IEnumerable<object[]> WideGrids => new[]
    {
        new object[] { 0.05, 128L, 0L, 255L },
        new object[] { 1e-3, 0L, -128L, 127L },
        new object[] { 3.7, -5L, -8L, 7L },
        new object[] { 0.00000095367431640625, 7L, 0L, 15L }, // 2^-20: products are exact
        new object[] { 1234.5, 30000L, 0L, 65535L },
    };

    /// <summary>
    /// The promise's whole range for one grid: ±s·2^e for e up to 62.75 (so |x/s| stays below 2^63), ±0, subnormals and
    /// the smallest normals, and 12,000 ties x = (k + ½)·s over codes from far below to far above the grid, each with
    /// the values one ulp either side.
    /// </summary>
    private static float[] WholeRange(double scale, long zero, long qmin, long qmax)
    {
        var values = new List<float> { 0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, 1.17549435e-38f, -1.17549435e-38f };
        for (double e = 0; e <= 62.75; e += 0.25)
        {
            float x = (float)(scale * Math.Pow(2, e));
            if (Math.Abs((double)x / scale) < 9.2e18)
            {
                values.Add(x);
                values.Add(-x);
            }
        }

        var random = new Random(7);
        for (int i = 0; i < 12_000; i++)
        {
            // Half the ties around the grid's own codes, half anywhere up to 2^40 codes away.
            long k = i % 2 == 0 ? random.NextInt64(qmin - zero - 40, qmax - zero + 40) : (long)(random.NextDouble() * 2e12) - 1_000_000_000_000;
            float tie = (float)((k + 0.5) * scale);
            values.Add(tie);
            values.Add(MathF.BitIncrement(tie));
            values.Add(MathF.BitDecrement(tie));
        }

        return values.ToArray();
    }

    [TestMethod]
    [DynamicData(nameof(WideGrids))]
    public void FakeQuantize_Float32_WholePromisedRange_BitIdenticalToLibTorch(double scale, long zero, long qmin, long qmax)
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(WholeRange(scale, zero, qmin, qmax)).requires_grad_(true);
        Tensor ours = Rounding.FakeQuantize(x, scale, zero, qmin, qmax);
        Tensor xr = x.detach().clone().requires_grad_(true);
        Tensor theirs = LibTorchReference.FakeQuantize(xr, scale, zero, qmin, qmax);
        TensorAssert.BitIdentical(theirs, ours, "forward (signed zeros included)");
        Tensor seed = randn(x.shape, generator: new Generator(3));
        ours.backward(new[] { seed });
        theirs.backward(new[] { seed });
        TensorAssert.BitIdentical(xr.grad!, x.grad!, "gradient");
    }

    [TestMethod]
    [DynamicData(nameof(WideGrids))]
    public void FakeQuantize_Float64_WholePromisedRange_EqualsTheScalarFormula(double scale, long zero, long qmin, long qmax)
    {
        // LibTorch's fake-quant kernel takes float32 only; in float64 the reference is the formula itself, element by
        // element in C#: (clamp(round_half_even(x · (1/s)) + z, qmin, qmax) − z) · s, gradient 1 where the rounded code
        // is inside [qmin, qmax].
        double[] inputs = WholeRange(scale, zero, qmin, qmax).Select(v => (double)v)
            .Concat(WholeRange(scale, zero, qmin, qmax).Select(v => (double)v * (1 + 1e-12))).ToArray();
        var (value, gradient) = ValueAndGradient(x => Rounding.FakeQuantize(x, scale, zero, qmin, qmax), inputs);
        double inverse = 1 / scale;
        for (int i = 0; i < inputs.Length; i++)
        {
            double q = Math.Round(inputs[i] * inverse) + zero;
            double expected = (Math.Clamp(q, qmin, qmax) - zero) * scale;
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(value[i]), $"x={inputs[i]:R}: {expected:R} vs {value[i]:R}");
            Assert.AreEqual(q >= qmin && q <= qmax ? 1 : 0, gradient[i], $"mask at x={inputs[i]:R}");
        }
    }

    [TestMethod]
    public void FakeQuantize_CompositePath_EqualsKernel()
    {
        using var scope = NewDisposeScope();
        var range = QuantizationRange.FromBits(8, false);
        Tensor x = Inputs(0.05, 128, range, 1000).reshape(2, -1);
        Tensor kernel = Rounding.FakeQuantize(x, 0.05, 128, range);
        Tensor composite = Rounding.FakeQuantize(x.t(), 0.05, 128, range).t(); // non-contiguous: composite path
        TensorAssert.BitIdentical(kernel, composite.contiguous());
    }

    [TestMethod]
    public void FakeQuantize_CompositePath_BackwardUsesItsSavedMask()
    {
        using var scope = NewDisposeScope();
        Tensor x = (randn(new long[] { 40, 3 }, generator: new Generator(8)) * 2).requires_grad_(true);
        Tensor viaComposite = Rounding.FakeQuantize(x.t(), 0.1, 0, -8, 7); // non-contiguous: composite path
        viaComposite.sum().backward();
        Tensor composite = x.grad!.clone();
        x.grad!.zero_();
        Rounding.FakeQuantize(x.detach().clone().requires_grad_(false), 0.1, 0, -8, 7).Dispose();
        Tensor y = Rounding.FakeQuantize(x, 0.1, 0, -8, 7);
        y.sum().backward();
        TensorAssert.BitIdentical(x.grad!, composite);
    }

    [TestMethod]
    public void FakeQuantize_Float64_MatchesScalarFormula()
    {
        const double s = 0.1;
        const long z = 3, qmin = 0, qmax = 15;
        var (value, gradient) = ValueAndGradient(x => Rounding.FakeQuantize(x, s, z, qmin, qmax), Grid);
        for (int i = 0; i < Grid.Length; i++)
        {
            double q = Math.Round(Grid[i] * (1 / s)) + z;
            Assert.AreEqual((Math.Clamp(q, qmin, qmax) - z) * s, value[i], 0, $"x={Grid[i]}");
            Assert.AreEqual(q >= qmin && q <= qmax ? 1 : 0, gradient[i], $"mask at x={Grid[i]}");
        }
    }

    [TestMethod]
    public void FakeQuantize_MaskIsTakenOnTheRoundedValue()
    {
        // qmax = 15, z = 0, s = 1: 15.4 rounds to 15 (inside: gradient 1) although 15.4 > qmax; 15.6 rounds to 16 (outside).
        var (value, gradient) = ValueAndGradient(x => Rounding.FakeQuantize(x, 1, 0, 0, 15), new[] { 15.4, 15.6, -0.4, -0.6 }, ScalarType.Float32);
        CollectionAssert.AreEqual(new[] { 15.0, 15, 0, 0 }, value);
        CollectionAssert.AreEqual(new[] { 1.0, 0, 1, 0 }, gradient);
    }

    [TestMethod]
    public void FakeQuantize_SpecialValues_NaNStays_InfinitiesClampToTheirOwnEnd()
    {
        double[] special = { double.NaN, double.PositiveInfinity, double.NegativeInfinity, 3e38, -3e38, 1e-40 };
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var (value, gradient) = ValueAndGradient(x => Rounding.FakeQuantize(x, 0.5, 2, 0, 15), special, dtype);
            Assert.IsTrue(double.IsNaN(value[0]));
            CollectionAssert.AreEqual(new[] { 6.5, -1, 6.5, -1, 0 }, value[1..]);
            CollectionAssert.AreEqual(new[] { 0.0, 0, 0, 0, 0, 1 }, gradient);
        }
    }

    [TestMethod]
    [DataRow(0L)]
    [DataRow(1L)]
    [DataRow(-1L)]
    [DataRow(2L)]
    public void PerChannel_BitIdenticalToLibTorch(long axis)
    {
        using var scope = NewDisposeScope();
        Tensor x = (randn(new long[] { 6, 5, 7 }, generator: new Generator(9)) * 2).requires_grad_(true);
        long channels = x.shape[axis < 0 ? axis + 3 : axis];
        Tensor scales = rand(channels, generator: new Generator(2)) * 0.1 + 0.01;
        Tensor zeros = randint(0, 255, channels, generator: new Generator(3)).to_type(ScalarType.Int32);
        Tensor ours = Rounding.FakeQuantizePerChannel(x, scales, zeros, axis, 0, 255);
        Tensor xr = x.detach().clone().requires_grad_(true);
        Tensor theirs = LibTorchReference.FakeQuantizePerChannel(xr, scales, zeros, axis < 0 ? axis + 3 : axis, 0, 255);
        TensorAssert.BitIdentical(theirs, ours, "forward");
        ours.sum().backward();
        theirs.sum().backward();
        TensorAssert.BitIdentical(xr.grad!, x.grad!, "gradient");
    }

    [TestMethod]
    public void Modules_ForwardCallTheFunctions()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(new long[] { 4, 3 }, generator: new Generator(5));
        var range = QuantizationRange.FromBits(4, false);
        TensorAssert.BitIdentical(Rounding.FakeQuantize(x, 0.2, 7, range), Rounding.Modules.FakeQuantize(0.2, 7, range).call(x));
        Tensor scales = tensor(new[] { 0.1f, 0.2f, 0.3f });
        Tensor zeros = tensor(new[] { 7, 8, 9 });
        TensorAssert.BitIdentical(
            Rounding.FakeQuantizePerChannel(x, scales, zeros, 1, range.Min, range.Max),
            Rounding.Modules.FakeQuantizePerChannel(scales, zeros, 1, range).call(x));
    }

    [TestMethod]
    public void GradientCheck_AgainstClampedIdentityAwayFromGridEnds()
    {
        double[] points = { -0.33, -0.12, 0.07, 0.31, 0.52 };
        var result = GradientCheck.Run(x => Rounding.FakeQuantize(x, 0.1, 8, 0, 15), T(points), x => x.clone());
        Assert.IsTrue(result.Passed(1e-9, 1e-9), result.ToString());
    }

    [TestMethod]
    public void InvalidParameters_NameTheParameter()
    {
        using var x = zeros(4);
        Assert.AreEqual("scale", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.FakeQuantize(x, 0, 0, 0, 15)).ParamName);
        Assert.AreEqual("scale", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.FakeQuantize(x, double.NaN, 0, 0, 15)).ParamName);
        Assert.AreEqual("scale", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.FakeQuantize(x, -1, 0, 0, 15)).ParamName);
        Assert.AreEqual("qmax", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.FakeQuantize(x, 1, 0, 0, 0)).ParamName);
        Assert.AreEqual("zeroPoint", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.FakeQuantize(x, 1, 16, 0, 15)).ParamName);
        Assert.AreEqual("bits", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => QuantizationRange.FromBits(1, true)).ParamName);
        Assert.AreEqual("bits", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => QuantizationRange.FromBits(17, true)).ParamName);
        using var m = zeros(2, 3);
        Assert.AreEqual("axis", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.FakeQuantizePerChannel(m, ones(3), zeros(3), 2, 0, 15)).ParamName);
        Assert.AreEqual("scales", Assert.ThrowsExactly<ArgumentException>(() => Rounding.FakeQuantizePerChannel(m, ones(2), zeros(3), 1, 0, 15)).ParamName);
        Assert.AreEqual("scales", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.FakeQuantizePerChannel(m, zeros(3), zeros(3), 1, 0, 15)).ParamName);
        Assert.AreEqual("zeroPoints", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.FakeQuantizePerChannel(m, ones(3), full(3, 0.5), 1, 0, 15)).ParamName);
    }

    [TestMethod]
    public void QuantizationRange_FromBits()
    {
        Assert.AreEqual(new QuantizationRange(-128, 127), QuantizationRange.FromBits(8, true));
        Assert.AreEqual(new QuantizationRange(-127, 127), QuantizationRange.FromBits(8, true, narrowRange: true));
        Assert.AreEqual(new QuantizationRange(0, 15), QuantizationRange.FromBits(4, false));
        Assert.AreEqual(new QuantizationRange(1, 15), QuantizationRange.FromBits(4, false, narrowRange: true));
        Assert.AreEqual(new QuantizationRange(-2, 1), QuantizationRange.FromBits(2, true));
        Assert.AreEqual(new QuantizationRange(0, 65535), QuantizationRange.FromBits(16, false));
    }
}
