using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// Post-training quantization of a float network (<see cref="QuantizedMlp"/> with float weights and activations), one
/// weight matrix at a time, input first. The calibration rows go through the float network (the targets) and through the
/// stages already quantized (the inputs each stage is fitted on, so it corrects the errors before it). Per stage: the
/// per-channel weight steps (<see cref="StepSearch.WeightSteps"/>), the codes (<see cref="AdaRound"/>, or nearest; the
/// learned codes are kept only where their output error on the calibration rows is below nearest rounding's), then the
/// activation step of its output (<see cref="StepSearch.ActivationStep"/>).
/// </summary>
internal static class LearnedRounding
{
    /// <summary>
    /// The integer network, from <paramref name="count"/> calibration rows of raw features (row-major); one report per
    /// weight matrix goes to <paramref name="progress"/> (by default the options' own).
    /// </summary>
    public static QuantizedMlp Quantize(QuantizedMlp network, float[] rows, int count, LearnedRoundingOptions options, IProgress<LearnedRoundingProgress>? progress = null)
    {
        progress ??= options.Progress;
        CheckFloat(network);
        using var stagesScope = NewDisposeScope();
        ReconstructionStage[] stages = ReconstructionStage.Of(network);
        options.Validate(stages.Length);
        if (count < 1)
        {
            throw new InvalidOperationException("No calibration row has finite features.");
        }

        LibTorchSetup.ForTraining(options.NumberOfThreads);

        int d = network.FeatureCount;
        var (grid, empty) = options.InputBits == 32 ? (null, null) : FitInputGrid(network, rows.AsSpan(0, count * d), d, options.InputBits);
        float[] seen = rows.AsSpan(0, count * d).ToArray();
        grid?.Apply(seen, d);
        int[] bits = options.BitsOfLayers(stages.Length);
        using var generator = new Generator((ulong)options.Seed);
        manual_seed(options.Seed);
        Tensor floatRows = tensor(rows.AsSpan(0, count * d).ToArray()).reshape(count, d);
        Tensor quantizedRows = tensor(seen).reshape(count, d);
        var layers = new QuantizedLayer[stages.Length];
        for (int i = 0; i < stages.Length; i++)
        {
            using var scope = NewDisposeScope();
            ReconstructionStage stage = stages[i];
            Tensor weight = i == 0 && grid is not null ? InputScaled(stage, network, grid, empty!) : stage.Weight;
            Tensor target;
            using (no_grad())
            {
                target = stage.Forward(floatRows, stage.Weight);
            }

            var (quantized, layer) = QuantizeStage(stage, weight, bits[i], quantizedRows, target, options, generator, progress, i, stages.Length);
            layers[i] = layer;
            floatRows = target.MoveToOuterDisposeScope();
            quantizedRows = quantized.MoveToOuterDisposeScope();
        }

        int blocks = network.Convolutions.Count;
        AffineGrid? inputGrid = grid?.Grid;
        float inputStep = grid?.Step ?? 0;
        return blocks == 0
            ? new QuantizedMlp(network.Task, network.Classes, layers, null, inputGrid, inputStep, network.OutputScale, network.OutputShift)
            : new QuantizedMlp(network.Task, network.Classes,
                network.Convolutions.Select((c, i) => new QuantizedConvolution(c.Input, c.KernelSize, layers[i], c.PoolSize)).ToArray(),
                layers[blocks..], inputGrid, inputStep, network.OutputScale, network.OutputShift);
    }

