namespace MlRounding.Tests.Grids;

/// <summary>
/// Every vectorized loop of MlRounding.Transforms against the scalar rule it specializes (RoundingRules, LsqGrid),
/// element for element (equal bits), over values that cover ties, signed zeros, NaN, infinities, huge and tiny
/// magnitudes and every tail length: the grids' AVX loops and the scorer's code kernels.
/// </summary>
[TestClass]
public sealed class KernelRuleTests
{
    private static float[] Values(int count, int seed, float spread)
    {
        float[] special = { 0f, -0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f, 8388607.5f, -8388607.5f, 1e30f, -1e30f, 1e-40f, -1e-40f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue };
        var random = new Random(seed);
        return special.Concat(Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() - 0.5) * spread))).Concat(Enumerable.Range(0, count).Select(i => (i - count / 2) * 0.125f)).ToArray();
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]), $"{what}: element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [TestMethod]
    [DataRow(MidpointRounding.ToEven)]
    [DataRow(MidpointRounding.AwayFromZero)]
    public void StepAndDecimalLoops_EqualTheScalarRule(MidpointRounding midpoint)
    {
        Assert.IsTrue(GridKernels.Enabled, "this machine has 256-bit vectors");
        foreach (int length in new[] { 1, 8, 13, 1000 })
        {
            float[] x = Values(length, length, 100);
            var y = new float[x.Length];
            int done = GridKernels.Step(x, y, 0.25f, 0.1f, midpoint == MidpointRounding.AwayFromZero);
            float[] expected = x.Select(v =>
            {
                float u = (v - 0.1f) / 0.25f;
                float r = RoundingRules.Round(u, midpoint) * 0.25f + 0.1f;
                return !float.IsFinite(u) && float.IsFinite(v) ? v : r;
            }).ToArray();
            AssertSameBits(expected[..done], y[..done], $"step, {midpoint}");

            done = GridKernels.Decimals(x, y, 100f, multiply: true, midpoint == MidpointRounding.AwayFromZero);
            expected = x.Select(v =>
            {
                float u = v * 100f;
                float r = RoundingRules.Round(u, midpoint) / 100f;
                return !float.IsFinite(u) && float.IsFinite(v) ? v : r;
            }).ToArray();
            AssertSameBits(expected[..done], y[..done], $"decimals, {midpoint}");
            Assert.AreEqual(x.Length - (x.Length % 8), done, "whole vectors done, the tail left to the scalar rule");
        }
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void AffineLoop_EqualsTheScalarRule_ValuesAndCodes(bool codes)
    {
        foreach (int length in new[] { 3, 8, 1000 })
        {
            float[] x = Values(length, length + 7, 40);
            float[] inverse = x.Select((_, i) => 1f / (0.05f + (i % 5) * 0.1f)).ToArray();
            float[] scale = inverse.Select(v => 1f / v).ToArray();
            float[] zero = x.Select((_, i) => (float)(i % 7)).ToArray();
            var y = new float[x.Length];
            int done = GridKernels.Affine(x, y, inverse, scale, zero, 0, 15, codes);
            float[] expected = x.Select((v, i) => codes
                ? RoundingRules.AffineCode(v, inverse[i], zero[i], 0f, 15f)
                : RoundingRules.FakeQuantize(v, inverse[i], scale[i], zero[i], 0f, 15f, out _)).ToArray();
            AssertSameBits(expected[..done], y[..done], codes ? "codes" : "values");
        }
    }

    [TestMethod]
    public void ScorerCodeKernels_EqualTheRules()
    {
        foreach (int length in new[] { 1, 31, 32, 33, 784 })
        {
            float[] x = Values(length, length, 30).Where(v => !float.IsNaN(v)).ToArray();
            float[] inverse = x.Select((_, i) => 1f / (0.02f + (i % 3) * 0.05f)).ToArray();
            float[] zero = x.Select((_, i) => (float)(i % 11)).ToArray();
            var q = new byte[x.Length + 32];
            Assert.IsTrue(CodeKernels.Quantize(x, q, inverse, zero, 0, 255), "no NaN");
            for (int i = 0; i < x.Length; i++)
            {
                Assert.AreEqual((byte)RoundingRules.AffineCode(x[i], inverse[i], zero[i], 0f, 255f), q[i], $"input code {i} of {x[i]}");
            }

            var a = new byte[x.Length + 32];
            CodeKernels.ReluCodes(x, a, 0.07f, 255);
            var grid = LsqGrid<float>.Divided(0.07f, 0, 255);
            for (int i = 0; i < x.Length; i++)
            {
                Assert.AreEqual((byte)grid.ClampedCode(x[i], relu: true), a[i], $"activation code {i} of {x[i]}");
            }
        }

        Assert.IsFalse(CodeKernels.Quantize(new[] { 1f, float.NaN }, new byte[40], new[] { 1f, 1f }, new[] { 0f, 0f }, 0, 255), "a NaN row is reported");
    }
}
