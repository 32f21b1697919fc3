using MlRounding.Kernels;
using static TorchSharp.torch;

namespace MlRounding.Ops;

/// <summary>Autograd function: forward round half to even, backward dy * estimator.Derivative(x).</summary>
internal sealed class SurrogateRoundFunction : autograd.SingleTensorFunction<SurrogateRoundFunction>
{
    public override string Name => nameof(SurrogateRoundFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward(new() { x });
            ctx.save_data("estimator", vars[1]);
            return TensorKernels.Round(x);
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var x = ctx.get_saved_variables()[0];
            var estimator = (RoundingGradient)ctx.get_data("estimator");
            using var noGrad = no_grad();
            return new() { grad_output * estimator.Derivative(x), null! };
        });
    }
}
