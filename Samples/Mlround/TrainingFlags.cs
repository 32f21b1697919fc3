using System.CommandLine;
using System.Globalization;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>
/// The trainer's options as <c>mlround train</c> flags: each flag's default is the trainer's own (read from a fresh
/// <see cref="QatOptions"/>), so the command line and <c>QuantizationAware()</c> train the same model; a bad value is an
/// <see cref="ArgumentOutOfRangeException"/> naming the flag (exit code 2).
/// </summary>
internal sealed class TrainingFlags
{
    private static readonly QatOptions Defaults = new();

    private static readonly (string Name, QatQuantizer Value)[] Quantizers =
    {
        ("lsq", QatQuantizer.LearnedStepSize), ("ste", QatQuantizer.StraightThrough), ("sigmoid", QatQuantizer.Sigmoid), ("softmax", QatQuantizer.Softmax),
        ("finite-difference", QatQuantizer.FiniteDifference), ("soft-round", QatQuantizer.SoftRound), ("noise", QatQuantizer.Noise),
    };

    private static readonly (string Name, EpochSelection Value)[] Selections =
    {
        ("automatic", EpochSelection.Automatic), ("validation-loss", EpochSelection.ValidationLoss), ("validation-metric", EpochSelection.ValidationMetric),
    };

    private readonly Option<string?> _hidden = new("--hidden") { Description = "Hidden layer sizes, e.g. 256,128 (default: the trainer's choice for the weight bits)" };
    private readonly Option<string> _weightBits = new("--weight-bits") { DefaultValueFactory = _ => Text(Defaults.WeightBits), Description = "Bits per weight: one number for every weight matrix, or one per matrix, first to last (2,8,8); each 1, 2..8 or 32" };
    private readonly Option<int> _activationBits = new("--activation-bits") { DefaultValueFactory = _ => Defaults.ActivationBits, Description = "2..16 or 32" };
    private readonly Option<int> _inputBits = new("--input-bits") { DefaultValueFactory = _ => Defaults.InputBits, Description = "Bits of each feature's input grid, 2..16, or 32 for float input" };
    private readonly Option<string> _quantizer = new("--quantizer", "--gradient") { DefaultValueFactory = _ => Quantizers.First(g => g.Value == Defaults.Quantizer).Name, Description = "How the quantizers learn: " + string.Join(", ", Quantizers.Select(g => g.Name)) + " (--gradient is its 1.0 name)" };
    private readonly Option<string> _mode = new("--mode") { DefaultValueFactory = _ => "qat", Description = "qat, ptq or float" };
    private readonly Option<int?> _epochs = new("--epochs") { Description = $"Maximum epochs, warm-up epochs included (default: 60 below {QatOptions.LargeDataRows:N0} training rows, 30 from there on, 20 with --image)" };
    private readonly Option<int> _batch = new("--batch-size") { DefaultValueFactory = _ => Defaults.BatchSize, Description = "Minibatch size" };
    private readonly Option<double?> _rate = new("--learning-rate") { Description = $"AdamW's learning rate (default: 0.003 below {QatOptions.LargeDataRows:N0} training rows, 0.001 from there on)" };
    private readonly Option<string> _schedule = new("--schedule") { DefaultValueFactory = _ => Defaults.LearningRateSchedule.ToString().ToLowerInvariant(), Description = "Learning-rate schedule: constant or cosine" };
    private readonly Option<int> _warmup = new("--warmup-epochs") { DefaultValueFactory = _ => Defaults.WarmupEpochs, Description = "Float epochs before quantization-aware training starts from their weights" };
    private readonly Option<double> _distillation = new("--distillation-weight") { DefaultValueFactory = _ => Defaults.DistillationWeight, Description = "Weight of the loss against a float teacher's softened outputs, in [0, 1]; 0 trains no teacher" };
    private readonly Option<double> _temperature = new("--distillation-temperature") { DefaultValueFactory = _ => Defaults.DistillationTemperature, Description = "Temperature of the teacher's softened outputs, in (0, 100]" };
    private readonly Option<string?> _teacher = new("--teacher-hidden") { Description = "Hidden layer sizes of the float teacher (default: the student's)" };
    private readonly Option<int?> _teacherEpochs = new("--teacher-epochs") { Description = "Maximum epochs of the teacher (default: the student's)" };
    private readonly Option<double?> _validation = new("--validation-fraction") { Description = $"Fraction of the training rows held out to choose the kept epoch and stop early, in [0, 0.5); 0 keeps the last epoch (default: 0.1 below {QatOptions.LargeDataRows:N0} rows, 0 from there on)" };
    private readonly Option<string> _selection = new("--epoch-selection") { DefaultValueFactory = _ => Selections.First(s => s.Value == Defaults.EpochSelection).Name, Description = "Which epoch is kept: " + string.Join(", ", Selections.Select(s => s.Name)) };
    private readonly Option<int> _seed = new("--seed") { DefaultValueFactory = _ => Defaults.Seed, Description = "Seed" };
    private readonly Option<int> _threads = Threads();

