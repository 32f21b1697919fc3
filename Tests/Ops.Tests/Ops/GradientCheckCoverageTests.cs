using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

/// <summary>GradientCheck for the ops whose other tests check gradients by hand or against LibTorch.</summary>
[TestClass]
public sealed class GradientCheckCoverageTests
{
    private static readonly double[] Points = { -2.3, -1.1, -0.35, 0.2, 0.65, 1.4, 2.15 };

    [TestMethod]
    public void StraightThrough_AgainstIdentity()
    {
        Assert.IsTrue(GradientCheck.Run(Rounding.StraightThrough, T(Points), x => x.clone()).Passed(1e-9, 1e-9));
    }

    [TestMethod]
    public void RoundToStep_AgainstItsScaledSurrogates()
    {
        Assert.IsTrue(GradientCheck.Run(x => Rounding.RoundToStep(x, 0.5, 0.1), T(Points), x => x.clone()).Passed(1e-9, 1e-9), "straight-through");
        var soft = RoundingGradient.SoftRound(3);
        var result = GradientCheck.Run(x => Rounding.RoundToStep(x, 0.5, 0.1, gradient: soft), T(Points), x => soft.Surrogate((x - 0.1) / 0.5) * 0.5 + 0.1);
        Assert.IsTrue(result.Passed(1e-7, 1e-6), result.ToString());
    }

    [TestMethod]
    public void LearnedStepSize_XGradient_AgainstClampedIdentity()
    {
        using var scale = tensor(new[] { 0.25 });
        double[] inside = { -1.3, -0.4, 0.1, 0.55, 1.2 }; // away from the grid ends (-2, 1.75) and from rounding edges
        var result = GradientCheck.Run(x => Rounding.LearnedStepSize(x, scale, null, -8, 7), T(inside), x => x.clone());
        Assert.IsTrue(result.Passed(1e-9, 1e-9), result.ToString());
    }

    [TestMethod]
    public void NoiseExpectedGradient_AgainstTheExpectation()
    {
        // f(x) = x^2: E[(x + U)^2] = x^2 + 1/12, whose derivative is the expected gradient (x + 1/2)^2 - (x - 1/2)^2 = 2x.
        var result = GradientCheck.Run(x => Rounding.NoiseExpectedGradient(x, t => t.square(), training: false), T(Points), x => x.square() + 1.0 / 12);
        Assert.IsTrue(result.Passed(1e-7, 1e-7), result.ToString());
    }

    [TestMethod]
    public void FakeQuantizePerChannel_AgainstClampedIdentity()
    {
        using var scales = tensor(new[] { 0.25, 0.5 });
        using var zeros = tensor(new long[] { 0, 1 });
        double[] inside = { -1.3, -0.4, 0.1, 0.55, 1.2, 0.3 };
        var result = GradientCheck.Run(x => Rounding.FakeQuantizePerChannel(x.reshape(2, 3), scales, zeros, 0, -8, 7).flatten(), T(inside), x => x.clone());
        Assert.IsTrue(result.Passed(1e-9, 1e-9), result.ToString());
    }
}
