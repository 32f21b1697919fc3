using MlRounding.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Straight-through round: forward round half to even, backward identity (Bengio et al. 2013).
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <returns>round(x); NaN and infinities pass through unchanged.</returns>
    /// <remarks>Contiguous CPU tensors take a vectorized, multi-threaded kernel; others use LibTorch's <c>round</c>.</remarks>
    public static Tensor StraightThrough(Tensor x)
    {
        TensorCheck.Floating(x, nameof(x));
        return StraightThroughFunction.apply(x);
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="StraightThroughModule"/> module.</summary>
        /// <returns>The module.</returns>
        public static StraightThroughModule StraightThrough() => new();
    }
}

/// <summary>Module form of <see cref="Rounding.StraightThrough"/>.</summary>
public sealed class StraightThroughModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    public StraightThroughModule() : base(nameof(StraightThroughModule)) { }

    /// <summary>Applies <see cref="Rounding.StraightThrough"/>.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>round(input) with an identity gradient.</returns>
    public override Tensor forward(Tensor input) => Rounding.StraightThrough(input);
}

internal sealed class StraightThroughFunction : autograd.SingleTensorFunction<StraightThroughFunction>
{
    public override string Name => nameof(StraightThroughFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => TensorKernels.Round((Tensor)vars[0]);

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => new() { grad_output };
}
