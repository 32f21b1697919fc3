using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// The steps of learned rounding, chosen before the rounding itself: a weight step per output channel that minimizes the
/// channel's output error under nearest rounding over a grid of clipping fractions of max |w|, and an activation step
/// that minimizes the squared error of the quantized activations over a grid of fractions of their maximum.
/// </summary>
internal static class StepSearch
{
    /// <summary>The number of candidate steps tried per channel.</summary>
    private const int Candidates = 32;

    /// <summary>
    /// One step per row of <paramref name="weight"/> (outputs, inputs): among s = f · max |w_j| / qmax for fractions f in
    /// [0.25, 1] (1-bit codes: f in [0.05, 1] of max |w_j|), the one whose nearest-rounded row w̃_j gives the smallest
    /// output error (w_j - w̃_j) M (w_j - w̃_j)ᵀ, with M the second moments of the inputs (<see cref="ReconstructionStage.InputMoments"/>).
    /// A row of zeros is searched as if its max |w| were 1.
    /// </summary>
    public static Tensor WeightSteps(Tensor weight, Tensor moments, CodeLattice lattice)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor amax = weight.abs().amax(new long[] { 1 });
        amax = where(amax.Above(0), amax, ones_like(amax));
        double low = lattice.Spacing == 1 ? 0.25 : 0.05;
        Tensor best = amax.Over(lattice.Max);
        Tensor bestError = zeros_like(amax).Plus(double.PositiveInfinity);
        for (int c = 0; c < Candidates; c++)
        {
            using var step = NewDisposeScope();
            double fraction = low + ((1 - low) * c / (Candidates - 1));
            Tensor s = amax.Times(fraction / lattice.Max);
            Tensor difference = weight - (lattice.Nearest(weight / s.unsqueeze(1)) * s.unsqueeze(1));
            Tensor error = (difference.matmul(moments) * difference).sum(1);
            Tensor better = error.lt(bestError);
            best.copy_(where(better, s, best));
            bestError.copy_(where(better, error, bestError));
        }

        return best.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The activation step of ReLU outputs <paramref name="y"/> on <paramref name="bits"/>-bit unsigned codes: among
    /// s = f · max(y) / (2^bits - 1) for f in [0.3, 1], the one with the smallest Σ (clamp(round(y / s), 0, 2^bits - 1) s - y)².
    /// 1 when every output is 0.
    /// </summary>
    public static float ActivationStep(Tensor y, int bits)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double max = y.max().to_type(ScalarType.Float64).item<double>();
        long levels = (1L << bits) - 1;
        if (!(max > 0))
        {
            return 1;
        }

        double best = max / levels, bestError = double.PositiveInfinity;
        for (int c = 0; c < Candidates; c++)
        {
            using var step = NewDisposeScope();
            double s = (0.3 + (0.7 * c / (Candidates - 1))) * max / levels;
            double error = (ActivationCodes(y, s, levels).Times(s) - y).Squared().sum().to_type(ScalarType.Float64).item<double>();
            if (error < bestError)
            {
                (best, bestError) = (s, error);
            }
        }

        return (float)best;
    }

    /// <summary>The activation codes clamp(round(y / s), 0, levels), rounding half to even as the trainer's activation quantizers.</summary>
    public static Tensor ActivationCodes(Tensor y, double step, long levels) => y.Over(step).round().ClampTo(0, levels);
}
