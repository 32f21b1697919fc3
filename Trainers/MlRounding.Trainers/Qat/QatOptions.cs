namespace MlRounding.Trainers;

/// <summary>Options of the quantization-aware MLP trainer. Names follow ML.NET and Microsoft.ML.TorchSharp.</summary>
public sealed class QatOptions
{
    /// <summary>Gets or sets the task; set by the trainer on its own copy of the options (the catalog method decides it).</summary>
    internal QatTask Task { get; set; } = QatTask.MulticlassClassification;

    /// <summary>Gets or sets the label column: Single (regression), Boolean (binary) or a key (multiclass). Default "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Gets or sets the features column, a known-size vector of Single. Default "Features".</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>Gets or sets validation rows for early stopping (same schema as the training data); null holds out <see cref="ValidationFraction"/> of the training rows.</summary>
    public Microsoft.ML.IDataView? ValidationSet { get; set; }

    /// <summary>Gets or sets a callback told each epoch's loss and validation metric.</summary>
    public IProgress<QatProgress>? Progress { get; set; }

    /// <summary>Gets or sets a token that stops training between steps (an <see cref="OperationCanceledException"/> is thrown, nothing is returned).</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>
    /// Gets or sets the sizes of the hidden layers. By default (or when set to null) they follow the bits of the first
    /// weight matrix, which holds most of the weights: 512, 128 at 1 bit; 256, 128 at 2 bits; 128, 64 at 3..8 bits, so
    /// that a narrower code buys a wider layer at about the same bytes; 256, 128 for a float network, the accuracy
    /// reference (chosen by measurement on Fashion-MNIST and digits, docs/trainer.md). With <see cref="ImageShape"/> they
    /// are the dense layers after the convolution blocks, by default one (see <see cref="ConvolutionChannels"/>).
    /// </summary>
    public int[] HiddenLayers
    {
        get => _hiddenLayers ?? (ImageShape is null ? DefaultHiddenLayers(FirstWeightBits) : DefaultConvolutionalHiddenLayers(LayerWeightBits is { } bits && bits.Length > ConvolutionCount ? bits[ConvolutionCount] : Mode == QatMode.Float ? 32 : WeightBits));
        set => _hiddenLayers = value;
    }

    /// <summary>The bits of the first weight matrix (32 in float mode), which the default sizes follow.</summary>
    internal int FirstWeightBits => LayerWeightBits is { Length: > 0 } bits ? bits[0] : Mode == QatMode.Float ? 32 : WeightBits;

    /// <summary>
    /// Gets or sets the shape of the features as an image (channels, height, width; values channel-planar and row-major,
    /// the order of ML.NET's <c>ExtractPixels</c> by default), which puts convolution blocks
    /// (<see cref="ConvolutionChannels"/>) before the dense layers; null (the default) for a dense network. The feature
    /// column's width must equal the shape's size. The input grid then has one scale per channel, over the channel's
    /// training range (a convolution shares its weights across positions).
    /// </summary>
    public ImageShape? ImageShape { get; set; }

    /// <summary>
    /// Gets or sets the output channels of the convolution blocks, input first, each block a
    /// <see cref="ConvolutionKernelSize"/> convolution (stride 1, "same" padding), ReLU, 2x2 max pooling and the activation
    /// quantizer; used with <see cref="ImageShape"/>. By default (or when set to null) 32, 32; the dense part then has one
    /// hidden layer of 64 (256 at 1 bit, 128 at 2 bits: a narrower code buys a wider layer at about the same bytes, as for
    /// the dense defaults; 128 for float weights, the accuracy reference, as the dense defaults widen theirs; measured on
    /// Fashion-MNIST, docs/trainer.md).
    /// </summary>
    public int[] ConvolutionChannels
    {
        get => _convolutionChannels ?? new[] { 32, 32 };
        set => _convolutionChannels = value;
    }

    private int[]? _convolutionChannels;

    /// <summary>The dense hidden layer after the convolution blocks by default, by the bits of the first dense weight matrix (which holds most of the weights).</summary>
    private static int[] DefaultConvolutionalHiddenLayers(int bits) => bits switch
    {
        1 => new[] { 256 },
        2 or 32 => new[] { 128 },
        _ => new[] { 64 },
    };

    /// <summary>Gets or sets the side of the convolutions' square kernels: odd, 1 to 15. Default 3.</summary>
    public int ConvolutionKernelSize { get; set; } = 3;

