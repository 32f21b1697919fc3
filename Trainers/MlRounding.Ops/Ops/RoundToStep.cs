using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Rounds to the grid offset + k step: y = round((x - offset) / step) step + offset, with a gradient from any
    /// <see cref="RoundingGradient"/> applied to u = (x - offset) / step.
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="step">Grid spacing, in [1e-30, 1e30].</param>
    /// <param name="offset">A grid point; finite.</param>
    /// <param name="midpoint"><see cref="MidpointRounding.ToEven"/> or <see cref="MidpointRounding.AwayFromZero"/>.</param>
    /// <param name="gradient">Gradient estimator; null means straight-through.</param>
    /// <returns>The rounded tensor. Each operation is done in the tensor's type, in that order, so a C# loop doing the
    /// same (as the ML.NET <c>RoundToStep</c> transform does) is bit-identical. Where u overflows while x is finite,
    /// x is returned unchanged; NaN and infinities pass through.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    public static Tensor RoundToStep(Tensor x, double step, double offset = 0, MidpointRounding midpoint = MidpointRounding.ToEven, RoundingGradient? gradient = null)
    {
        TensorCheck.Floating(x, nameof(x));
        Check.Step(step, offset, midpoint);
        return RoundToStepFunction.apply(x, step, offset, midpoint, gradient ?? RoundingGradient.StraightThrough);
    }

    /// <summary>
    /// Rounds with the given midpoint rule, no autograd: half to even is LibTorch's <c>round</c>; half away from zero is
    /// the library's rule (<see cref="RoundingRules.RoundHalfAwayFromZero{T}(T)"/>, which the transforms' grids compute
    /// too), run over the tensor's memory.
    /// </summary>
    internal static Tensor RoundWith(Tensor u, MidpointRounding midpoint) =>
        midpoint == MidpointRounding.ToEven ? u.round() : Kernels.TensorKernels.Round(u, midpoint);

    internal static (double Step, double Offset) TypedStep(Tensor x, double step, double offset) =>
        x.dtype == ScalarType.Float32 ? ((float)step, (float)offset) : (step, offset);

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="RoundToStepModule"/>.</summary>
        /// <param name="step">Grid spacing, in [1e-30, 1e30].</param>
        /// <param name="offset">A grid point; finite.</param>
        /// <param name="midpoint">ToEven or AwayFromZero.</param>
        /// <param name="gradient">Gradient estimator; null means straight-through.</param>
        /// <returns>The module.</returns>
        public static RoundToStepModule RoundToStep(double step, double offset = 0, MidpointRounding midpoint = MidpointRounding.ToEven, RoundingGradient? gradient = null) =>
            new(step, offset, midpoint, gradient);
    }
}

/// <summary>Module form of <see cref="Rounding.RoundToStep"/>.</summary>
public sealed class RoundToStepModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module; the parameters are checked here.</summary>
    /// <param name="step">Grid spacing, in [1e-30, 1e30].</param>
    /// <param name="offset">A grid point; finite.</param>
    /// <param name="midpoint">ToEven or AwayFromZero.</param>
    /// <param name="gradient">Gradient estimator; null means straight-through.</param>
    public RoundToStepModule(double step, double offset = 0, MidpointRounding midpoint = MidpointRounding.ToEven, RoundingGradient? gradient = null)
        : base(nameof(RoundToStepModule))
    {
        Check.Step(step, offset, midpoint);
        Step = step;
        Offset = offset;
        Midpoint = midpoint;
        Gradient = gradient ?? RoundingGradient.StraightThrough;
    }

    /// <summary>Gets the grid spacing.</summary>
    public double Step { get; }

    /// <summary>Gets the grid offset.</summary>
    public double Offset { get; }

    /// <summary>Gets the midpoint rule.</summary>
    public MidpointRounding Midpoint { get; }

    /// <summary>Gets the gradient estimator.</summary>
    public RoundingGradient Gradient { get; }

    /// <summary>Applies <see cref="Rounding.RoundToStep"/>.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>The rounded tensor.</returns>
    public override Tensor forward(Tensor input) => Rounding.RoundToStep(input, Step, Offset, Midpoint, Gradient);
}

internal sealed class RoundToStepFunction : autograd.SingleTensorFunction<RoundToStepFunction>
{
    public override string Name => nameof(RoundToStepFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            var (step, offset) = Rounding.TypedStep(x, (double)vars[1], (double)vars[2]);
            ctx.save_for_backward(new() { x });
            ctx.save_data("args", (step, offset, (RoundingGradient)vars[4]));
            Tensor u = x.Minus(offset).Over(step);
            Tensor y = Rounding.RoundWith(u, (MidpointRounding)vars[3]).Times(step).Plus(offset);
            return Rounding.UnlessOverflow(x, u, y);
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var (step, offset, gradient) = ((double, double, RoundingGradient))ctx.get_data("args");
            if (gradient is StraightThroughGradient)
            {
                return new() { grad_output, null!, null!, null!, null! };
            }
    
            using var noGrad = no_grad();
            Tensor x = ctx.get_saved_variables()[0];
            return new() { grad_output * gradient.Derivative(x.Minus(offset).Over(step)), null!, null!, null!, null! };
        });
    }
}
