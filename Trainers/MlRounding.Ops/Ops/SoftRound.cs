using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>Largest accepted hardness (alpha, k, beta). Beyond it the ops are indistinguishable from rounding.</summary>
    public const double MaxHardness = 1e30;

    // Below this alpha the closed form tanh(alpha r) / (2 tanh(alpha / 2)) loses precision (both factors
    // vanish); its series r (1 + alpha^2 (1/12 - r^2 / 3)) is exact to O(alpha^4) < 1e-16 there.
    internal const double SeriesAlpha = 1e-4;

    /// <summary>
    /// Soft round of Agustsson &amp; Theis (2020), "Universally Quantized Neural Compression":
    /// s(x) = m + tanh(alpha r) / (2 tanh(alpha / 2)), with m = floor(x) + 1/2 and r = x - m.
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="alpha">Hardness in [0, 1e30]. alpha = 0 is exactly the identity (its own branch); as alpha grows
    /// s(x) tends to round(x) everywhere but at half-integers, which are fixed points for every alpha.</param>
    /// <returns>s(x), differentiable by autograd with a finite gradient for every valid alpha; NaN and
    /// infinities pass through with gradient zero.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is outside [0, 1e30].</exception>
    public static Tensor SoftRound(Tensor x, double alpha)
    {
        if (IdentityAtZero(x, alpha, nameof(x)) is { } same)
        {
            return same;
        }

        using var scope = NewDisposeScope();
        Tensor finite = x.isfinite();
        var (floor, centered) = Split(Sanitize(x, finite));
        Tensor fraction = SoftFraction(centered, alpha);
        return where(finite, floor.Plus(fraction), x.detach()).MoveToOuterDisposeScope();
    }

    /// <summary>Checks the tensor and alpha; alpha = 0 is exactly the identity, its own branch: a copy of the tensor then, else null.</summary>
    private static Tensor? IdentityAtZero(Tensor t, double alpha, string name)
    {
        TensorCheck.Floating(t, name);
        Check.InRange(alpha, 0, MaxHardness, nameof(alpha));
        return alpha == 0 ? t.clone() : null;
    }

    /// <summary>Inverse of <see cref="SoftRound"/>: x = m + atanh(2 r tanh(alpha / 2)) / alpha, m = floor(y) + 1/2, r = y - m.</summary>
    /// <param name="y">A float32 or float64 tensor of any shape.</param>
    /// <param name="alpha">Hardness in [0, 1e30]; 0 is the identity.</param>
    /// <returns>The x with s(x) = y. Integers map to themselves; the atanh argument is clamped inside (-1, 1), so
    /// values and gradients stay finite where tanh(alpha / 2) rounds to 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is outside [0, 1e30].</exception>
    public static Tensor SoftRoundInverse(Tensor y, double alpha)
    {
        if (IdentityAtZero(y, alpha, nameof(y)) is { } same)
        {
            return same;
        }

        using var scope = NewDisposeScope();
        Tensor finite = y.isfinite();
        Tensor ys = Sanitize(y, finite);
        var (floor, centered) = Split(ys);
        Tensor offset;
        if (alpha < SeriesAlpha)
        {
            offset = centered * (centered * centered).Over(3).SubtractedFrom(1.0 / 12).Times(alpha * alpha).SubtractedFrom(1);
        }
        else
        {
            double limit = 1 - (y.dtype == ScalarType.Float32 ? 1.2e-7 : 2.3e-16);
            Tensor argument = centered.Times(2 * Math.Tanh(alpha / 2)).ClampTo(-limit, limit);
            offset = argument.atanh().Over(alpha);
        }

        Tensor x = floor.Plus(0.5).Plus(offset).clamp_(floor, floor.Plus(1));
        Tensor onInteger = where(ys.eq(floor), ys, x);
        return where(finite, onInteger, y.detach()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Conditional mean of soft round (Agustsson &amp; Theis 2020, eq. 11): E[X | s(X) + U = y] for U uniform on
    /// [-1/2, 1/2], equal to SoftRoundInverse(y - 1/2, alpha) + 1/2.
    /// </summary>
    /// <param name="y">A float32 or float64 tensor of any shape.</param>
    /// <param name="alpha">Hardness in [0, 1e30]; 0 is the identity, large alpha tends to round(y).</param>
    /// <returns>The conditional mean.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is outside [0, 1e30].</exception>
    public static Tensor SoftRoundConditionalMean(Tensor y, double alpha)
    {
        TensorCheck.Floating(y, nameof(y));
        Check.InRange(alpha, 0, MaxHardness, nameof(alpha));
        using var scope = NewDisposeScope();
        return SoftRoundInverse(y.Minus(0.5), alpha).Plus(0.5).MoveToOuterDisposeScope();
    }

    /// <summary>x where finite, 0 elsewhere: keeps NaN out of intermediate results, whose zero gradient would turn into NaN.</summary>
    internal static Tensor Sanitize(Tensor x, Tensor finite) => where(finite, x, zeros_like(x));

    /// <summary>floor(x) (no gradient) and r - 1/2 where r = x - floor(x) in [0, 1) is exact.</summary>
    internal static (Tensor Floor, Tensor Centered) Split(Tensor x)
    {
        Tensor floor = x.detach().floor();
        return (floor, (x - floor).Minus(0.5));
    }

    /// <summary>1/2 + tanh(alpha c) / (2 tanh(alpha / 2)) for c = r - 1/2 in [-1/2, 1/2).</summary>
    internal static Tensor SoftFraction(Tensor centered, double alpha)
    {
        Tensor fraction = alpha < SeriesAlpha
            ? (centered * (centered * centered).Over(3).SubtractedFrom(1.0 / 12).Times(alpha * alpha).Plus(1)).Plus(0.5)
            : centered.Times(alpha).tanh().Times(0.5 / Math.Tanh(alpha / 2)).Plus(0.5);

        // At integers (c = -1/2) the fraction is 0 up to an ulp of tanh; make it exactly 0, so s(n) = n, while
        // keeping its gradient (the subtracted copy carries none).
        Tensor atInteger = centered.detach().EqualTo(-0.5);
        return fraction - where(atInteger, fraction.detach(), zeros_like(fraction));
    }

    /// <summary>d/dx of <see cref="SoftRound"/>: alpha (1 - tanh^2(alpha c)) / (2 tanh(alpha / 2)); zero at non-finite x.</summary>
    internal static Tensor SoftRoundDerivative(Tensor x, double alpha)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (alpha == 0)
        {
            return ones_like(x).MoveToOuterDisposeScope();
        }

        var (_, c) = Split(x.detach());
        Tensor d = alpha < SeriesAlpha
            ? (c * c).SubtractedFrom(1.0 / 12).Times(alpha * alpha).Plus(1)
            : c.Times(alpha).tanh().Squared().SubtractedFrom(1).Times(alpha * 0.5 / Math.Tanh(alpha / 2));
        return where(x.isfinite(), d, zeros_like(d)).MoveToOuterDisposeScope();
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="SoftRoundModule"/>.</summary>
        /// <param name="alpha">Initial hardness in [0, 1e30].</param>
        /// <returns>The module.</returns>
        public static SoftRoundModule SoftRound(double alpha) => new(alpha);
    }
}

/// <summary>Module form of <see cref="Rounding.SoftRound"/>, with a hardness that a <see cref="HardnessSchedule"/> can anneal.</summary>
public sealed class SoftRoundModule : SmoothRoundingModule
{
    /// <summary>Creates the module.</summary>
    /// <param name="alpha">Initial hardness in [0, 1e30].</param>
    public SoftRoundModule(double alpha) : base(nameof(SoftRoundModule), alpha, false, nameof(alpha))
    {
    }

    /// <summary>Applies the op with the current hardness.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>The rounded or smoothed tensor.</returns>
    public override Tensor forward(Tensor input) => Rounding.SoftRound(input, Hardness);
}
