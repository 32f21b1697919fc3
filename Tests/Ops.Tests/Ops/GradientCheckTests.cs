using MlRounding.Ops;
using static MlRounding.Tests.TestHelpers;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class GradientCheckTests
{
    private sealed class WrongSquare : autograd.SingleTensorFunction<WrongSquare>
    {
        public override string Name => nameof(WrongSquare);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward(new() { x });
            return x.square();
        }

        // Deliberately wrong: 2.01 x instead of 2 x.
        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            new() { grad_output * ctx.get_saved_variables()[0] * 2.01 };
    }

    [TestMethod]
    public void DetectsAWrongBackward_AcceptsARightOne()
    {
        double[] points = { -1, 0.5, 2 };
        var wrong = GradientCheck.Run(x => WrongSquare.apply(x), T(points));
        Assert.IsFalse(wrong.Passed(1e-6, 1e-6));
        Assert.AreEqual(0.02, wrong.MaxAbsoluteError, 1e-6, "|2.01 * 2 - 2 * 2|");
        var right = GradientCheck.Run(x => x.square(), T(points));
        Assert.IsTrue(right.Passed(1e-8, 1e-8));
        Assert.AreEqual(9, right.Entries);
    }

    [TestMethod]
    public void ComparesNonElementwiseJacobians()
    {
        double[] points = { 0.3, -1.2, 2.0, 0.7 };
        var result = GradientCheck.Run(x => x.cumsum(0) * x.sum(), T(points));
        Assert.IsTrue(result.Passed(1e-7, 1e-7), result.ToString());
        Assert.AreEqual(16, result.Entries);
    }

    [TestMethod]
    public void RejectsLargeInputsAndBadEpsilon()
    {
        using var big = zeros(5000);
        Assert.AreEqual("input", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradientCheck.Run(x => x, big)).ParamName);
        using var small = zeros(2);
        Assert.AreEqual("epsilon", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradientCheck.Run(x => x, small, epsilon: 0)).ParamName);
    }
}
