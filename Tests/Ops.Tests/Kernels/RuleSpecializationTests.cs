using System.Numerics;
using MlRounding.Kernels;

namespace MlRounding.Tests.Kernels;

/// <summary>
/// The library's rounding rules (RoundingRules, LsqGrid) against hand-computed cases, and every vectorized kernel of
/// MlRounding.Ops against the scalar rule it specializes, element for element (equal bits), over values that cover ties,
/// signed zeros, NaN, infinities, huge and tiny magnitudes, and lengths that leave every tail length.
/// </summary>
[TestClass]
public sealed unsafe class RuleSpecializationTests
{
    /// <summary>Values with every special case, then random ones, float32.</summary>
    private static float[] Values(int count, int seed, float spread)
    {
        float[] special = { 0f, -0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f, 8388607.5f, -8388607.5f, 1e30f, -1e30f, 1e-40f, -1e-40f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue };
        var random = new Random(seed);
        return special.Concat(Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() - 0.5) * spread))).Concat(Enumerable.Range(0, count).Select(i => (i - count / 2) * 0.25f)).ToArray();
    }

    private static T[] As<T>(float[] values) where T : IFloatingPointIeee754<T> => values.Select(T.CreateTruncating).ToArray();

    private static void AssertSameBits<T>(T[] expected, T[] actual, string what) where T : IFloatingPointIeee754<T>
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsTrue(Bits(expected[i]) == Bits(actual[i]), $"{what}: element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    private static long Bits<T>(T v) => v is float f ? BitConverter.SingleToInt32Bits(f) : BitConverter.DoubleToInt64Bits((double)(object)v!);

    [TestMethod]
    [DataRow(2.5, 3.0)]
    [DataRow(-2.5, -3.0)]
    [DataRow(0.5, 1.0)]
    [DataRow(-0.5, -1.0)]
    [DataRow(1.4999999999999998, 1.0)]
    [DataRow(-0.4, 0.0)]
    [DataRow(4503599627370495.5, 4503599627370496.0)]
    public void RoundHalfAwayFromZero_HandComputedCases(double u, double expected)
    {
        Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(RoundingRules.RoundHalfAwayFromZero(u)), $"{u}");
        Assert.AreEqual(expected, Math.Round(u, MidpointRounding.AwayFromZero), "System.Math agrees on the value");
    }

    [TestMethod]
    public void RoundHalfAwayFromZero_SpecialValues()
    {
        Assert.IsTrue(float.IsNaN(RoundingRules.RoundHalfAwayFromZero(float.NaN)));
        Assert.AreEqual(float.PositiveInfinity, RoundingRules.RoundHalfAwayFromZero(float.PositiveInfinity));
        Assert.AreEqual(float.NegativeInfinity, RoundingRules.RoundHalfAwayFromZero(float.NegativeInfinity));
        Assert.AreEqual(0, BitConverter.SingleToInt32Bits(RoundingRules.RoundHalfAwayFromZero(-0.4f)), "-0.4 gives -0 + 0 = +0");
        Assert.AreEqual(2f, RoundingRules.Round(2.5f, MidpointRounding.ToEven), "half to even: 2.5 -> 2");
        Assert.AreEqual(4f, RoundingRules.Round(3.5f, MidpointRounding.ToEven), "half to even: 3.5 -> 4");
        Assert.AreEqual(3f, RoundingRules.Round(2.5f, MidpointRounding.AwayFromZero), "half away from zero: 2.5 -> 3");
    }

    [TestMethod]
    [DataRow(MidpointRounding.ToEven)]
    [DataRow(MidpointRounding.AwayFromZero)]
    public void RoundKernel_EqualsTheScalarRule_Float32AndFloat64(MidpointRounding midpoint)
    {
        foreach (int length in new[] { 0, 1, 7, 8, 9, 31, 1000 })
        {
            Check(As<float>(Values(length, length, 1e4f)));
            Check(As<double>(Values(length, length, 1e4f)));
        }

        void Check<T>(T[] x) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var y = new T[x.Length];
            fixed (T* px = x, py = y)
            {
                RoundKernel.Round(px, py, x.Length, midpoint);
            }

            AssertSameBits(x.Select(v => RoundingRules.Round(v, midpoint)).ToArray(), y, $"{typeof(T).Name} {midpoint}");
        }
    }

    [TestMethod]
    [DataRow(0.05, 0L, -128L, 127L)]
    [DataRow(0.3, 7L, 0L, 15L)]
    [DataRow(1e-3, -3L, -8L, 7L)]
    public void FakeQuantKernel_EqualsTheScalarRule_ValuesAndMask(double scale, long zero, long qmin, long qmax)
    {
        foreach (int length in new[] { 1, 8, 13, 1000 })
        {
            Check<float>(As<float>(Values(length, length, 20)));
            Check<double>(As<double>(Values(length, length, 20)));
        }

        void Check<T>(T[] x) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var y = new T[x.Length];
            var mask = new byte[(x.Length + 7) / 8];
            T s = T.CreateTruncating(scale), z = T.CreateTruncating(zero), lo = T.CreateTruncating(qmin), hi = T.CreateTruncating(qmax);
            fixed (T* px = x, py = y)
            fixed (byte* pm = mask)
            {
                FakeQuantKernel.Forward(px, py, pm, x.Length, s, z, lo, hi);
            }

            T inv = T.One / s;
            var expected = new T[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                expected[i] = RoundingRules.FakeQuantize(x[i], inv, s, z, lo, hi, out bool inside);
                Assert.AreEqual(inside, (mask[i / 8] >> (i % 8) & 1) == 1, $"{typeof(T).Name}: mask bit {i} ({x[i]})");
            }

            AssertSameBits(expected, y, typeof(T).Name);
            var dy = x.Select((_, i) => T.CreateTruncating(i % 3 - 1)).ToArray();
            var dx = new T[x.Length];
            fixed (T* pdy = dy, pdx = dx)
            fixed (byte* pm = mask)
            {
                FakeQuantKernel.Backward(pdy, pm, pdx, x.Length);
            }

            AssertSameBits(dy.Select((g, i) => g * T.CreateTruncating(mask[i / 8] >> (i % 8) & 1)).ToArray(), dx, typeof(T).Name + " gradient");
        }
    }

    [TestMethod]
    public void LsqGrid_HandComputedCases()
    {
        // Divided, s = 0.5, codes [-2, 1]: x = 0.3 -> v = 0.6, r = 1 inside: y = 0.5, step term 1 - 0.6 = 0.4.
        var divided = LsqGrid<double>.Divided(0.5, -2, 1);
        Assert.AreEqual(0.5, divided.Value(0.3));
        Assert.AreEqual(1.0, divided.Gradient(0.3, 1, false, false, double.PositiveInfinity, out bool inside, out double term));
        Assert.IsTrue(inside);
        Assert.AreEqual(0.4, term, 1e-15);
        // x = 2 -> v = 4 > 1: y = 0.5 (clamped), dx = 0, step term qmax = 1.
        Assert.AreEqual(0.5, divided.Value(2));
        Assert.AreEqual(0.0, divided.Gradient(2, 1, false, false, double.PositiveInfinity, out inside, out term));
        Assert.IsFalse(inside);
        Assert.AreEqual(1.0, term);
        // Binary: sign(v) with 0 as +1, window |v| <= 1.
        var binary = LsqGrid<double>.Divided(0.5, -1, 1);
        Assert.AreEqual(0.5, binary.Value(0, binary: true));
        Assert.AreEqual(-0.5, binary.Value(-3, binary: true));
        Assert.AreEqual(0.0, binary.Gradient(-3, 1, false, true, double.PositiveInfinity, out _, out term), "outside the window");
        Assert.AreEqual(-1.0, term);
        // ReLU: x = -1 counts as 0 (code 0, inside) but passes no gradient.
        var relu = LsqGrid<double>.Divided(0.25, 0, 15);
        Assert.AreEqual(0.0, relu.Value(-1, relu: true));
        Assert.AreEqual(0.0, relu.Gradient(-1, 1, true, false, double.PositiveInfinity, out inside, out _));
        Assert.IsTrue(inside);
        // Affine, s = 0.5, z = 3, codes [0, 7]: x = 0.3 -> v = 0.6, q = 1 + 3 = 4: y = (4 - 3) 0.5 = 0.5; x = -3 -> q = -3 < 0:
        // y = (0 - 3) 0.5 = -1.5, step term qmin - z = -3.
        var affine = LsqGrid<double>.AffineWith(0.5, 3, 0, 7);
        Assert.AreEqual(0.5, affine.Value(0.3));
        Assert.AreEqual(-1.5, affine.Value(-3));
        affine.Gradient(-3, 1, false, false, double.PositiveInfinity, out inside, out term);
        Assert.IsFalse(inside);
        Assert.AreEqual(-3.0, term);
        Assert.IsTrue(double.IsNaN(affine.Value(double.NaN)));
    }

    [TestMethod]
    [DataRow(false, false, false, false)]
    [DataRow(false, true, false, false)]
    [DataRow(false, false, true, false)]
    [DataRow(false, false, true, true)]
    [DataRow(true, false, false, false)]
    public void LsqKernel_EqualsTheScalarRule_ValuesGradientsAndSums(bool affine, bool relu, bool binary, bool limited)
    {
        foreach (int length in new[] { 1, 3, 8, 13, 1000 })
        {
            float[] values = Values(length, length + 1, 6);
            float[] finite = values.Where(v => Math.Abs(v) < 1e6f).ToArray(); // sums of products stay finite
            Check(As<float>(values), sums: false);
            Check(As<double>(values), sums: false);
            Check(As<float>(finite), sums: true);
            Check(As<double>(finite), sums: true);
        }

        void Check<T>(T[] x, bool sums) where T : unmanaged, IFloatingPointIeee754<T>
        {
            T s = T.CreateTruncating(0.37), lo = T.CreateTruncating(binary ? -1 : relu ? 0 : -7), hi = T.CreateTruncating(binary ? 1 : 7);
            LsqGrid<T> grid = affine ? LsqGrid<T>.AffineWith(s, T.CreateTruncating(2), lo, hi) : LsqGrid<T>.Divided(s, lo, hi);
            T? limit = limited ? T.CreateTruncating(2.5) : null;
            var y = new T[x.Length];
            LsqKernel.Forward(x, y, grid, relu, binary);
            AssertSameBits(x.Select(v => grid.Value(v, relu, binary)).ToArray(), y, $"{typeof(T).Name} forward");

            var dy = x.Select((_, i) => T.CreateTruncating(((i * 7) % 5) - 2.25)).ToArray();
            var dx = new T[x.Length];
            var (step, outside) = LsqKernel.Backward(x, dy, dx, grid, relu, binary, limit);
            var expected = new T[x.Length];
            double stepSum = 0, outsideSum = 0, magnitude = 0;
            for (int i = 0; i < x.Length; i++)
            {
                expected[i] = grid.Gradient(x[i], dy[i], relu, binary, limit ?? T.PositiveInfinity, out bool inside, out T term);
                double product = double.CreateTruncating(dy[i]) * double.CreateTruncating(term);
                stepSum += product;
                magnitude += Math.Abs(product);
                outsideSum += inside || !affine ? 0 : double.CreateTruncating(dy[i]);
            }

            AssertSameBits(expected, dx, $"{typeof(T).Name} dx");
            if (!sums)
            {
                return;
            }

            double tolerance = (typeof(T) == typeof(float) ? 1e-5 : 1e-12) * Math.Max(1, magnitude); // lanes sum in T, then in float64
            Assert.AreEqual(stepSum, step, tolerance, $"{typeof(T).Name} step sum");
            Assert.AreEqual(outsideSum, outside, tolerance, $"{typeof(T).Name} outside sum");
        }
    }
}
