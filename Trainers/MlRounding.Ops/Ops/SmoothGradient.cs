using static TorchSharp.torch;

namespace MlRounding.Ops;

/// <summary>
/// The gradient estimators whose surrogate is one of the smooth ops (sigmoid, softmax, soft round) at a fixed hardness:
/// <see cref="RoundingGradient.Derivative"/> is that op's analytic derivative.
/// </summary>
internal sealed class SmoothGradient : RoundingGradient
{
    private readonly Func<Tensor, Tensor> _surrogate;
    private readonly Func<Tensor, Tensor> _derivative;

    private SmoothGradient(string name, Func<Tensor, Tensor> surrogate, Func<Tensor, Tensor> derivative)
    {
        Name = name;
        _surrogate = surrogate;
        _derivative = derivative;
    }

    public override string Name { get; }

    public static SmoothGradient ForSigmoid(double k)
    {
        Check.InRange(k, 0, Rounding.MaxHardness, nameof(k));
        return new(FormattableString.Invariant($"sigmoid(k={k:R})"), u => Rounding.SoftRound(u, k / 2), u => Rounding.SoftRoundDerivative(u, k / 2));
    }

    public static SmoothGradient ForSoftmax(double beta)
    {
        Check.InRange(beta, 0, Rounding.MaxHardness, nameof(beta));
        return new(FormattableString.Invariant($"softmax(beta={beta:R})"), u => Rounding.Softmax(u, beta), u => Rounding.SoftmaxDerivative(u, beta));
    }

    public static SmoothGradient ForSoftRound(double alpha)
    {
        Check.InRange(alpha, 0, Rounding.MaxHardness, nameof(alpha));
        return new(FormattableString.Invariant($"soft-round(alpha={alpha:R})"), u => Rounding.SoftRound(u, alpha), u => Rounding.SoftRoundDerivative(u, alpha));
    }

    public override Tensor Surrogate(Tensor u) => _surrogate(u);

    public override Tensor Derivative(Tensor u) => _derivative(u);
}