    /// <summary>Gets --image and --conv.</summary>
    public ImageFlags Image { get; } = new();

    /// <summary>--threads: LibTorch's threads for training (QatOptions.NumberOfThreads); also a flag of compare.</summary>
    public static Option<int> Threads() => new("--threads") { DefaultValueFactory = _ => 1, Description = "LibTorch threads for training (default 1: faster than 2 here for dense networks, and unhurt by other work on the machine; 2 with --image, where LibTorch's convolutions gain from the second thread; see docs/benchmarks.md)" };

    /// <summary>The LibTorch threads of a convolutional network when --threads is not given: a Fashion-MNIST W4A8 CNN epoch took 53.1 s with one thread and 31.3 s with two (docs/benchmarks.md).</summary>
    public const int ImageThreads = 2;

    /// <summary>The --threads value, checked.</summary>
    public static int ThreadsOf(ParseResult result, Option<int> option) =>
        result.GetValue(option) is var n and >= 1 ? n : throw new ArgumentOutOfRangeException("threads", $"--threads must be at least 1, got {result.GetValue(option)}.");

    /// <summary>The flags, to add to a command.</summary>
    public IEnumerable<Option> All => new Option[]
    {
        _hidden, _weightBits, _activationBits, _inputBits, _quantizer, _mode, _epochs, _batch, _rate, _schedule, _warmup,
        _distillation, _temperature, _teacher, _teacherEpochs, _validation, _selection, _seed, _threads, Image.Image, Image.Conv,
    };

    /// <summary>The seed flag (the command's split uses it too).</summary>
    public Option<int> Seed => _seed;

