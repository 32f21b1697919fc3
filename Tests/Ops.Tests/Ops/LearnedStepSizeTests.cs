using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class LearnedStepSizeTests
{
    private static (Tensor Y, Tensor Dx, Tensor Ds, Tensor Dz) Run(Func<Tensor, Tensor, Tensor, Tensor> op, Tensor x0, Tensor s0, Tensor z0, Tensor seed)
    {
        Tensor x = x0.detach().clone().requires_grad_(true);
        Tensor s = s0.detach().clone().requires_grad_(true);
        Tensor z = z0.detach().clone().requires_grad_(true);
        Tensor y = op(x, s, z);
        y.backward(new[] { seed });
        return (y.detach(), x.grad!, s.grad!, z.grad!);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        double scale = Math.Max(1, expected.abs().max().item<float>());
        double diff = (expected - actual).abs().max().item<float>();
        Assert.IsLessThanOrEqualTo(tolerance * scale, diff, $"{what}: max difference {diff}");
    }

    [TestMethod]
    [DataRow(0L, 255L, 0.037, 120.0, 1.0)]
    [DataRow(-128L, 127L, 0.02, 0.0, 0.01)]
    [DataRow(0L, 15L, 0.3, 4.4, 0.2)]
    [DataRow(-2L, 1L, 0.5, 0.0, 1.0)]
    public void PerTensor_MatchesLibTorchLearnableKernel(long qmin, long qmax, double scale, double zero, double factor)
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(5000, generator: new Generator(4)) * ((qmax - qmin) * scale / 3);
        Tensor seed = randn(5000, generator: new Generator(5));
        Tensor s = tensor(new[] { (float)scale });
        Tensor z = tensor(new[] { (float)zero });
        var ours = Run((a, b, c) => Rounding.LearnedStepSize(a, b, c, qmin, qmax, factor), x, s, z, seed);
        var theirs = Run((a, b, c) => LibTorchReference.Learnable(a, b, c, qmin, qmax, factor), x, s, z, seed);
        TensorAssert.BitIdentical(theirs.Y, ours.Y, "forward");
        TensorAssert.BitIdentical(theirs.Dx, ours.Dx, "x gradient");
        AssertClose(theirs.Ds, ours.Ds, 1e-4, "scale gradient");
        AssertClose(theirs.Dz, ours.Dz, 1e-4, "zero-point gradient");
    }

    [TestMethod]
    [DataRow(0L)]
    [DataRow(1L)]
    public void PerChannel_MatchesLibTorchLearnableKernel(long axis)
    {
        using var scope = NewDisposeScope();
        Tensor x = randn(new long[] { 16, 24 }, generator: new Generator(6)) * 2;
        Tensor seed = randn(new long[] { 16, 24 }, generator: new Generator(7));
        long channels = x.shape[axis];
        Tensor s = rand(channels, generator: new Generator(8)) * 0.05f + 0.01f;
        Tensor z = (rand(channels, generator: new Generator(9)) * 20 + 100).round();
        var ours = Run((a, b, c) => Rounding.LearnedStepSize(a, b, c, 0, 255, 0.5, axis), x, s, z, seed);
        var theirs = Run((a, b, c) => LibTorchReference.LearnablePerChannel(a, b, c, axis, 0, 255, 0.5), x, s, z, seed);
        TensorAssert.BitIdentical(theirs.Y, ours.Y, "forward");
        TensorAssert.BitIdentical(theirs.Dx, ours.Dx, "x gradient");
        AssertClose(theirs.Ds, ours.Ds, 1e-4, "scale gradient");
        AssertClose(theirs.Dz, ours.Dz, 1e-4, "zero-point gradient");
    }

    [TestMethod]
    public void NegativeZeroPoint_GradientMaskFollowsTheForward_UnlikeLibTorch()
    {
        // LibTorch's backward turns the zero point z into (int64)(z + 0.5), which is 0 for z = -1 while its forward
        // uses round(z) = -1: its x-gradient then disagrees with its own clamping. Ours uses the forward's z.
        using var scope = NewDisposeScope();
        Tensor x = linspace(-2, 2, 401).requires_grad_(true);
        Tensor y = Rounding.LearnedStepSize(x, tensor(new[] { 0.5f }), tensor(new[] { -1f }), -2, 1);
        y.sum().backward();
        Tensor v = (x.detach() / 0.5f).round() - 1; // the forward's code round(x / s) + z (ties decided before the zero point)
        Tensor inside = v.ge(-2).logical_and(v.le(1)).to_type(ScalarType.Float32);
        TensorAssert.BitIdentical(inside, x.grad!.abs());
        Tensor xr = x.detach().clone().requires_grad_(true);
        LibTorchReference.Learnable(xr, tensor(new[] { 0.5f }), tensor(new[] { -1f }), -2, 1, 1).sum().backward();
        Assert.IsFalse(xr.grad!.abs().equal(inside).all().item<bool>(), "LibTorch's mask is shifted by one code");
    }

    [TestMethod]
    public void ScaleGradient_HandComputedCases()
    {
        // s = 0.5, z = 0, grid [-2, 1]: x = 0.3 -> v = round(0.6) = 1 (inside): ds = v - x/s = 1 - 0.6 = 0.4;
        // x = 2 -> v = 4 > 1: ds = qmax - z = 1; x = -3 -> v = -6 < -2: ds = qmin - z = -2.
        using var scope = NewDisposeScope();
        Tensor s = tensor(new[] { 0.5 }, dtype: ScalarType.Float64).requires_grad_(true);
        foreach (var (x, expected) in new[] { (0.3, 0.4), (2.0, 1.0), (-3.0, -2.0) })
        {
            s.grad?.zero_();
            Rounding.LearnedStepSize(T(new[] { x }), s, null, -2, 1).sum().backward();
            Assert.AreEqual(expected, s.grad!.item<double>(), 1e-12, $"x={x}");
        }
    }

    [TestMethod]
    public void GradientScale_IsOneOverSqrtNQp()
    {
        Assert.AreEqual(1 / Math.Sqrt(1000 * 127.0), Rounding.LearnedStepSizeGradientScale(1000, 127), 1e-15);
        Assert.AreEqual("elementsPerScale", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.LearnedStepSizeGradientScale(0, 127)).ParamName);
    }

    [TestMethod]
    public void Module_InitialisesStepFromData_AndLearnsIt()
    {
        using var scope = NewDisposeScope();
        var quantizer = Rounding.Modules.LearnedStepSize(QuantizationRange.FromBits(4, true));
        Tensor x = randn(4096, generator: new Generator(1));
        double meanAbs = x.abs().mean().item<float>();
        var optimizer = optim.Adam(quantizer.parameters(), 0.01);
        double first = 0, last = 0;
        for (int step = 0; step < 100; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = (quantizer.call(x) - x).square().mean();
            loss.backward();
            optimizer.step();
            if (step == 0)
            {
                Assert.AreEqual(2 * meanAbs / Math.Sqrt(7), quantizer.scale.item<float>() + 0.01, 0.02, "paper's initial step");
                first = loss.item<float>();
            }

            last = loss.item<float>();
        }

        Assert.IsLessThan(first, last, "learning the step lowers the quantization error");
    }

    [TestMethod]
    public void InvalidArguments_NameTheParameter()
    {
        using var x = zeros(2, 3);
        using var s = ones(2);
        Assert.AreEqual("scale", Assert.ThrowsExactly<ArgumentException>(() => Rounding.LearnedStepSize(x, s, null, 0, 15)).ParamName);
        Assert.AreEqual("zeroPoint", Assert.ThrowsExactly<ArgumentException>(() => Rounding.LearnedStepSize(x, ones(1), zeros(3), 0, 15)).ParamName);
        Assert.AreEqual("gradientScale", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.LearnedStepSize(x, ones(1), null, 0, 15, 0)).ParamName);
        Assert.AreEqual("axis", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Rounding.LearnedStepSize(x, ones(1), null, 0, 15, 1, 5)).ParamName);
    }

    [TestMethod]
    public void StateDict_UsesPyTorchNames_AndRoundTrips()
    {
        using var scope = NewDisposeScope();
        using var lsq = new LearnedStepSizeModule(QuantizationRange.FromBits(4, signed: true), channels: 3, learnZeroPoint: true);
        CollectionAssert.AreEquivalent(new[] { "scale", "zero_point" }, lsq.state_dict().Keys.ToArray());
        using var perChannel = new FakeQuantizePerChannelModule(ones(3), zeros(3), 0, QuantizationRange.FromBits(8, signed: false));
        CollectionAssert.AreEquivalent(new[] { "scales", "zero_points" }, perChannel.state_dict().Keys.ToArray());

        using (no_grad())
        {
            lsq.scale.copy_(tensor(new[] { 0.5f, 0.25f, 2f }));
        }

        using var copy = new LearnedStepSizeModule(QuantizationRange.FromBits(4, signed: true), channels: 3, learnZeroPoint: true);
        copy.load_state_dict(lsq.state_dict());
        CollectionAssert.AreEqual(new[] { 0.5f, 0.25f, 2f }, copy.scale.data<float>().ToArray());
    }
}
