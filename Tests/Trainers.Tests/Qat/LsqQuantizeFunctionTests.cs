using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Qat;

[TestClass]
public sealed class LsqQuantizeFunctionTests
{
    /// <summary>The same quantizer written with ordinary differentiable ops (the composite path of <see cref="Quantizer"/>).</summary>
    private static Tensor Composite(Tensor x, Tensor logStep, double g, long qmin, long qmax)
    {
        Tensor s = logStep.exp();
        s = s * g + (s - s * g).detach();
        if (logStep.shape[0] > 1)
        {
            s = s.unsqueeze(1);
        }

        return Rounding.StraightThrough(x / s).clamp(qmin, qmax) * s;
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void Fused_EqualsTheCompositeQuantizer_ValuesAndGradients(bool perChannel)
    {
        using var scope = NewDisposeScope();
        Tensor x0 = randn(new long[] { 6, 50 }, generator: new Generator(3)) * 2;
        Tensor log0 = (rand(perChannel ? 6 : 1, generator: new Generator(4)) * 0.5f - 2f);
        Tensor seed = randn(new long[] { 6, 50 }, generator: new Generator(5));
        const double g = 0.05;

        Tensor x1 = x0.clone().requires_grad_(true), l1 = log0.clone().requires_grad_(true);
        Tensor y1 = LsqQuantizeFunction.apply(x1, l1, g, -7L, 7L, false);
        y1.backward(new[] { seed });
        Tensor x2 = x0.clone().requires_grad_(true), l2 = log0.clone().requires_grad_(true);
        Tensor y2 = Composite(x2, l2, g, -7, 7);
        y2.backward(new[] { seed });

        Assert.IsTrue(y1.equal(y2).all().item<bool>(), "forward bit-identical");
        // The composite multiplies by s and divides by s again: equal up to rounding.
        Assert.IsTrue(x1.grad!.allclose(x2.grad!, rtol: 1e-6, atol: 0), "x gradient");
        Assert.IsTrue(x1.grad!.eq(0).equal(x2.grad!.eq(0)).all().item<bool>(), "same mask");
        Assert.IsTrue(l1.grad!.allclose(l2.grad!, rtol: 1e-4, atol: 1e-6), $"step gradient: {string.Join(",", l1.grad!.data<float>().ToArray())} vs {string.Join(",", l2.grad!.data<float>().ToArray())}");
    }

    [TestMethod]
    [DataRow(true, new float[] { 1, 0, 3, 0, 0, 6 })]
    [DataRow(false, new float[] { 1, 2, 3, 0, 0, 6 })]
    public void BinaryWeightsWithMaxSteps_PassTheGradientBelowTheLargestOnly(bool perChannel, float[] expected)
    {
        // Rows (0.5, -2, 1) and (3, -3, 0.1): steps are the largest |w| of each row (2 and 3) or of all (3); the largest
        // weights (both of the tie in the second row) get no gradient, every other weight gets dy unchanged.
        using var scope = NewDisposeScope();
        Tensor w = tensor(new float[] { 0.5f, -2, 1, 3, -3, 0.1f }).reshape(2, 3);
        Tensor dy = tensor(new float[] { 1, 2, 3, 4, 5, 6 }).reshape(2, 3);
        float[] steps = perChannel ? new[] { 2f, 3f } : new[] { 3f };
        float inf = float.PositiveInfinity;

        Tensor y = LsqQuantizeFunction.Quantize(w, steps, -inf, inf, binary: true);
        var (dx, _) = LsqQuantizeFunction.Gradients(w, dy, steps, 1, -inf, inf, binary: true, belowMax: true);

        float a = steps[0], b = steps[^1];
        CollectionAssert.AreEqual(new[] { a, -a, a, b, -b, b }, y.data<float>().ToArray(), "sign(w) times the step");
        CollectionAssert.AreEqual(expected, dx.data<float>().ToArray());
    }

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    public void GivenBuffers_HoldTheSameBits_AsNewTensors(bool binary, bool relu)
    {
        // 3 rows of 13 columns: one 8-lane block and a 5-element tail per row, ties (x / s = k + 0.5) and values beyond
        // the grid included; writing into a caller's buffer (filled with NaN first), and the gradient over dy's own
        // memory, must not change a bit.
        using var scope = NewDisposeScope();
        float[] values = Enumerable.Range(0, 39).Select(k => ((k * 7) % 23 - 11) * 0.25f).ToArray();
        Tensor x = tensor(values).reshape(3, 13);
        Tensor dy = tensor(Enumerable.Range(0, 39).Select(k => (k % 5) - 1.5f).ToArray()).reshape(3, 13);
        float[] steps = { 0.5f, 0.75f, 1f };
        var (qmin, qmax) = binary ? (-1f, 1f) : relu ? (0f, 3f) : (-2f, 1f);

        Tensor fresh = LsqQuantizeFunction.Quantize(x, steps, qmin, qmax, relu, binary);
        Tensor buffer = full_like(x, float.NaN);
        Tensor written = LsqQuantizeFunction.Quantize(x, steps, qmin, qmax, relu, binary, into: buffer);
        var (dx, dLog) = LsqQuantizeFunction.Gradients(x, dy, steps, 0.1, qmin, qmax, relu, binary);
        Tensor mine = dy.clone();
        var (dxOver, dLogOver) = LsqQuantizeFunction.Gradients(x, mine, steps, 0.1, qmin, qmax, relu, binary, overwrite: true);

        CollectionAssert.AreEqual(fresh.data<float>().ToArray(), buffer.data<float>().ToArray(), "the buffer holds the quantized values");
        Assert.IsTrue(SameMemory(buffer, written), "and is what Quantize returns");
        Assert.IsTrue(fresh.ne(fresh[0, 0]).any().item<bool>(), "values that differ, so a misplaced one shows");
        CollectionAssert.AreEqual(dx.data<float>().ToArray(), mine.data<float>().ToArray(), "dx over dy's memory: the same bits");
        Assert.IsTrue(SameMemory(mine, dxOver), "dx is dy's memory");
        CollectionAssert.AreEqual(dLog, dLogOver, "the step gradient reads every dy before it is overwritten");
        Assert.IsTrue(dx.ne(0).any().item<bool>() && dx.eq(0).any().item<bool>(), "a mask with both sides, so a wrong one shows");
    }

    private static bool SameMemory(Tensor a, Tensor b) =>
        System.Runtime.CompilerServices.Unsafe.AreSame(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a.bytes), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b.bytes));
}