    /// <summary>The trainer's options from the parsed flags, checked, with each error naming its flag.</summary>
    public QatOptions Options(ParseResult result, CancellationToken cancellation)
    {
        var options = new QatOptions
        {
            ActivationBits = result.GetValue(_activationBits),
            InputBits = result.GetValue(_inputBits),
            Quantizer = Pick(Quantizers, result.GetValue(_quantizer)!, "--quantizer"),
            Mode = Pick(new[] { ("qat", QatMode.QuantizationAware), ("ptq", QatMode.PostTraining), ("float", QatMode.Float) }, result.GetValue(_mode)!, "--mode"),
            MaxEpoch = result.GetValue(_epochs),
            BatchSize = result.GetValue(_batch),
            LearningRate = result.GetValue(_rate),
            LearningRateSchedule = Pick(new[] { ("constant", LearningRateSchedule.Constant), ("cosine", LearningRateSchedule.Cosine) }, result.GetValue(_schedule)!, "--schedule"),
            WarmupEpochs = result.GetValue(_warmup),
            DistillationWeight = result.GetValue(_distillation),
            DistillationTemperature = result.GetValue(_temperature),
            TeacherEpochs = result.GetValue(_teacherEpochs),
            ValidationFraction = result.GetValue(_validation),
            EpochSelection = Pick(Selections, result.GetValue(_selection)!, "--epoch-selection"),
            Seed = result.GetValue(_seed),
            NumberOfThreads = ThreadsOf(result, _threads),
            CancellationToken = cancellation,
        };
        if (result.GetValue(_hidden) is { } hidden)
        {
            options.HiddenLayers = Sizes(hidden, "--hidden");
        }

        if (result.GetValue(_teacher) is { } teacher)
        {
            options.TeacherHiddenLayers = Sizes(teacher, "--teacher-hidden");
        }

        int[] bits = Numbers(result.GetValue(_weightBits)!, "--weight-bits", "a bit width");
        if (bits.Length == 1)
        {
            options.WeightBits = bits[0];
        }
        else
        {
            options.LayerWeightBits = bits;
        }

        if (options.Mode == QatMode.Float)
        {
            options.WeightBits = options.ActivationBits = 32;
            options.LayerWeightBits = null;
        }

        if (Image.Apply(result, options) is not null && result.GetResult(_threads) is not { Implicit: false })
        {
            options.NumberOfThreads = ImageThreads; // no --threads given: a convolutional network trains faster on two
        }

        Validate(options);
        return options;
    }

    /// <summary>The trainer's own checks, with the command-line flag named before the option's message.</summary>
    internal static void Validate(QatOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName is { } name && Flags.TryGetValue(name, out string? flag))
        {
            throw new ArgumentOutOfRangeException(flag, $"{flag}: {MlroundCli.FirstLine(e.Message)}");
        }
    }

    private static readonly Dictionary<string, string> Flags = new()
    {
        [nameof(QatOptions.WeightBits)] = "--weight-bits",
        [nameof(QatOptions.LayerWeightBits)] = "--weight-bits",
        [nameof(QatOptions.ActivationBits)] = "--activation-bits",
        [nameof(QatOptions.InputBits)] = "--input-bits",
        [nameof(QatOptions.MaxEpoch)] = "--epochs",
        [nameof(QatOptions.BatchSize)] = "--batch-size",
        [nameof(QatOptions.LearningRate)] = "--learning-rate",
        [nameof(QatOptions.HiddenLayers)] = "--hidden",
        [nameof(QatOptions.WarmupEpochs)] = "--warmup-epochs",
        [nameof(QatOptions.DistillationWeight)] = "--distillation-weight",
        [nameof(QatOptions.DistillationTemperature)] = "--distillation-temperature",
        [nameof(QatOptions.TeacherHiddenLayers)] = "--teacher-hidden",
        [nameof(QatOptions.TeacherEpochs)] = "--teacher-epochs",
        [nameof(QatOptions.ValidationFraction)] = "--validation-fraction",
        [nameof(QatOptions.ConvolutionChannels)] = "--conv",
        [nameof(QatOptions.ImageShape)] = "--image",
    };

    private static T Pick<T>((string Name, T Value)[] choices, string text, string flag) =>
        choices.FirstOrDefault(c => c.Name == text) is var (name, value) && name is not null ? value
            : throw new ArgumentOutOfRangeException(flag.TrimStart('-'), $"{flag}: '{text}' is not {string.Join(", ", choices[..^1].Select(c => c.Name))} or {choices[^1].Name}.");

    private static int[] Sizes(string text, string flag) => Numbers(text, flag, "a positive layer size");

    private static int[] Numbers(string text, string flag, string what)
    {
        string[] parts = text.Split(',');
        return parts.Select(p => int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && (v > 0 || what != "a positive layer size") ? v
                : throw new ArgumentOutOfRangeException(flag.TrimStart('-'), $"{flag}: '{p}' is not {what}."))
            .ToArray();
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
