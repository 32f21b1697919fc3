using MlRounding.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// Learned rounding of one stage's weights (AdaRound, Nagel et al. 2020): each weight w, in code units v = w / s, becomes
/// the lattice point below it plus h(V), where h(V) = clamp(sigmoid(V) (ζ - γ) + γ, 0, 1) is the rectified sigmoid
/// (ζ = 1.1, γ = -0.1) of a learned V, started where h(V) equals v's fractional part (so the first pass is the unrounded
/// weights). Adam lowers the reconstruction error of the stage's output, ‖f(W̃, x̃) - f(W, x)‖² per row, with x̃ the rows as
/// the already-quantized stages before it give them and f(W, x) the float network's output; after the first 20 % of the
/// iterations the regularizer λ Σ (1 - |2h(V) - 1|^β) pushes every h(V) to 0 or 1, β annealed from 20 to 2. Finally each
/// weight rounds up where h(V) ≥ 1/2 (V ≥ 0), down otherwise.
/// </summary>
internal static class AdaRound
{
    private const double Zeta = 1.1;
    private const double Gamma = -0.1;
    private const double WarmStart = 0.2;
    private const double StartBeta = 20;
    private const double EndBeta = 2;

    /// <summary>The regularizer's weight λ (AIMET's default).</summary>
    internal const double Regularization = 0.01;

    /// <summary>Adam's learning rate for V.</summary>
    internal const double LearningRate = 0.01;

    /// <summary>Whether the biases are learned with the rounding (study switch).</summary>
    internal static bool LearnBias { get; set; }

    /// <summary>Whether the steps are learned with the rounding, as a per-channel factor (study switch).</summary>
    internal static bool LearnSteps { get; set; }

    /// <summary>Adam's learning rate for V (study switch).</summary>
    internal static double Rate { get; set; } = LearningRate;

    /// <summary>
    /// The learned codes of <paramref name="weight"/> (outputs, inputs) at the per-row steps <paramref name="steps"/>, with
    /// the steps and biases they go with; <paramref name="observe"/> sees each iteration's reconstruction error (before
    /// the regularizer).
    /// </summary>
    public static (Tensor Codes, Tensor Steps, Tensor Bias) Learn(ReconstructionStage stage, Tensor weight, Tensor steps, CodeLattice lattice, Tensor inputs, Tensor target,
        int iterations, int batchSize, Generator generator, CancellationToken cancellation, Action<int, double>? observe)
    {
        using var scope = NewDisposeScope();
        Tensor s = steps.unsqueeze(1);
        Tensor position = lattice.Position(weight / s);
        Tensor floor = position.floor();
        Tensor start = (position - floor).Minus(Gamma).Over(Zeta - Gamma).ClampTo(0.01, 0.99);
        using var v = new TorchSharp.Modules.Parameter(start.log() - (start.SubtractedFrom(1)).log());
        using var bias = new TorchSharp.Modules.Parameter(stage.Bias.clone(), requires_grad: LearnBias);
        using var logScale = new TorchSharp.Modules.Parameter(zeros_like(steps), requires_grad: LearnSteps);
        var parameters = new List<TorchSharp.Modules.Parameter> { v };
        if (LearnBias) parameters.Add(bias);
        if (LearnSteps) parameters.Add(logScale);
        using var optimizer = optim.Adam(parameters, Rate);
        long rows = inputs.shape[0];
        int batch = (int)Math.Min(batchSize, rows);
        double perRow = (double)target.shape[1] / stage.Outputs; // positions per channel: the error is per row and position
        int warm = (int)(iterations * WarmStart);
        for (int i = 0; i < iterations; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            Tensor picked = randint(0, rows, new long[] { batch }, generator: generator);
            Tensor h = Rectified(v);
            Tensor quantized = lattice.Code(floor + h) * (s * logScale.exp().unsqueeze(1));
            Tensor output = stage.Forward(inputs.index_select(0, picked), quantized, bias);
            Tensor reconstruction = (output - target.index_select(0, picked)).square().sum(1).mean().Over(perRow);
            Tensor loss = reconstruction;
            if (i >= warm)
            {
                double beta = EndBeta + ((StartBeta - EndBeta) * (1 - ((double)(i - warm) / Math.Max(1, iterations - warm))));
                loss = loss + (h.Times(2).Minus(1).abs().pow(beta).SubtractedFrom(1).sum().Times(Regularization));
            }

            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            observe?.Invoke(i, reconstruction.to_type(ScalarType.Float64).item<double>());
        }

        using var noGrad = no_grad();
        Tensor codes = lattice.Code(floor + v.ge(0).to_type(floor.dtype));
        return (codes.MoveToOuterDisposeScope(), (steps * logScale.exp()).MoveToOuterDisposeScope(), bias.detach().clone().MoveToOuterDisposeScope());
    }

    /// <summary>h(V) = clamp(sigmoid(V) (ζ - γ) + γ, 0, 1).</summary>
    private static Tensor Rectified(Tensor v) => sigmoid(v).Times(Zeta - Gamma).Plus(Gamma).ClampTo(0, 1);
}
