using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MlRounding.Bridge;

namespace MlRounding.Trainers;

/// <summary>
/// Base of the quantization-aware trainers: reads the training (and validation) rows, trains the network with TorchSharp,
/// and wraps the integer model in the prediction transformer ML.NET's own trainers return, so Evaluate, CrossValidate,
/// PredictionEngine and permutation feature importance work unchanged.
/// </summary>
/// <typeparam name="TTransformer">The prediction transformer.</typeparam>
/// <typeparam name="TModel">The model parameters.</typeparam>
public abstract class QuantizationAwareTrainerBase<TTransformer, TModel> : ITrainerEstimator<TTransformer, TModel>
    where TTransformer : ISingleFeaturePredictionTransformer<TModel>
    where TModel : class
{
    private protected QuantizationAwareTrainerBase(IHostEnvironment env, QatOptions options, QatTask task)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Clone(); // the caller's options are never written to
        Options.Task = task;
        Options.Validate();
        Environment = env;
    }

    /// <summary>Gets the trainer's own copy of the options it was created with.</summary>
    public QatOptions Options { get; }

    /// <summary>
    /// Gets what the trainer needs: normalized features only for float inputs (<see cref="QatMode.Float"/>, or
    /// <see cref="QatOptions.InputBits"/> 32): otherwise the trainer quantizes each feature over its own range, which
    /// normalizes it. No caching or calibration is needed.
    /// </summary>
    public TrainerInfo Info => TrainerBridge.Info(normalization: Options.Mode == QatMode.Float || Options.InputBits == 32, caching: false);

    private protected IHostEnvironment Environment { get; }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    /// <param name="input">Training data with the label and features columns.</param>
    /// <returns>The prediction transformer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidOperationException">No usable training rows.</exception>
    /// <exception cref="OperationCanceledException">Training was cancelled.</exception>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (featureCount, classes) = TrainingRows.Check(input.Schema, Options);
        using var channel = Environment.Start("QuantizationAware");
        QatData? validation = ValidationRows(featureCount);
        QatData? train = null;
        StreamingBatches? stream = null;
        long skipped;
        if (Options.StreamRows)
        {
            (stream, validation) = Streamed(input, featureCount, validation);
            skipped = stream.Skipped;
        }
        else
        {
            (train, skipped) = TrainingRows.Read(input, Options, featureCount);
        }

        if (skipped > 0)
        {
            Log(channel, ChannelMessageKind.Warning, $"Skipped {skipped} training rows with NaN or infinite features or labels.");
        }

        if ((stream?.Count ?? train!.Count) == 0)
        {
            throw new InvalidOperationException($"No usable training rows in '{Options.FeatureColumnName}' / '{Options.LabelColumnName}' ({skipped} skipped).");
        }

        var progress = new Progress(channel, Options.Progress);
        InputGrid? inputGrid = InputGridFor(input, featureCount, train, stream, channel);
        if (stream is not null)
        {
            stream.InputGrid = inputGrid; // the batches hold what the first layer sees; validation rows stay raw for the scorer
        }

        QuantizedMlp network = stream is not null
            ? QatTraining.Train(stream, classes, Options, validation, progress, Options.CancellationToken, inputGrid)
            : QatTraining.Train(train!, classes, Options, validation, progress, Options.CancellationToken, inputGrid);
        Log(channel, ChannelMessageKind.Info, $"Trained: {Options.Mode}, W{Options.WeightBits}A{Options.ActivationBits}, {network.ParameterBytes} parameter bytes (float: {network.FloatParameterBytes}).");
        return MakeTransformer(network, input.Schema);
    }

    /// <summary>The rows of <see cref="QatOptions.ValidationSet"/> in memory, or null without one.</summary>
    private QatData? ValidationRows(int featureCount)
    {
        if (Options.ValidationSet is not { } validationSet)
        {
            return null;
        }

        var (validationFeatures, _) = TrainingRows.Check(validationSet.Schema, Options);
        if (validationFeatures != featureCount)
        {
            throw TrainingRows.Mismatch("feature", Options.FeatureColumnName, $"vector of Single of size {featureCount} in the validation set", validationSet.Schema[Options.FeatureColumnName].Type);
        }

        return TrainingRows.Read(validationSet, Options, featureCount).Data;
    }

    /// <summary>
    /// Streamed rows: they stay in the IDataView; a validation fraction is split off lazily by ML.NET and read into
    /// memory. The automatic fraction follows the usable rows, which the batches' first pass counts: that pass is reused
    /// unless a fraction is then split off. This is the one split that does not follow RoundingRules.HeldOutRows and
    /// ShuffledRows (rows in memory, the command line's test rows): a stream cannot be permuted, and TrainTestSplit
    /// holds out each row by a seeded hash instead, about the fraction.
    /// </summary>
    private (StreamingBatches Stream, QatData? Validation) Streamed(IDataView input, int featureCount, QatData? validation)
    {
        StreamingBatches? stream = null;
        double fraction = validation is not null ? 0 : Options.ValidationFractionFor(() => (stream = new StreamingBatches(input, Options, featureCount)).Count);
        if (fraction > 0)
        {
            var split = new MLContext(Options.Seed).Data.TrainTestSplit(input, fraction, seed: Options.Seed);
            validation = TrainingRows.Read(split.TestSet, Options, featureCount).Data;
            stream = new StreamingBatches(split.TrainSet, Options, featureCount);
        }

        return (stream ?? new StreamingBatches(input, Options, featureCount), validation);
    }

    /// <summary>The grid the first layer's inputs are quantized to: a Quantize transform's, one fitted over the training ranges (InputBits), or none.</summary>
    private InputGrid? InputGridFor(IDataView input, int featureCount, QatData? train, StreamingBatches? stream, IChannel channel)
    {
        InputGrid? inputGrid = Options.Mode == QatMode.Float ? null : InputGrid.Of(input.Schema[Options.FeatureColumnName]);
        if (inputGrid is not null)
        {
            Log(channel, ChannelMessageKind.Info, $"Features are on the grid of a Quantize transform ({inputGrid.Grid.Bits} bits): the whole path is integer.");
        }
        else if (Options.Mode != QatMode.Float && Options.InputBits != 32)
        {
            var (lows, highs) = stream is not null ? (stream.FeatureLows, stream.FeatureHighs) : InputGrid.Ranges(train!.Features, featureCount);
            if (Options.ImageShape is { } image)
            {
                InputGrid.PerChannel(lows, highs, image.Height * image.Width); // one scale per channel: a convolution shares its weights across positions
            }

            inputGrid = InputGrid.Fit(Options.InputBits, lows, highs);
            Log(channel, ChannelMessageKind.Info, $"Features quantized to {Options.InputBits} bits each, over their training ranges: the whole path is integer.");
        }

        return inputGrid;
    }

    /// <summary>The output schema: the input columns and the score columns of the task.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    /// <returns>The output schema shape.</returns>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var columns = inputSchema.ToDictionary(c => c.Name);
        if (!columns.ContainsKey(Options.FeatureColumnName))
        {
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Could not find feature column '{Options.FeatureColumnName}'");
        }

        foreach (var column in OutputColumns(inputSchema))
        {
            columns[column.Name] = column;
        }

        return TrainerBridge.Shape(columns.Values);
    }

    /// <summary>Sends a message to ML.NET's log (MLContext.Log).</summary>
    private static void Log(IChannel channel, ChannelMessageKind kind, string message) => TrainerBridge.Log(channel, kind, message);

    private protected abstract TTransformer MakeTransformer(QuantizedMlp network, DataViewSchema trainSchema);

    private protected abstract IEnumerable<SchemaShape.Column> OutputColumns(SchemaShape inputSchema);

    /// <summary>Reports each epoch to the ML.NET channel and to the user's callback.</summary>
    private sealed class Progress(IChannel channel, IProgress<QatProgress>? user) : IProgress<QatProgress>
    {
        public void Report(QatProgress value)
        {
            Log(channel, ChannelMessageKind.Info, FormattableString.Invariant($"Epoch {value.Epoch}: loss {value.TrainingLoss:G5}, validation loss {value.ValidationLoss:G5}, validation metric {value.ValidationMetric:G5}, best epoch {value.BestEpoch}"));
            user?.Report(value);
        }
    }
}

