using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Rounds to <paramref name="decimals"/> decimal places (negative: to tens, hundreds, ...), with a gradient from
    /// any <see cref="RoundingGradient"/> applied to the scaled value.
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="decimals">Decimal places, -8 to 8.</param>
    /// <param name="midpoint"><see cref="MidpointRounding.ToEven"/> or <see cref="MidpointRounding.AwayFromZero"/>.</param>
    /// <param name="gradient">Gradient estimator; null means straight-through.</param>
    /// <returns>The rounded tensor.</returns>
    /// <remarks>
    /// <para>Forward: with p = 10^|decimals| in the tensor's type, round(x * p) / p for decimals &gt;= 0 and
    /// round(x / p) * p otherwise: with ToEven this is bit for bit <c>torch.round(x, decimals)</c>. One deliberate
    /// difference: where x * p overflows to infinity while x is finite (|x| &gt; 3.4e30 in float32 with 8 decimals),
    /// x is returned unchanged (it is already an integer) instead of infinity.</para>
    /// <para>Backward: dy/dx = R'(u), the estimator's derivative at the scaled value u (the p factors cancel).</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decimals"/> is outside [-8, 8] or
    /// <paramref name="midpoint"/> is neither ToEven nor AwayFromZero.</exception>
    public static Tensor RoundDecimals(Tensor x, int decimals, MidpointRounding midpoint = MidpointRounding.ToEven, RoundingGradient? gradient = null)
    {
        TensorCheck.Floating(x, nameof(x));
        Check.Decimals(decimals);
        Check.Midpoint(midpoint);

        return RoundDecimalsFunction.apply(x, decimals, midpoint, gradient ?? RoundingGradient.StraightThrough);
    }

    /// <summary>10^|d| in the tensor's type (rounded to float32 for float32 tensors, as LibTorch does).</summary>
    private static double PowerOfTen(Tensor x, int decimals)
    {
        double p = Math.Pow(10, Math.Abs(decimals));
        return x.dtype == ScalarType.Float32 ? (float)p : p;
    }

    /// <summary>The scaled value u = x * 10^d (d &gt;= 0) or x / 10^-d (d &lt; 0), in the tensor's type.</summary>
    internal static Tensor ScaleDecimals(Tensor x, int decimals)
    {
        double p = PowerOfTen(x, decimals);
        return decimals >= 0 ? x.Times(p) : x.Over(p);
    }

    /// <summary>Forward of <see cref="RoundDecimals"/> without autograd.</summary>
    internal static Tensor RoundDecimalsValue(Tensor x, int decimals, MidpointRounding midpoint)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double p = PowerOfTen(x, decimals);
        Tensor u = ScaleDecimals(x, decimals);
        Tensor r = RoundWith(u, midpoint);
        return UnlessOverflow(x, u, decimals >= 0 ? r.Over(p) : r.Times(p)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <paramref name="y"/>, except x itself where the scaled value <paramref name="u"/> overflowed while x is finite
    /// (x is then already on the grid).
    /// </summary>
    internal static Tensor UnlessOverflow(Tensor x, Tensor u, Tensor y)
    {
        using var scope = NewDisposeScope();
        Tensor overflow = u.isfinite().logical_not().logical_and(x.isfinite());
        return where(overflow, x, y).MoveToOuterDisposeScope();
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="RoundDecimalsModule"/>.</summary>
        /// <param name="decimals">Decimal places, -8 to 8.</param>
        /// <param name="midpoint">ToEven or AwayFromZero.</param>
        /// <param name="gradient">Gradient estimator; null means straight-through.</param>
        /// <returns>The module.</returns>
        public static RoundDecimalsModule RoundDecimals(int decimals, MidpointRounding midpoint = MidpointRounding.ToEven, RoundingGradient? gradient = null) =>
            new(decimals, midpoint, gradient);
    }
}

/// <summary>Module form of <see cref="Rounding.RoundDecimals"/>.</summary>
public sealed class RoundDecimalsModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    /// <param name="decimals">Decimal places, -8 to 8.</param>
    /// <param name="midpoint">ToEven or AwayFromZero.</param>
    /// <param name="gradient">Gradient estimator; null means straight-through.</param>
    public RoundDecimalsModule(int decimals, MidpointRounding midpoint = MidpointRounding.ToEven, RoundingGradient? gradient = null)
        : base(nameof(RoundDecimalsModule))
    {
        Check.Decimals(decimals);
        Check.Midpoint(midpoint);

        Decimals = decimals;
        Midpoint = midpoint;
        Gradient = gradient ?? RoundingGradient.StraightThrough;
    }

    /// <summary>Gets the number of decimal places.</summary>
    public int Decimals { get; }

    /// <summary>Gets the midpoint rule.</summary>
    public MidpointRounding Midpoint { get; }

    /// <summary>Gets the gradient estimator.</summary>
    public RoundingGradient Gradient { get; }

    /// <summary>Applies <see cref="Rounding.RoundDecimals"/>.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>The rounded tensor.</returns>
    public override Tensor forward(Tensor input) => Rounding.RoundDecimals(input, Decimals, Midpoint, Gradient);
}

internal sealed class RoundDecimalsFunction : autograd.SingleTensorFunction<RoundDecimalsFunction>
{
    public override string Name => nameof(RoundDecimalsFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            int decimals = (int)vars[1];
            var estimator = (RoundingGradient)vars[3];
            if (estimator is not StraightThroughGradient)
            {
                ctx.save_for_backward(new() { x });
            }
    
            ctx.save_data("decimals", decimals);
            ctx.save_data("estimator", estimator);
            return Rounding.RoundDecimalsValue(x, decimals, (MidpointRounding)vars[2]);
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var estimator = (RoundingGradient)ctx.get_data("estimator");
            if (estimator is StraightThroughGradient)
            {
                return new() { grad_output, null!, null!, null! };
            }
    
            using var noGrad = no_grad();
            var x = ctx.get_saved_variables()[0];
            Tensor u = Rounding.ScaleDecimals(x, (int)ctx.get_data("decimals"));
            return new() { grad_output * estimator.Derivative(u), null!, null!, null! };
        });
    }
}
