using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Finite-difference estimator: forward round half to even; backward (R(x + h) - R(x - h)) / (2h), the central
    /// difference of the staircase R over half-width <paramref name="h"/>.
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="h">Half-width in (0, 1e30].</param>
    /// <returns>round(x) with the finite-difference gradient.</returns>
    /// <remarks>
    /// The difference counts the rounding thresholds k + 1/2 in (x - h, x + h] with one consistent tie rule,
    /// R(v) = floor(v + 1/2), so that h = 1/2 gives exactly 1 everywhere (straight-through). (With half-to-even
    /// ties on both ends, x = 0 would give 0 and x = 1 would give 2.) The gradient is finite for every valid h:
    /// 1/(2h) is formed in float64 and h is bounded. It is the exact derivative of the box-filtered staircase
    /// (1/2h) ∫ R over [x - h, x + h], which <see cref="RoundingGradient.Surrogate"/> returns.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="h"/> is outside (0, 1e30].</exception>
    public static Tensor FiniteDifference(Tensor x, double h)
    {
        TensorCheck.Floating(x, nameof(x));
        return RoundingGradient.FiniteDifference(h).Round(x);
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="FiniteDifferenceModule"/> module.</summary>
        /// <param name="h">Half-width in (0, 1e30].</param>
        /// <returns>The module.</returns>
        public static FiniteDifferenceModule FiniteDifference(double h) => new(h);
    }
}

/// <summary>Module form of <see cref="Rounding.FiniteDifference"/>.</summary>
public sealed class FiniteDifferenceModule : nn.Module<Tensor, Tensor>
{
    private readonly RoundingGradient _estimator;

    /// <summary>Creates the module.</summary>
    /// <param name="h">Half-width in (0, 1e30].</param>
    public FiniteDifferenceModule(double h) : base(nameof(FiniteDifferenceModule))
    {
        _estimator = RoundingGradient.FiniteDifference(h);
        H = h;
    }

    /// <summary>Gets the half-width h.</summary>
    public double H { get; }

    /// <summary>Applies <see cref="Rounding.FiniteDifference"/>.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>round(input) with the finite-difference gradient.</returns>
    public override Tensor forward(Tensor input) => _estimator.Round(input);
}

internal sealed class FiniteDifferenceGradient : RoundingGradient
{
    private readonly double _h;

    public FiniteDifferenceGradient(double h)
    {
        Check.Positive(h, Rounding.MaxHardness, nameof(h));
        _h = h;
    }

    public override string Name => FormattableString.Invariant($"finite-difference(h={_h:R})");

    public override Tensor Derivative(Tensor u)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor v = u.detach();
        Tensor steps = v.Plus(_h + 0.5).floor() - v.Minus(_h - 0.5).floor();
        Tensor d = steps.Times(0.5 / _h);
        return where(v.isfinite(), d, zeros_like(d)).MoveToOuterDisposeScope();
    }

    // (G(u + h + 1/2) - G(u - h + 1/2)) / 2h with G(t) = ∫_0^t floor = f (f - 1) / 2 + f (t - f), f = floor(t).
    public override Tensor Surrogate(Tensor u)
    {
        using var scope = NewDisposeScope();
        return (Primitive(u.Plus(_h + 0.5)) - Primitive(u.Minus(_h - 0.5))).Times(0.5 / _h).MoveToOuterDisposeScope();
    }

    private static Tensor Primitive(Tensor t)
    {
        Tensor f = t.detach().floor();
        return (f * f.Minus(1)).Times(0.5).Plus(f * (t - f));
    }
}