    /// <summary>The number of convolution blocks (0 without <see cref="ImageShape"/>).</summary>
    internal int ConvolutionCount => ImageShape is null ? 0 : ConvolutionChannels.Length;

    private int[]? _hiddenLayers;

    /// <summary>The default hidden layers for a first weight matrix of <paramref name="bits"/> bits.</summary>
    internal static int[] DefaultHiddenLayers(int bits) => bits switch
    {
        1 => new[] { 512, 128 },
        2 or 32 => new[] { 256, 128 },
        _ => new[] { 128, 64 },
    };

    /// <summary>Gets the extra rounding layers inserted at layer boundaries (see <see cref="QatRoundingLayer"/>). Empty by default.</summary>
    public IList<QatRoundingLayer> RoundingLayers => _roundingLayers;

    private List<QatRoundingLayer> _roundingLayers = new();

    /// <summary>Gets or sets the bits of the weights of every layer: 2..8, 1 (binary weights ±scale), or 32 (float). Default 8. <see cref="LayerWeightBits"/> overrides it per layer.</summary>
    public int WeightBits { get; set; } = 8;

    /// <summary>
    /// Gets or sets the bits of each weight matrix, first to last (one more than <see cref="HiddenLayers"/>), each 1, 2..8
    /// or 32; null (the default) gives every layer <see cref="WeightBits"/>. Low bits pay most on the first layer of a
    /// network on many inputs, which holds most of the weights: e.g. { 2, 8, 8 } for 784-128-64-10.
    /// </summary>
    public int[]? LayerWeightBits { get; set; }

    /// <summary>
    /// Gets or sets the bits of the input grid: 2..16 to quantize the features before the first layer (one unsigned grid
    /// over the training features' range, so the first layer is an integer dot product and the whole network integer),
    /// or 32 to keep float inputs. Features from a per-column <c>Quantize</c> transform keep that transform's grid
    /// whatever this says. Ignored in <see cref="QatMode.Float"/>. Default 8.
    /// </summary>
    public int InputBits { get; set; } = 8;

    /// <summary>Gets or sets the bits of the hidden activations: 2..16 or 32 (float). Default 8.</summary>
    public int ActivationBits { get; set; } = 8;

    /// <summary>Gets or sets a value indicating whether each output neuron gets its own weight scale (default) rather than one per layer.</summary>
    public bool PerChannelWeights { get; set; } = true;

    /// <summary>Gets or sets the training mode. Default quantization-aware.</summary>
    public QatMode Mode { get; set; } = QatMode.QuantizationAware;

    /// <summary>Gets or sets how the quantizers learn: LSQ (the default), or a data-driven step with a rounding gradient.</summary>
    public QatQuantizer Quantizer { get; set; } = QatQuantizer.LearnedStepSize;

    /// <summary>Gets or sets <see cref="Quantizer"/> under its 1.0 name.</summary>
    [Obsolete("Renamed Quantizer (of type QatQuantizer).")]
    public QatGradient Gradient
    {
        get => (QatGradient)Quantizer;
        set => Quantizer = (QatQuantizer)value;
    }

    /// <summary>Gets or sets the hardness (k, beta or alpha) at the first step, for the annealed estimators. Default 1.</summary>
    public double HardnessStart { get; set; } = 1;

    /// <summary>Gets or sets the hardness at the last step, for the annealed estimators. Default 100.</summary>
    public double HardnessEnd { get; set; } = 100;

    /// <summary>Gets or sets the half-width of the finite-difference estimator. Default 0.5.</summary>
    public double FiniteDifferenceHalfWidth { get; set; } = 0.5;

    /// <summary>
    /// Gets or sets the number of passes over the training data. By default (null) it follows the training rows: 60
    /// below <see cref="LargeDataRows"/>, 30 from there on (20 for a convolutional network, whose epoch costs several
    /// times a dense one's; see docs/trainer.md for the measurements behind the automatic values).
    /// </summary>
    public int? MaxEpoch { get; set; }

    /// <summary>Gets or sets the minibatch size. Default 64 (best on digits and on Fashion-MNIST; see docs/trainer.md).</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Gets or sets Adam's learning rate. By default (null) it follows the training rows: 0.003 below <see cref="LargeDataRows"/>, 0.001 from there on.</summary>
    public double? LearningRate { get; set; }

