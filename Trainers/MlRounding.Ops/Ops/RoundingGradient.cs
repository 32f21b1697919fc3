using static TorchSharp.torch;

namespace MlRounding.Ops;

/// <summary>
/// A gradient estimator for rounding: the forward pass rounds half to even, the backward pass multiplies the
/// incoming gradient by <see cref="Derivative"/>, the derivative of a smooth <see cref="Surrogate"/> of rounding.
/// </summary>
/// <remarks>
/// Instances are immutable and thread-safe. Use the static factories (<see cref="StraightThrough"/>,
/// <see cref="Sigmoid"/>, <see cref="Softmax"/>, <see cref="FiniteDifference"/>, <see cref="SoftRound"/>,
/// <see cref="Noise"/>) or derive your own.
/// </remarks>
public abstract class RoundingGradient
{
    /// <summary>Gets a short name of the estimator and its parameter, for logs and saved models.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The smooth function whose derivative the backward pass uses, differentiable by autograd. Gradient checks
    /// compare <see cref="Round"/>'s backward against finite differences of this function.
    /// </summary>
    /// <param name="u">A float32 or float64 tensor.</param>
    /// <returns>A new tensor of the same shape and type.</returns>
    public abstract Tensor Surrogate(Tensor u);

    /// <summary>The element-wise derivative of <see cref="Surrogate"/>, computed without autograd; zero at NaN and infinities.</summary>
    /// <param name="u">A float32 or float64 tensor.</param>
    /// <returns>A new tensor of the same shape and type, with no autograd history.</returns>
    public abstract Tensor Derivative(Tensor u);

    /// <summary>Rounds half to even in the forward pass; the backward pass multiplies by <see cref="Derivative"/>.</summary>
    /// <param name="x">A float32 or float64 tensor.</param>
    /// <returns>round(x), a new tensor connected to <paramref name="x"/> by this estimator's gradient.</returns>
    public virtual Tensor Round(Tensor x)
    {
        TensorCheck.Floating(x, nameof(x));
        return SurrogateRoundFunction.apply(x, this);
    }

    /// <summary>Straight-through: identity gradient (Bengio et al. 2013).</summary>
    public static RoundingGradient StraightThrough { get; } = new StraightThroughGradient();

    /// <summary>Noise proxy: the surrogate is E[round(x + U)] = x for U uniform on [-1/2, 1/2], so the gradient is 1.</summary>
    public static RoundingGradient Noise { get; } = new NoiseGradient();

    /// <summary>Gradient of the sigmoid-smoothed staircase of steepness <paramref name="k"/>; see <see cref="Rounding.Sigmoid"/>.</summary>
    /// <param name="k">Steepness, in [0, 1e30].</param>
    /// <returns>The estimator.</returns>
    public static RoundingGradient Sigmoid(double k) => SmoothGradient.ForSigmoid(k);

    /// <summary>Gradient of the softmax round of sharpness <paramref name="beta"/>; see <see cref="Rounding.Softmax"/>.</summary>
    /// <param name="beta">Sharpness, in [0, 1e30].</param>
    /// <returns>The estimator.</returns>
    public static RoundingGradient Softmax(double beta) => SmoothGradient.ForSoftmax(beta);

    /// <summary>Central finite difference of the staircase with half-width <paramref name="h"/>; see <see cref="Rounding.FiniteDifference"/>.</summary>
    /// <param name="h">Half-width, in (0, 1e30].</param>
    /// <returns>The estimator.</returns>
    public static RoundingGradient FiniteDifference(double h) => new FiniteDifferenceGradient(h);

    /// <summary>Gradient of soft round with hardness <paramref name="alpha"/>; see <see cref="Rounding.SoftRound"/>.</summary>
    /// <param name="alpha">Hardness, in [0, 1e30].</param>
    /// <returns>The estimator.</returns>
    public static RoundingGradient SoftRound(double alpha) => SmoothGradient.ForSoftRound(alpha);

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Zero where <paramref name="u"/> is NaN or infinite, <paramref name="d"/> elsewhere.</summary>
    private protected static Tensor ZeroWhereNotFinite(Tensor u, Tensor d) => where(u.isfinite(), d, zeros_like(d));
}

internal sealed class StraightThroughGradient : RoundingGradient
{
    public override string Name => "straight-through";

    public override Tensor Surrogate(Tensor u) => u.clone();

    public override Tensor Derivative(Tensor u) => ones_like(u);

    public override Tensor Round(Tensor x) => Rounding.StraightThrough(x);
}

internal sealed class NoiseGradient : RoundingGradient
{
    public override string Name => "noise";

    public override Tensor Surrogate(Tensor u) => u.clone();

    public override Tensor Derivative(Tensor u) => ones_like(u);
}