/// <summary>Quantization-aware MLP regression trainer. Output: Score.</summary>
public sealed class QuantizationAwareRegressionTrainer : QuantizationAwareTrainerBase<RegressionPredictionTransformer<QatRegressionModelParameters>, QatRegressionModelParameters>
{
    internal QuantizationAwareRegressionTrainer(IHostEnvironment env, QatOptions options) : base(env, options, QatTask.Regression)
    {
    }

    private protected override RegressionPredictionTransformer<QatRegressionModelParameters> MakeTransformer(QuantizedMlp network, DataViewSchema trainSchema) =>
        TrainerBridge.Regression(Environment, new QatRegressionModelParameters(Environment, network), trainSchema, Options.FeatureColumnName);

    private protected override IEnumerable<SchemaShape.Column> OutputColumns(SchemaShape inputSchema) => TrainerBridge.RegressionOutputColumns();
}

/// <summary>Quantization-aware MLP binary classifier. Output: Score (logit), Probability, PredictedLabel.</summary>
public sealed class QuantizationAwareBinaryTrainer : QuantizationAwareTrainerBase<BinaryPredictionTransformer<QatBinaryModelParameters>, QatBinaryModelParameters>
{
    internal QuantizationAwareBinaryTrainer(IHostEnvironment env, QatOptions options) : base(env, options, QatTask.BinaryClassification)
    {
    }

    private protected override BinaryPredictionTransformer<QatBinaryModelParameters> MakeTransformer(QuantizedMlp network, DataViewSchema trainSchema) =>
        TrainerBridge.Binary(Environment, new QatBinaryModelParameters(Environment, network), trainSchema, Options.FeatureColumnName);

    private protected override IEnumerable<SchemaShape.Column> OutputColumns(SchemaShape inputSchema) => TrainerBridge.BinaryOutputColumns();
}

/// <summary>Quantization-aware MLP multiclass classifier. Output: Score (class probabilities), PredictedLabel (key).</summary>
public sealed class QuantizationAwareMulticlassTrainer : QuantizationAwareTrainerBase<MulticlassPredictionTransformer<QatMulticlassModelParameters>, QatMulticlassModelParameters>
{
    internal QuantizationAwareMulticlassTrainer(IHostEnvironment env, QatOptions options) : base(env, options, QatTask.MulticlassClassification)
    {
    }

    private protected override MulticlassPredictionTransformer<QatMulticlassModelParameters> MakeTransformer(QuantizedMlp network, DataViewSchema trainSchema) =>
        TrainerBridge.Multiclass(Environment, new QatMulticlassModelParameters(Environment, network), trainSchema, Options.FeatureColumnName, Options.LabelColumnName);

    private protected override IEnumerable<SchemaShape.Column> OutputColumns(SchemaShape inputSchema)
    {
        var label = inputSchema.FirstOrDefault(c => c.Name == Options.LabelColumnName);
        return TrainerBridge.MulticlassOutputColumns(label);
    }
}
