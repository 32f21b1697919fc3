using static TorchSharp.torch;

namespace MlRounding.Tests;

/// <summary>Small helpers shared by the op tests: data in and out of tensors, and independent scalar references.</summary>
internal static class TestHelpers
{
    /// <summary>Inputs covering integers, half-integers, near-ties and both signs.</summary>
    public static readonly double[] Grid =
    {
        -3, -2.5, -2.25, -2, -1.75, -1.5, -1.0000001, -1, -0.9999999, -0.5, -0.4999999, -0.25, 0, 0.1, 0.25,
        0.4999999, 0.5, 0.5000001, 0.75, 1, 1.5, 2, 2.5, 2.75, 3.5, 7.25,
    };

    public static Tensor T(double[] values, ScalarType dtype = ScalarType.Float64, bool grad = false) =>
        tensor(values, dtype: dtype).requires_grad_(grad);

    public static double[] D(Tensor t) => t.detach().to_type(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();

    public static float[] F(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    /// <summary>Value and gradient of sum(op(x)) at <paramref name="values"/>.</summary>
    public static (double[] Value, double[] Gradient) ValueAndGradient(Func<Tensor, Tensor> op, double[] values, ScalarType dtype = ScalarType.Float64)
    {
        using var scope = NewDisposeScope();
        Tensor x = T(values, dtype, grad: true);
        Tensor y = op(x);
        y.sum().backward();
        return (D(y), x.grad is null ? new double[values.Length] : D(x.grad));
    }

    public static void AllClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
        {
            bool ok = double.IsNaN(expected[i])
                ? double.IsNaN(actual[i])
                : expected[i] == actual[i] || Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i]));
            Assert.IsTrue(ok, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    public static void AllFinite(double[] values, string what)
    {
        for (int i = 0; i < values.Length; i++)
        {
            Assert.IsTrue(double.IsFinite(values[i]), $"{what}[{i}] is {values[i]}");
        }
    }

    /// <summary>Soft round of Agustsson &amp; Theis in double, straight from the paper's formula.</summary>
    public static double SoftRoundReference(double x, double alpha)
    {
        double m = Math.Floor(x) + 0.5;
        return m + Math.Tanh(alpha * (x - m)) / (2 * Math.Tanh(alpha / 2));
    }

    /// <summary>The softmax-weighted average over the integers within 60 of x, summed naively in double.</summary>
    public static double SoftmaxReference(double x, double beta)
    {
        double center = Math.Round(x);
        double num = 0, den = 0;
        for (int c = -60; c <= 60; c++)
        {
            double candidate = center + c;
            double w = Math.Exp(-beta * (x - candidate) * (x - candidate));
            num += w * candidate;
            den += w;
        }

        return num / den;
    }

    public static double Sigma(double a) => 1 / (1 + Math.Exp(-a));
}

internal static class TensorAssert
{
    /// <summary>Asserts that two tensors have the same shape, type and bytes (NaN payloads and signed zeros included).</summary>
    public static void BitIdentical(Tensor expected, Tensor actual, string what = "tensor")
    {
        Assert.AreEqual(expected.dtype, actual.dtype, $"{what}: dtype");
        CollectionAssert.AreEqual(expected.shape, actual.shape, $"{what}: shape");
        using Tensor e = expected.detach().contiguous(), a = actual.detach().contiguous();
        if (!e.bytes.SequenceEqual(a.bytes))
        {
            using Tensor diff = e.ne(a).logical_and(e.isnan().logical_and(a.isnan()).logical_not());
            long count = diff.sum().item<long>();
            Assert.Fail($"{what}: {count} element(s) differ");
        }
    }
}