    /// <summary>One stage: its codes and steps, its output on the quantized rows (quantized to its activation grid when hidden), and the layer.</summary>
    private static (Tensor Output, QuantizedLayer Layer) QuantizeStage(ReconstructionStage stage, Tensor weight, int bits, Tensor inputs, Tensor target,
        LearnedRoundingOptions options, Generator generator, IProgress<LearnedRoundingProgress>? progress, int index, int stageCount)
    {
        using var scope = NewDisposeScope();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int outputs = stage.Outputs, width = (int)weight.shape[1];
        Tensor quantizedWeight;
        int[] codesOut = Array.Empty<int>();
        float[] stepsOut = Array.Empty<float>();
        double nearestError = double.NaN, error = double.NaN;
        if (bits == 32)
        {
            quantizedWeight = weight;
        }
        else
        {
            var lattice = CodeLattice.For(bits);
            Tensor steps;
            Tensor codes;
            using (no_grad())
            {
                steps = StepSearch.WeightSteps(weight, stage.InputMoments(inputs), lattice);
                codes = lattice.Nearest(weight / steps.unsqueeze(1));
                nearestError = OutputError(stage, codes * steps.unsqueeze(1), inputs, target);
                error = nearestError;
            }

            if (options.Rounding == PostTrainingRounding.Learned)
            {
                var learned = AdaRound.Learn(stage, weight, steps, lattice, inputs, target, nearestError, options.Iterations, options.BatchSize, generator, options.CancellationToken);
                using var noGrad = no_grad();
                double learnedError = OutputError(stage, learned.Codes * learned.Steps.unsqueeze(1), inputs, target);
                if (learnedError < nearestError)
                {
                    (codes, steps, error) = (learned.Codes, learned.Steps, learnedError);
                }
            }

            quantizedWeight = codes * steps.unsqueeze(1);
            codesOut = codes.to_type(ScalarType.Int32).contiguous().data<int>().ToArray();
            stepsOut = steps.contiguous().data<float>().ToArray();
        }

        using var noGradient = no_grad();
        Tensor output = stage.Forward(inputs, quantizedWeight);
        int activationBits = stage.Hidden ? options.ActivationBits : 32;
        float activationStep = 1;
        if (activationBits != 32)
        {
            activationStep = StepSearch.ActivationStep(output, activationBits);
            output = StepSearch.ActivationCodes(output, activationStep, (1L << activationBits) - 1).Times(activationStep);
        }

        float[] bias = stage.Bias.data<float>().ToArray();
        QuantizedLayer layer = bits == 32
            ? new QuantizedLayer(width, outputs, weight.contiguous().data<float>().ToArray(), bias, activationBits, activationStep)
            : new QuantizedLayer(width, outputs, bits, codesOut, stepsOut, bias, activationBits, activationStep);
        progress?.Report(new LearnedRoundingProgress(index + 1, stageCount, nearestError, error, watch.Elapsed.TotalSeconds));
        return (output.MoveToOuterDisposeScope(), layer);
    }

    /// <summary>The stage's output error of quantized weights (<see cref="ReconstructionStage.Error"/>): mean over rows (and positions) of the squared distance to the float output.</summary>
    internal static double OutputError(ReconstructionStage stage, Tensor quantizedWeight, Tensor inputs, Tensor target)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return stage.Error(stage.Forward(inputs, quantizedWeight), target).to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>
    /// The per-feature input grid of the calibration rows (per channel for an image), as the trainer fits it
    /// (<see cref="InputGrid.Fit"/>): the first layer then sees (q - z) / (2^bits - 1).
    /// </summary>
    private static (InputGrid Grid, bool[] Empty) FitInputGrid(QuantizedMlp network, ReadOnlySpan<float> rows, int d, int bits)
    {
        var (lows, highs) = InputGrid.Ranges(rows, d);
        if (network.InputShape is { } image)
        {
            InputGrid.PerChannel(lows, highs, image.Height * image.Width);
        }

        return (InputGrid.Fit(bits, lows, highs), lows.Zip(highs, (lo, hi) => lo == 0 && hi == 0).ToArray());
    }

    /// <summary>
    /// The first stage's weights for inputs on the grid: the float network multiplies feature x_k, the quantized one
    /// (q - z) · step ≈ x_k · step / s_k, so column k is scaled by s_k / step. A feature that is 0 on every calibration row
    /// (a zero-width range) gets weight 0: the calibration rows say nothing about its scale.
    /// </summary>
    private static Tensor InputScaled(ReconstructionStage stage, QuantizedMlp network, InputGrid grid, bool[] empty)
    {
        int width = (int)stage.Weight.shape[1];
        var factors = new float[width];
        int taps = stage.Block is { } block ? block.KernelSize * block.KernelSize : 1;
        int plane = network.InputShape is { } image ? image.Height * image.Width : 1;
        for (int k = 0; k < width; k++)
        {
            int feature = k / taps * plane; // a filter column's channel, through its first pixel; a dense column's feature
            factors[k] = empty[feature] ? 0 : (float)(grid.Grid.Scales[feature] / grid.Step);
        }

        return stage.Weight * tensor(factors).unsqueeze(0);
    }

    /// <summary>Refuses a network that is not float: learned rounding starts from float weights and activations.</summary>
    private static void CheckFloat(QuantizedMlp network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var matrices = network.Convolutions.Select(c => c.Filters).Concat(network.Layers).ToList();
        if (matrices.Any(l => !l.HasFloatWeights || l.ActivationBits != 32) || network.InputGrid is not null || network.Roundings.Count > 0)
        {
            throw new ArgumentException("Learned rounding starts from a float network (float weights and activations, no input grid, no rounding layers): train it with QatMode.Float, or read it from ONNX.", nameof(network));
        }
    }
}
