namespace MlRounding.Trainers;

/// <summary>
/// Options of <see cref="LearnedRoundingCatalog.QuantizeNetwork{TTransformer}(Microsoft.ML.ModelOperationsCatalog, TTransformer, Microsoft.ML.IDataView, LearnedRoundingOptions)"/>:
/// how a trained float network becomes an integer one from unlabeled calibration rows.
/// </summary>
public sealed class LearnedRoundingOptions
{
    private int[]? _layerWeightBits;

    /// <summary>Gets or sets the bits of every weight matrix: 1 (codes ±1) or 2..8. Default 4.</summary>
    public int WeightBits { get; set; } = 4;

    /// <summary>
    /// Gets or sets the bits of each weight matrix, convolution blocks first, then the dense layers (one entry each; 1,
    /// 2..8, or 32 to keep a matrix float), or null (the default) for <see cref="WeightBits"/> everywhere.
    /// </summary>
    public int[]? LayerWeightBits
    {
        get => _layerWeightBits?.ToArray();
        set => _layerWeightBits = value?.ToArray();
    }

    /// <summary>Gets or sets the bits of the hidden activations: 2..16, or 32 to keep them float. Default 8.</summary>
    public int ActivationBits { get; set; } = 8;

    /// <summary>
    /// Gets or sets the bits of the input grid fitted on the calibration rows (one scale per feature, per channel for an
    /// image), so that the first layer is integer too: 2..16, or 32 for float input. Default 8.
    /// </summary>
    public int InputBits { get; set; } = 8;

    /// <summary>Gets or sets the rounding: learned (the default) or nearest, the baseline.</summary>
    public PostTrainingRounding Rounding { get; set; } = PostTrainingRounding.Learned;

    /// <summary>Gets or sets the most calibration rows used: a seeded sample when the data has more. Default 1,024.</summary>
    public int CalibrationRows { get; set; } = 1024;

    /// <summary>Gets or sets the optimization steps of learned rounding per weight matrix. Default 2,000.</summary>
    public int Iterations { get; set; } = 2000;

    /// <summary>Gets or sets the calibration rows per optimization step. Default 64.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Gets or sets the seed of the calibration sample and of the optimization's batches. Default 1.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Gets or sets LibTorch's thread count for the optimization, or null to leave it as it is.</summary>
    public int? NumberOfThreads { get; set; }

    /// <summary>Gets or sets a receiver of one report per weight matrix, or null.</summary>
    public IProgress<LearnedRoundingProgress>? Progress { get; set; }

    /// <summary>Gets or sets a token that stops the work between optimization steps (<see cref="OperationCanceledException"/>).</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>The bits of each of <paramref name="matrices"/> weight matrices.</summary>
    internal int[] BitsOfLayers(int matrices) => _layerWeightBits?.ToArray() ?? Enumerable.Repeat(WeightBits, matrices).ToArray();

    /// <summary>Checks every option; the message names the option and what it accepts.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its range.</exception>
    internal void Validate(int matrices)
    {
        static void Fail(string name, object? value, string message) => throw new ArgumentOutOfRangeException(name, value, message);
        if (!(WeightBits is >= 1 and <= 8)) Fail(nameof(WeightBits), WeightBits, "WeightBits must be 1..8.");
        if (_layerWeightBits is { } bits)
        {
            if (bits.Length != matrices) Fail(nameof(LayerWeightBits), bits.Length, $"LayerWeightBits must have one entry per weight matrix: {matrices} for this network, got {bits.Length}.");
            if (bits.Any(b => !(b is >= 1 and <= 8 or 32))) Fail(nameof(LayerWeightBits), string.Join(",", bits), "LayerWeightBits entries must be 1..8 or 32.");
        }

        if (!(ActivationBits is 32 or >= 2 and <= 16)) Fail(nameof(ActivationBits), ActivationBits, "ActivationBits must be 2..16 or 32.");
        if (!(InputBits is 32 or >= 2 and <= 16)) Fail(nameof(InputBits), InputBits, "InputBits must be 2..16 or 32.");
        if (!Enum.IsDefined(Rounding)) Fail(nameof(Rounding), Rounding, "Rounding must be Learned or Nearest.");
        if (CalibrationRows < 1) Fail(nameof(CalibrationRows), CalibrationRows, "CalibrationRows must be at least 1.");
        if (Iterations < 1) Fail(nameof(Iterations), Iterations, "Iterations must be at least 1.");
        if (BatchSize < 1) Fail(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (NumberOfThreads is < 1) Fail(nameof(NumberOfThreads), NumberOfThreads, "NumberOfThreads must be at least 1, or null.");
    }
}
