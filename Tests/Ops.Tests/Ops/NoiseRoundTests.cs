using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class NoiseRoundTests
{
    [TestMethod]
    public void Noise_Training_AddsSeededUniformNoise_GradientOne()
    {
        using var scope = NewDisposeScope();
        Tensor x = linspace(-3, 3, 20000, dtype: ScalarType.Float64).requires_grad_(true);
        Tensor a = Rounding.Noise(x, training: true, new Generator(11));
        Tensor b = Rounding.Noise(x, training: true, new Generator(11));
        TensorAssert.BitIdentical(a, b, "same seed, same noise");
        Tensor u = (a - x).detach();
        Assert.IsLessThanOrEqualTo(0.5, u.abs().max().item<double>());
        Assert.AreEqual(0, u.mean().item<double>(), 0.01, "mean of U(-1/2, 1/2)");
        Assert.AreEqual(1.0 / 12, u.var().item<double>(), 0.003, "variance of U(-1/2, 1/2)");
        a.sum().backward();
        TensorAssert.BitIdentical(ones_like(x), x.grad!);
    }

    [TestMethod]
    public void Noise_Inference_RoundsHalfToEven()
    {
        var (value, gradient) = ValueAndGradient(x => Rounding.Noise(x, training: false), Grid);
        CollectionAssert.AreEqual(Grid.Select(v => Math.Round(v)).ToArray(), value);
        CollectionAssert.AreEqual(Enumerable.Repeat(1.0, Grid.Length).ToArray(), gradient);
    }

    [TestMethod]
    public void Module_FollowsTrainingMode_AndItsSeed()
    {
        using var scope = NewDisposeScope();
        Tensor x = T(new[] { 0.2, 1.7, -0.6 });
        using var first = Rounding.Modules.Noise(seed: 5);
        using var second = Rounding.Modules.Noise(seed: 5);
        TensorAssert.BitIdentical(first.call(x), second.call(x));
        first.eval();
        CollectionAssert.AreEqual(new[] { 0.0, 2, -1 }, D(first.call(x)));
    }

    [TestMethod]
    public void ExpectedGradient_IsExactDifferenceOfF()
    {
        // f(x) = x^2: d/dx E[(x + U)^2] = (x + 1/2)^2 - (x - 1/2)^2 = 2x.
        double[] xs = { -1.5, -0.3, 0, 0.7, 2.5 };
        var (value, gradient) = ValueAndGradient(x => Rounding.NoiseExpectedGradient(x, t => t.square(), training: false), xs);
        AllClose(xs.Select(v => Math.Round(v) * Math.Round(v)).ToArray(), value, 0, "inference value f(round(x))");
        AllClose(xs.Select(v => 2 * v).ToArray(), gradient, 1e-15, "gradient");
        var (trainValue, trainGradient) = ValueAndGradient(x => Rounding.NoiseExpectedGradient(x, t => t.square(), training: true, new Generator(1)), xs);
        for (int i = 0; i < xs.Length; i++)
        {
            Assert.IsLessThanOrEqualTo(Math.Abs(xs[i]) + 0.5, Math.Sqrt(trainValue[i]));
        }

        AllClose(xs.Select(v => 2 * v).ToArray(), trainGradient, 1e-15, "training gradient has no sampling noise");
    }

    [TestMethod]
    public void NoiseEstimator_GradientCheck_SurrogateIsIdentity()
    {
        double[] points = { -1.2, 0.3, 0.5, 2.7 };
        Assert.IsTrue(GradientCheck.Run(RoundingGradient.Noise.Round, T(points), RoundingGradient.Noise.Surrogate).Passed(1e-9, 1e-9));
    }
}