    /// <summary>
    /// The number of training rows from which the automatic <see cref="MaxEpoch"/>, <see cref="LearningRate"/> and
    /// <see cref="ValidationFraction"/> switch from their small-data values (60 epochs at 0.003, a tenth of the rows held
    /// out to choose the kept epoch and stop early; best on the 1,437 rows of digits) to their large-data values (30
    /// epochs at 0.001 on every row, the last epoch kept; best on the 60,000 rows of Fashion-MNIST).
    /// </summary>
    public static int LargeDataRows => 10_000; // a property, not a const: the value is not compiled into callers

    /// <summary>The epochs for <paramref name="rows"/> training rows (<see cref="MaxEpoch"/>, or its automatic value).</summary>
    internal int MaxEpochFor(long rows) => MaxEpoch ?? (rows < LargeDataRows ? 60 : ImageShape is null ? 30 : 20);

    /// <summary>The learning rate for <paramref name="rows"/> training rows (<see cref="LearningRate"/>, or its automatic value).</summary>
    internal double LearningRateFor(long rows) => LearningRate ?? (rows < LargeDataRows ? 0.003 : 0.001);

    /// <summary>
    /// The least distance a learned log step can travel over a run, in log units, from <see cref="QatOptions.LargeDataRows"/>
    /// training rows on: the log steps' learning rate is then at least this over the run's updates (and never below
    /// <see cref="QatOptions.LearningRate"/>). Adam moves each parameter by about its learning rate per update whatever the
    /// gradient's scale (so LSQ's gradient scale does not set the steps' pace), and at the weights' rate of 0.001 a short
    /// run (10,000 Fashion-MNIST rows, 20 epochs of 128: 1,580 updates, a travel of 1.6) left the steps near the values
    /// they took from the untrained weights while the weights moved: LSQ fell below straight-through weights at 2 and 1
    /// bits. The default run on 60,000 rows (30 epochs of 64: 28,140 updates) already travels 28 and gets 1.07 times its
    /// rate (a fixed 30 times lost 0.2-0.3 points at W4 and W1). Below <see cref="QatOptions.LargeDataRows"/> (the
    /// small-data regime, epochs chosen on validation rows) the steps keep the weights' rate: on digits a faster one lost
    /// up to half a point.
    /// Measured in docs/benchmarks.md ("The W2 LSQ weak spot, fixed").
    /// </summary>
    internal const double StepTravel = 30;

    /// <summary>
    /// The learned log steps' learning rate for a run of <paramref name="updates"/> updates on <paramref name="rows"/>
    /// training rows: max(learning rate, <see cref="StepTravel"/> / updates) from <see cref="LargeDataRows"/> rows on,
    /// else the learning rate.
    /// </summary>
    internal double StepLearningRateFor(long rows, long updates)
    {
        double rate = LearningRateFor(rows);
        return rows < LargeDataRows ? rate : Math.Max(rate, StepTravel / Math.Max(1, updates));
    }

    /// <summary>A copy with the automatic values worked out for <paramref name="rows"/> training rows.</summary>
    internal QatOptions ForRows(long rows)
    {
        QatOptions copy = Clone();
        copy.MaxEpoch = MaxEpochFor(rows);
        copy.LearningRate = LearningRateFor(rows);
        copy.TeacherEpochs = TeacherEpochs ?? copy.MaxEpoch;
        return copy;
    }

    /// <summary>Gets or sets how the learning rate changes over the epochs. Default <see cref="LearningRateSchedule.Cosine"/>.</summary>
    public LearningRateSchedule LearningRateSchedule { get; set; } = LearningRateSchedule.Cosine;

    /// <summary>Gets or sets the (decoupled) weight decay. Default 1e-4.</summary>
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Gets or sets the seed of initialisation, shuffling and noise. Default 1.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>
    /// Gets or sets the fraction of the training rows held out for validation (choosing the kept epoch and stopping
    /// early), in [0, 0.5); 0 holds none out and keeps the last epoch. By default (null) it follows the rows: 0.1 below
    /// <see cref="LargeDataRows"/>, 0 from there on, where training on every row gained more than choosing the epoch
    /// (docs/trainer.md).
    /// </summary>
    public double? ValidationFraction { get; set; }

