using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Sigmoid-smoothed round of steepness <paramref name="k"/>: the staircase
    /// floor(x) + (σ(k (r - 1/2)) - σ(-k/2)) / (σ(k/2) - σ(-k/2)), r = x - floor(x).
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="k">Steepness in [0, 1e30]; 0 is the identity, large k tends to round(x).</param>
    /// <param name="hard">False (soft mode): the output is the smooth staircase. True (hard mode): the output is
    /// round(x) and the gradient is the staircase's derivative.</param>
    /// <returns>The rounded or smoothed tensor.</returns>
    /// <remarks>
    /// <para>The normalisation makes every step start and end on an integer, so the curve is continuous and
    /// monotone everywhere. The widely copied <c>sigmoid(k*(x - round(x))) + round(x) - 0.5</c> lacks it: it jumps
    /// at every half-integer and converges to a staircase offset by 1/2.</para>
    /// <para>With σ(a) = (1 + tanh(a/2)) / 2 the staircase equals <see cref="SoftRound"/> with alpha = k/2, which is
    /// how it is computed: stable for every k, with no cancellation between nearly equal sigmoids.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside [0, 1e30].</exception>
    public static Tensor Sigmoid(Tensor x, double k, bool hard = false)
    {
        TensorCheck.Floating(x, nameof(x));
        Check.InRange(k, 0, MaxHardness, nameof(k));
        return hard ? RoundingGradient.Sigmoid(k).Round(x) : SoftRound(x, k / 2);
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="SigmoidModule"/> module.</summary>
        /// <param name="k">Initial steepness in [0, 1e30].</param>
        /// <param name="hard">Hard mode (round forward, smooth gradient) or soft mode.</param>
        /// <returns>The module.</returns>
        public static SigmoidModule Sigmoid(double k, bool hard = false) => new(k, hard);
    }
}

/// <summary>Module form of <see cref="Rounding.Sigmoid"/>, with a steepness that a <see cref="HardnessSchedule"/> can anneal.</summary>
public sealed class SigmoidModule : SmoothRoundingModule
{
    /// <summary>Creates the module.</summary>
    /// <param name="k">Initial hardness in [0, 1e30].</param>
    /// <param name="hard">Hard mode (round forward, smooth gradient) or soft mode.</param>
    public SigmoidModule(double k, bool hard = false) : base(nameof(SigmoidModule), k, hard, nameof(k))
    {
    }

    /// <summary>Applies the op with the current hardness.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>The rounded or smoothed tensor.</returns>
    public override Tensor forward(Tensor input) => Rounding.Sigmoid(input, Hardness, Hard);
}
