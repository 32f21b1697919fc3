using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// A stride-1, "same"-padded 2-D convolution whose input gradient is computed by a forward convolution. LibTorch's
/// <c>conv2d</c> (TorchSharp-cpu 0.107, this CPU build) computes the forward pass and the weight gradient right, but the
/// gradient it passes to its input is wrong for some small shapes (4 → 6 channels on 4x4 images: off by up to 23 in
/// values of at most 24, with one thread or two; docs/trainer.md). For stride 1 that gradient is itself a convolution:
/// dx = conv2d(dy, w flipped in both spatial axes, input and output channels swapped), so the backward pass runs
/// <c>conv2d</c>'s forward kernel for it, and LibTorch's weight-only backward (the convolution redone on the detached
/// input, as the first block, whose input is the data, always has it) for the weight and bias gradients. LibTorch's
/// kernels throughout, so much faster than <c>unfold</c> and a matrix product (epoch times in docs/benchmarks.md), and
/// checked against that formulation (ConvolutionFunctionTests) and finite differences (ConvolutionTrainingTests).
/// </summary>
internal sealed class ConvolutionFunction : autograd.SingleTensorFunction<ConvolutionFunction>
{
    public override string Name => nameof(ConvolutionFunction);

    /// <summary>conv2d(x, w, bias) with padding k / 2 on both sides: vars are x (N, C, H, W), w (O, C, k, k), bias (O).</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (x, w, bias) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
        ctx.save_for_backward(new() { x, w, bias });
        using var noGrad = no_grad();
        return Convolve(x, w, bias);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var saved = ctx.get_saved_variables();
            var (x, w, bias) = (saved[0], saved[1], saved[2]);
            Tensor dx;
            using (no_grad())
            {
                dx = Convolve(grad_output, w.detach().flip(2, 3).transpose(0, 1), null);
            }

            using var grad = enable_grad();
            Tensor wd = w.detach().requires_grad_(true), bd = bias.detach().requires_grad_(true);
            Tensor y = Convolve(x.detach(), wd, bd);
            var dwb = autograd.grad(new[] { y }, new[] { wd, bd }, new[] { grad_output });
            return new() { dx, dwb[0], dwb[1] };
        });
    }

    private static Tensor Convolve(Tensor x, Tensor w, Tensor? bias)
    {
        long half = w.shape[2] / 2;
        return nn.functional.conv2d(x, w, bias, padding: new[] { half, half });
    }
}