    /// <summary>The validation fraction (<see cref="ValidationFraction"/>, or its automatic value for the rows, counted only then).</summary>
    internal double ValidationFractionFor(Func<long> rows) => ValidationFraction ?? (rows() < LargeDataRows ? 0.1 : 0);

    /// <summary>
    /// Gets or sets a value indicating whether a wide table's inputs are screened: with the rows in memory (not
    /// <see cref="StreamRows"/>), validation rows, a first weight matrix of more than 1 bit and no image or input
    /// rounding layer, when at most half the inputs show an association with the label on their own (an F test
    /// each, Benjamini-Hochberg at a 5 % false discovery rate), a second network is trained on those inputs only and
    /// kept if it does better on the validation rows (its first layer then has zero weights for the other inputs).
    /// Training then takes up to twice as long, and progress counts the epochs of both runs. Default true; measured in
    /// docs/benchmarks.md.
    /// </summary>
    public bool ScreenInputs { get; set; } = true;

    /// <summary>Gets or sets the epochs without a better kept epoch (see <see cref="EpochSelection"/>) before stopping; 0 disables early stopping. Default 15.</summary>
    public int EarlyStoppingPatience { get; set; } = 15;

    /// <summary>Gets or sets which epoch's weights are kept. Default <see cref="Trainers.EpochSelection.Automatic"/>.</summary>
    public EpochSelection EpochSelection { get; set; }

    /// <summary>The validation rows from which <see cref="Trainers.EpochSelection.Automatic"/> keeps the epoch with the best accuracy.</summary>
    internal const int AccuracySelectionRows = 2000;

    /// <summary>
    /// Gets or sets a value indicating whether minibatches are streamed from the <c>IDataView</c> each epoch (through
    /// ML.NET's <c>ShuffleRows</c>, seeded per epoch) instead of reading every row into memory first. Memory then stays
    /// bounded by <see cref="ShufflePoolSize"/> and one minibatch; each epoch costs a pass over the data. Default false.
    /// </summary>
    public bool StreamRows { get; set; }

