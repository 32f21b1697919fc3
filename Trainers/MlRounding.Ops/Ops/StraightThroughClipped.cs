using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Clipped straight-through round: forward clamp(round(x), min, max); backward identity where
    /// min &lt;= x &lt;= max and zero elsewhere (the "hard tanh" estimator of Hubara et al. 2016).
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="min">Lower bound of the output; finite.</param>
    /// <param name="max">Upper bound of the output; finite and at least <paramref name="min"/>.</param>
    /// <returns>clamp(round(x), min, max); NaN stays NaN and infinities clamp to the bounds.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="min"/> or <paramref name="max"/> is not finite, or max &lt; min.</exception>
    public static Tensor StraightThroughClipped(Tensor x, double min, double max)
    {
        TensorCheck.Floating(x, nameof(x));
        Check.Finite(min, nameof(min));
        Check.Finite(max, nameof(max));
        if (max < min)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"max must be at least min ({min:R}).");
        }

        return ClippedFunction.apply(x, min, max);
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="StraightThroughClippedModule"/> module.</summary>
        /// <param name="min">Lower bound of the output.</param>
        /// <param name="max">Upper bound of the output.</param>
        /// <returns>The module.</returns>
        public static StraightThroughClippedModule StraightThroughClipped(double min, double max) => new(min, max);
    }
}

/// <summary>Module form of <see cref="Rounding.StraightThroughClipped"/>.</summary>
public sealed class StraightThroughClippedModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module; the bounds are checked on each call.</summary>
    /// <param name="min">Lower bound of the output.</param>
    /// <param name="max">Upper bound of the output.</param>
    public StraightThroughClippedModule(double min, double max) : base(nameof(StraightThroughClippedModule))
    {
        Min = min;
        Max = max;
    }

    /// <summary>Gets the lower bound of the output.</summary>
    public double Min { get; }

    /// <summary>Gets the upper bound of the output.</summary>
    public double Max { get; }

    /// <summary>Applies <see cref="Rounding.StraightThroughClipped"/>.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>clamp(round(input), Min, Max).</returns>
    public override Tensor forward(Tensor input) => Rounding.StraightThroughClipped(input, Min, Max);
}

internal sealed class ClippedFunction : autograd.SingleTensorFunction<ClippedFunction>
{
    public override string Name => nameof(ClippedFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            double min = (double)vars[1], max = (double)vars[2];
            GradientScope.SaveCreated(ctx, x.AtLeast(min).logical_and(x.AtMost(max)));
            return x.round().ClampTo(min, max);
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var inside = ctx.get_saved_variables()[0];
            return new() { where(inside, grad_output, zeros_like(grad_output)), null!, null! };
        });
    }
}
