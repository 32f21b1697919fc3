using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Softmax round (soft-to-hard quantization, Agustsson et al. 2017): the average of the integers c weighted
    /// by softmax(-beta (x - c)^2), i.e. y = Σ c exp(-beta (x - c)^2) / Σ exp(-beta (x - c)^2) over all integers c.
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="beta">Sharpness in [0, 1e30]; 0 is the identity, large beta tends to round(x).</param>
    /// <param name="hard">False (soft mode): the output is the weighted average. True (hard mode): the output is
    /// round(x) and the gradient is the average's derivative.</param>
    /// <returns>The rounded or smoothed tensor.</returns>
    /// <remarks>
    /// <para>The weights favour the nearer integer. (The common two-candidate snippet that weights floor by the
    /// distance to floor favours the farther one and converges to the wrong value.)</para>
    /// <para>The sum runs over every integer, so the result is continuous and monotone (dy/dx = 2 beta Var_w(c) &gt;= 0)
    /// and y(x + 1) = y(x) + 1. It is evaluated exactly to working precision in two regimes: for beta &gt;= π by
    /// direct summation over the integers within sqrt(40 / beta) + 1 of x (the rest weigh under e^-40); for
    /// beta &lt; π through the Jacobi theta (Poisson) form y = x - (2π/beta) Σk q^(k²) sin(2πkr) / (1 + 2Σ q^(k²)
    /// cos(2πkr)), q = exp(-π²/beta), r = x - floor(x), whose terms vanish fast.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> is outside [0, 1e30].</exception>
    public static Tensor Softmax(Tensor x, double beta, bool hard = false)
    {
        TensorCheck.Floating(x, nameof(x));
        Check.InRange(beta, 0, MaxHardness, nameof(beta));
        if (hard)
        {
            return RoundingGradient.Softmax(beta).Round(x);
        }

        if (beta == 0)
        {
            return x.clone();
        }

        using var scope = NewDisposeScope();
        Tensor finite = x.isfinite();
        Tensor xs = Sanitize(x, finite);
        Tensor floor = xs.detach().floor();
        Tensor r = xs - floor;
        Tensor fraction = beta >= Math.PI ? SoftmaxDirect(r, beta) : SoftmaxTheta(r, beta);
        return where(finite, floor.Plus(fraction), x.detach()).MoveToOuterDisposeScope();
    }

    /// <summary>Candidate offsets j (integers floor(x) + j) used by the direct regime.</summary>
    internal static Tensor SoftmaxCandidates(Tensor r, double beta)
    {
        int k = (int)Math.Ceiling(Math.Sqrt(40 / beta)) + 1;
        using Scalar start = (-k + 1).ToScalar(), stop = (k + 1).ToScalar();
        return arange(start, stop, ScalarArithmetic.One, dtype: r.dtype, device: r.device);
    }

    /// <summary>Σ_j j softmax_j(-beta (r - j)^2), the direct regime.</summary>
    internal static Tensor SoftmaxDirect(Tensor r, double beta)
    {
        using var scope = NewDisposeScope();
        Tensor j = SoftmaxCandidates(r, beta);
        Tensor distance = r.unsqueeze(-1) - j;
        Tensor weights = distance.Squared().Times(-beta).softmax(-1);
        return (weights * j).sum(-1).MoveToOuterDisposeScope();
    }

    /// <summary>r - (2π/beta) S / C with the theta-series sums S and C, the small-beta regime.</summary>
    internal static Tensor SoftmaxTheta(Tensor r, double beta)
    {
        using var scope = NewDisposeScope();
        Tensor numerator = zeros_like(r);
        Tensor denominator = ones_like(r);
        foreach (var (k, a, b) in ThetaTerms(beta))
        {
            Tensor angle = r.Times(2 * Math.PI * k);
            numerator = numerator.Plus(angle.sin().Times(a));
            denominator = denominator.Plus(angle.cos().Times(b));
        }

        return (r - numerator / denominator).MoveToOuterDisposeScope();
    }

    /// <summary>Terms k = 1, 2, ... of the theta series with a_k = (2π/beta) k q^(k²) and b_k = 2 q^(k²), while b_k &gt; 1e-30.</summary>
    internal static IEnumerable<(int K, double A, double B)> ThetaTerms(double beta)
    {
        double logQ = -Math.PI * Math.PI / beta;
        for (int k = 1; ; k++)
        {
            double b = 2 * Math.Exp(logQ * k * k);
            if (b < 1e-30)
            {
                yield break;
            }

            yield return (k, 2 * Math.PI / beta * k * b / 2, b);
        }
    }

    /// <summary>d/dx of the soft softmax round, analytic: 2 beta Var_w(c) (direct) or the derivative of the theta form.</summary>
    internal static Tensor SoftmaxDerivative(Tensor x, double beta)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (beta == 0)
        {
            return ones_like(x).MoveToOuterDisposeScope();
        }

        Tensor finite = x.isfinite();
        Tensor xs = Sanitize(x.detach(), finite);
        Tensor r = xs - xs.floor();
        Tensor d;
        if (beta >= Math.PI)
        {
            Tensor j = SoftmaxCandidates(r, beta);
            Tensor weights = (r.unsqueeze(-1) - j).Squared().Times(-beta).softmax(-1);
            Tensor mean = (weights * j).sum(-1, keepdim: true);
            d = (weights * (j - mean).Squared()).sum(-1).Times(2 * beta);
        }
        else
        {
            Tensor s = zeros_like(r), ds = zeros_like(r), c = ones_like(r), dc = zeros_like(r);
            foreach (var (k, a, b) in ThetaTerms(beta))
            {
                double w = 2 * Math.PI * k;
                Tensor angle = r.Times(w);
                Tensor sin = angle.sin(), cos = angle.cos();
                s = s.Plus(sin.Times(a));
                ds = ds.Plus(cos.Times(a * w));
                c = c.Plus(cos.Times(b));
                dc = dc - sin.Times(b * w);
            }

            d = ((ds * c - s * dc) / c.Squared()).SubtractedFrom(1);
        }

        return where(finite, d, zeros_like(d)).MoveToOuterDisposeScope();
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="SoftmaxModule"/> module.</summary>
        /// <param name="beta">Initial sharpness in [0, 1e30].</param>
        /// <param name="hard">Hard mode (round forward, smooth gradient) or soft mode.</param>
        /// <returns>The module.</returns>
        public static SoftmaxModule Softmax(double beta, bool hard = false) => new(beta, hard);
    }
}

/// <summary>Module form of <see cref="Rounding.Softmax"/>, with a sharpness that a <see cref="HardnessSchedule"/> can anneal.</summary>
public sealed class SoftmaxModule : SmoothRoundingModule
{
    /// <summary>Creates the module.</summary>
    /// <param name="beta">Initial hardness in [0, 1e30].</param>
    /// <param name="hard">Hard mode (round forward, smooth gradient) or soft mode.</param>
    public SoftmaxModule(double beta, bool hard = false) : base(nameof(SoftmaxModule), beta, hard, nameof(beta))
    {
    }

    /// <summary>Applies the op with the current hardness.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>The rounded or smoothed tensor.</returns>
    public override Tensor forward(Tensor input) => Rounding.Softmax(input, Hardness, Hard);
}