    /// <summary>Gets or sets the rows held for shuffling when <see cref="StreamRows"/> is set, as in ML.NET's <c>ShuffleRows</c>. Default 10,000.</summary>
    public int ShufflePoolSize { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets the epochs trained in float before the quantizers are switched on (quantization-aware training from a
    /// float start, as PyTorch and TensorFlow recommend): the steps are then initialised from the trained weights and
    /// activations. Early stopping counts and keeps quantized epochs only. Must be less than <see cref="MaxEpoch"/>.
    /// Default 0.
    /// </summary>
    public int WarmupEpochs { get; set; }

    /// <summary>
    /// Gets or sets the weight α of knowledge distillation in [0, 1]; 0 (the default) trains on the labels alone. Above 0,
    /// a float teacher network (<see cref="TeacherHiddenLayers"/>) is trained first in the same <c>Fit</c>, and the
    /// network learns (1 - α) · loss(labels) + α · T² · KL(teacher's softened outputs ‖ its own), with the temperature T
    /// of <see cref="DistillationTemperature"/> (regression: the squared difference to the teacher's prediction; binary:
    /// the logistic loss against the teacher's softened probability).
    /// </summary>
    public double DistillationWeight { get; set; }

    /// <summary>Gets or sets the temperature T that softens the teacher's and the network's outputs for distillation, in (0, 100]. Default 2.</summary>
    public double DistillationTemperature { get; set; } = 2;

    /// <summary>
    /// Gets or sets the hidden layers of the distillation teacher; null (the default) gives it the network's own shape, and
    /// then the network starts from the teacher's trained weights (a float start without separate warm-up epochs).
    /// </summary>
    public int[]? TeacherHiddenLayers { get; set; }

    /// <summary>Gets or sets the most epochs the distillation teacher trains (it stops early like the network). By default (null) the network's <see cref="MaxEpoch"/>.</summary>
    public int? TeacherEpochs { get; set; }

    /// <summary>Gets or sets the LibTorch thread count; null keeps LibTorch's default. Set it for byte-identical runs.</summary>
    public int? NumberOfThreads { get; set; }

    /// <summary>The weight bits of each of <paramref name="layers"/> weight matrices.</summary>
    internal int[] WeightBitsOfLayers(int layers) => LayerWeightBits?.ToArray() ?? Enumerable.Repeat(WeightBits, layers).ToArray();

    /// <summary>Gets or sets a callback told each epoch's exported model after validation (the study of the defaults evaluates every epoch with it).</summary>
    internal Action<int, QuantizedMlp>? EpochModel { get; set; }

    /// <summary>A copy whose lists and arrays are the copy's own, so the trainer never writes into the caller's options.</summary>
    internal QatOptions Clone()
    {
        var copy = (QatOptions)MemberwiseClone();
        copy._hiddenLayers = _hiddenLayers?.ToArray();
        copy._convolutionChannels = _convolutionChannels?.ToArray();
        copy.LayerWeightBits = LayerWeightBits?.ToArray();
        copy.TeacherHiddenLayers = TeacherHiddenLayers?.ToArray();
        copy._roundingLayers = new List<QatRoundingLayer>(RoundingLayers);
        return copy;
    }

    /// <summary>Checks the options of a convolutional network: channels, kernel, and that the image survives the pooling.</summary>
    private void ValidateImage()
    {
        if (ImageShape is not { } image)
        {
            return;
        }

        if (ConvolutionChannels is null || ConvolutionChannels.Any(c => c < 1 || c > 4096))
        {
            throw new ArgumentOutOfRangeException(nameof(ConvolutionChannels), ConvolutionChannels is null ? null : string.Join(",", ConvolutionChannels), "ConvolutionChannels must be channel counts in [1, 4096].");
        }

        if (ConvolutionKernelSize < 1 || ConvolutionKernelSize > 15 || ConvolutionKernelSize % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ConvolutionKernelSize), ConvolutionKernelSize, "ConvolutionKernelSize must be odd, 1 to 15 (\"same\" padding).");
        }

        int side = Math.Min(image.Height, image.Width) >> ConvolutionChannels.Length;
        if (side < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ConvolutionChannels), ConvolutionChannels.Length, $"{ConvolutionChannels.Length} convolution blocks halve a {image.Height}x{image.Width} image {ConvolutionChannels.Length} times, to nothing; use fewer blocks.");
        }

        if (RoundingLayers.Count > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(RoundingLayers), RoundingLayers.Count, "RoundingLayers are not available with ImageShape (a convolutional network).");
        }
    }

    /// <summary>Checks every option, naming the offending one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its range.</exception>
    public void Validate()
    {
        static void Fail(string name, object? value, string message) => throw new ArgumentOutOfRangeException(name, value, message);
        if (!Enum.IsDefined(Task)) Fail(nameof(Task), Task, "Task must be Regression, BinaryClassification or MulticlassClassification.");
        if (!Enum.IsDefined(Mode)) Fail(nameof(Mode), Mode, "Mode must be QuantizationAware, PostTraining or Float.");
        if (!Enum.IsDefined(LearningRateSchedule)) Fail(nameof(LearningRateSchedule), LearningRateSchedule, "LearningRateSchedule must be Constant or Cosine.");
        if (!Enum.IsDefined(EpochSelection)) Fail(nameof(EpochSelection), EpochSelection, "EpochSelection must be Automatic, ValidationLoss or ValidationMetric.");
        if (!Enum.IsDefined(Quantizer)) Fail(nameof(Quantizer), Quantizer, "Quantizer is not a known QatQuantizer.");
        if (HiddenLayers is null || HiddenLayers.Any(h => h < 1 || h > 65536)) Fail(nameof(HiddenLayers), HiddenLayers, "HiddenLayers must be sizes in [1, 65536].");
        if (!(WeightBits is 1 or 32 || WeightBits is >= 2 and <= 8)) Fail(nameof(WeightBits), WeightBits, "WeightBits must be 1, 2..8 or 32.");
        ValidateImage();
        if (LayerWeightBits is { } layerBits && HiddenLayers is not null)
        {
            int matrices = ConvolutionCount + HiddenLayers.Length + 1;
            if (layerBits.Length != matrices) Fail(nameof(LayerWeightBits), layerBits.Length, $"LayerWeightBits must have one entry per weight matrix: {matrices} for {(ConvolutionCount > 0 ? $"{ConvolutionCount} convolution blocks and " : "")}{HiddenLayers.Length} hidden layers, got {layerBits.Length}.");
            if (layerBits.Any(b => !(b is 1 or 32 || b is >= 2 and <= 8))) Fail(nameof(LayerWeightBits), string.Join(",", layerBits), "LayerWeightBits must be 1, 2..8 or 32 for each weight matrix.");
        }

        if (!(ActivationBits == 32 || ActivationBits is >= 2 and <= 16)) Fail(nameof(ActivationBits), ActivationBits, "ActivationBits must be 2..16 or 32.");
        if (!(InputBits == 32 || InputBits is >= 2 and <= 16)) Fail(nameof(InputBits), InputBits, "InputBits must be 2..16 or 32.");
        if (!(HardnessStart > 0 && HardnessStart <= 1e6)) Fail(nameof(HardnessStart), HardnessStart, "HardnessStart must be in (0, 1e6].");
        if (!(HardnessEnd > 0 && HardnessEnd <= 1e6)) Fail(nameof(HardnessEnd), HardnessEnd, "HardnessEnd must be in (0, 1e6].");
        if (!(FiniteDifferenceHalfWidth > 0 && FiniteDifferenceHalfWidth <= 10)) Fail(nameof(FiniteDifferenceHalfWidth), FiniteDifferenceHalfWidth, "FiniteDifferenceHalfWidth must be in (0, 10].");
        if (MaxEpoch is < 1) Fail(nameof(MaxEpoch), MaxEpoch, "MaxEpoch must be positive.");
        if (BatchSize < 1) Fail(nameof(BatchSize), BatchSize, "BatchSize must be positive.");
        if (LearningRate is { } rate && !(rate > 0 && rate <= 10)) Fail(nameof(LearningRate), LearningRate, "LearningRate must be in (0, 10].");
        if (!(WeightDecay >= 0 && WeightDecay <= 1)) Fail(nameof(WeightDecay), WeightDecay, "WeightDecay must be in [0, 1].");
        if (ValidationFraction is { } fraction && !(fraction >= 0 && fraction < 0.5)) Fail(nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in [0, 0.5) (leave it unset for the automatic fraction).");
        if (EarlyStoppingPatience < 0) Fail(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "EarlyStoppingPatience must not be negative.");
        if (WarmupEpochs < 0 || WarmupEpochs >= (MaxEpoch ?? MaxEpochFor(LargeDataRows)))
        {
            Fail(nameof(WarmupEpochs), WarmupEpochs, MaxEpoch is { } epochs
                ? $"WarmupEpochs must be in [0, MaxEpoch) (MaxEpoch is {epochs})."
                : $"WarmupEpochs must be in [0, MaxEpoch) (MaxEpoch is automatic, {MaxEpochFor(LargeDataRows)} from {LargeDataRows:N0} training rows on; set it to warm up longer).");
        }
        if (!(DistillationWeight >= 0 && DistillationWeight <= 1)) Fail(nameof(DistillationWeight), DistillationWeight, "DistillationWeight must be in [0, 1].");
        if (!(DistillationTemperature > 0 && DistillationTemperature <= 100)) Fail(nameof(DistillationTemperature), DistillationTemperature, "DistillationTemperature must be in (0, 100].");
        if (TeacherHiddenLayers is not null && TeacherHiddenLayers.Any(h => h < 1 || h > 65536)) Fail(nameof(TeacherHiddenLayers), TeacherHiddenLayers, "TeacherHiddenLayers must be sizes in [1, 65536].");
        if (TeacherEpochs is < 1) Fail(nameof(TeacherEpochs), TeacherEpochs, "TeacherEpochs must be positive.");
        if (NumberOfThreads is < 1) Fail(nameof(NumberOfThreads), NumberOfThreads, "NumberOfThreads must be positive.");
        if (ShufflePoolSize < 1) Fail(nameof(ShufflePoolSize), ShufflePoolSize, "ShufflePoolSize must be positive.");
        foreach (var layer in RoundingLayers)
        {
            if (layer?.Grid is null || layer.Position < 0 || layer.Position > (HiddenLayers?.Length ?? 0) + 1)
            {
                Fail(nameof(RoundingLayers), layer?.Position, $"RoundingLayers: each needs a grid and a position in [0, {(HiddenLayers?.Length ?? 0) + 1}].");
            }
        }

        if (string.IsNullOrEmpty(LabelColumnName)) Fail(nameof(LabelColumnName), LabelColumnName, "LabelColumnName must be a column name.");
        if (string.IsNullOrEmpty(FeatureColumnName)) Fail(nameof(FeatureColumnName), FeatureColumnName, "FeatureColumnName must be a column name.");
    }
}
