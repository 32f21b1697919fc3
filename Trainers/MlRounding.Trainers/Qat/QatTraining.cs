using MlRounding.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// Trains a <see cref="QatNetwork"/> with TorchSharp on the CPU: seeded initialisation and shuffling, AdamW, one dispose
/// scope per step, validation under no_grad with early stopping (the best epoch's weights are kept), hardness annealing
/// for the soft estimators, cancellation between steps; then exports the integer model.
/// </summary>
internal static class QatTraining
{
    public static QuantizedMlp Train(QatData data, int classes, QatOptions options, QatData? validation = null,
        IProgress<QatProgress>? progress = null, CancellationToken cancellation = default, InputGrid? inputGrid = null)
    {
        using QatNetwork network = TrainNetwork(data, classes, options, validation, progress, cancellation, inputGrid);
        return network.Export(options.Task, classes);
    }

    /// <summary>Trains rows streamed by <paramref name="source"/> (e.g. from an IDataView) and exports the integer model.</summary>
    public static QuantizedMlp Train(IBatchSource source, int classes, QatOptions options, QatData? validation,
        IProgress<QatProgress>? progress, CancellationToken cancellation, InputGrid? inputGrid)
    {
        using QatNetwork network = TrainNetwork(source, classes, options, validation, progress, cancellation, inputGrid, out _);
        return network.Export(options.Task, classes);
    }

    /// <summary>
    /// Trains and returns the network in evaluation mode (the caller disposes it). An <paramref name="inputGrid"/> makes a
    /// quantized network's first layer integer too: the batches then hold what that layer sees, the validation rows stay
    /// raw (the deployed scorer quantizes them itself).
    /// </summary>
    public static QatNetwork TrainNetwork(QatData data, int classes, QatOptions options, QatData? validation = null,
        IProgress<QatProgress>? progress = null, CancellationToken cancellation = default, InputGrid? inputGrid = null)
    {
        options.Validate(); // before the options shape the split; the training loop checks the rest
        QatData train = data;
        double fraction = options.ValidationFractionFor(() => data.Count);
        if (validation is null && fraction > 0 && data.Count >= 10)
        {
            // The library's one split rule (RoundingRules), as the command line holds out its test rows. Streamed rows
            // cannot be permuted: QuantizationAwareTrainer splits them with ML.NET's TrainTestSplit instead.
            int[] order = RoundingRules.ShuffledRows(data.Count, options.Seed);
            int held = RoundingRules.HeldOutRows(data.Count, fraction);
            validation = data.Subset(order[..held]);
            train = data.Subset(order[held..]);
        }

        int[]? keep = validation is not null && Screens(options) ? InputScreening.Keep(train, options.Task, classes) : null;
        var reports = new LastReport(progress);
        QatNetwork full = TrainRows(train, validation, classes, options, reports, cancellation, inputGrid, out var score);
        return keep is null ? full : ChooseInputs(full, score, reports, keep, train, validation!, classes, options, cancellation, inputGrid);
    }

    /// <summary>Whether the options let the input screen apply (<see cref="QatOptions.ScreenInputs"/>; a first weight matrix of 1 bit has no zero code).</summary>
    private static bool Screens(QatOptions options) =>
        options.ScreenInputs && options.ImageShape is null && !options.RoundingLayers.Any(r => r.Position == 0) && options.FirstWeightBits != 1;

    /// <summary>
    /// Trains a second network on the screened inputs <paramref name="keep"/> and returns the one that does better on the
    /// validation rows (by the kept epoch's score), disposing the other; the screened one exports over every input. When
    /// the full network is kept, its last progress report is repeated, so the last report describes the network returned.
    /// </summary>
    private static QatNetwork ChooseInputs(QatNetwork full, (double Metric, double Loss) fullScore, LastReport reports, int[] keep, QatData train, QatData validation,
        int classes, QatOptions options, CancellationToken cancellation, InputGrid? inputGrid)
    {
        QatProgress fullLast = reports.Last;
        QatNetwork screened;
        (double Metric, double Loss) score;
        try
        {
            screened = TrainRows(train.Columns(keep), validation.Columns(keep), classes, options, reports, cancellation, inputGrid?.Columns(keep), out score);
        }
        catch
        {
            full.Dispose();
            throw;
        }

        if (score.CompareTo(fullScore) > 0)
        {
            full.Dispose();
            screened.ScreenedInputs = (keep, train.FeatureCount);
            screened.Input = options.Mode == QatMode.Float ? null : inputGrid;
            return screened;
        }

        screened.Dispose();
        reports.Report(fullLast);
        return full;
    }

    /// <summary>Trains on rows in memory; <paramref name="best"/> is the kept epoch's validation score.</summary>
    private static QatNetwork TrainRows(QatData train, QatData? validation, int classes, QatOptions options, IProgress<QatProgress>? progress,
        CancellationToken cancellation, InputGrid? inputGrid, out (double Metric, double Loss) best)
    {
        using var source = new InMemoryBatches(train, options.Task, options.BatchSize, options.Mode == QatMode.Float ? null : inputGrid);
        return TrainNetwork(source, classes, options, validation, progress, cancellation, inputGrid, out best);
    }

    /// <summary>Passes reports on and remembers the last.</summary>
    private sealed class LastReport(IProgress<QatProgress>? inner) : IProgress<QatProgress>
    {
        public QatProgress Last { get; private set; }

        public void Report(QatProgress value)
        {
            Last = value;
            inner?.Report(value);
        }
    }

    /// <summary>The training loop over any batch source (the validation rows, if any, in memory); <paramref name="best"/> is the kept epoch's validation score.</summary>
    private static QatNetwork TrainNetwork(IBatchSource source, int classes, QatOptions options, QatData? validation,
        IProgress<QatProgress>? progress, CancellationToken cancellation, InputGrid? inputGrid, out (double Metric, double Loss) best)
    {
        options = Prepare(source, classes, options);
        int maxEpoch = options.MaxEpoch!.Value;

        // Distillation: a float teacher trained first on the same rows (and validation rows), then kept for its outputs.
        using QatNetwork? teacher = options.DistillationWeight > 0 ? TrainTeacher(source, classes, options, validation, cancellation, inputGrid) : null;
        manual_seed(options.Seed);
        QatNetwork network = CreateNetwork(source, classes, options, teacher, inputGrid);
        try
        {
            // Quantization-aware training from a float start: the first WarmupEpochs train without quantizers.
            int warmup = options.Mode == QatMode.QuantizationAware ? options.WarmupEpochs : 0;
            if (warmup > 0)
            {
                network.SetQuantizersEnabled(false);
            }

            using var steps = new TrainingSteps(network, teacher, source, options);
            using var kept = new KeptEpoch(validation, options, warmup);
            for (int epoch = 1; epoch <= maxEpoch; epoch++)
            {
                if (warmup > 0 && epoch == warmup + 1)
                {
                    network.SetQuantizersEnabled(true); // the steps initialise from the trained weights on the next batch
                }

                double loss = steps.Epoch(epoch, cancellation);
                if (!double.IsFinite(loss) || !Finite(network))
                {
                    throw Diverged(epoch, options);
                }

                ReleaseEscapedNativeMemory();
                QuantizedMlp? model = validation is not null || options.EpochModel is not null ? network.Export(options.Task, classes) : null;
                var (metric, validationLoss) = validation is null ? (double.NaN, double.NaN) : Validate(model!, validation);
                bool stop = kept.Observe(epoch, network, metric, validationLoss);
                progress?.Report(new QatProgress(epoch, loss, metric, validationLoss, kept.Epoch, maxEpoch));
                options.EpochModel?.Invoke(epoch, model!);
                if (stop)
                {
                    break;
                }
            }

            kept.Restore(network);
            best = kept.Best;
            return Finished(network, source, options);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks the options against the rows, resolves the automatic ones (epochs, batch size, learning rate), loads
    /// TorchSharp's native library, sets the thread count and seeds LibTorch.
    /// </summary>
    private static QatOptions Prepare(IBatchSource source, int classes, QatOptions options)
    {
        options.Validate();
        if (source.Count == 0)
        {
            throw new InvalidOperationException("No training rows.");
        }

        options = options.ForRows(source.Count); // the automatic epochs, batch size and learning rate for these rows
        options.Validate();

        LibTorchSetup.ForTraining(options.NumberOfThreads); // the trainer's first torch call follows

        manual_seed(options.Seed);
        if (options.Task == QatTask.MulticlassClassification && classes < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "A multiclass task needs at least 2 classes.");
        }

        return options;
    }

    /// <summary>
    /// The network to train, seeded: from the teacher's weights when it has the network's shape (a float start), with
    /// the input grid of a quantized network, and for regression with the labels' mean and spread as its output shift
    /// and scale (it predicts standardised targets: the output layer starts near the labels' mean instead of near 0, and
    /// the loss is the squared error in units of the labels' variance).
    /// </summary>
    private static QatNetwork CreateNetwork(IBatchSource source, int classes, QatOptions options, QatNetwork? teacher, InputGrid? inputGrid)
    {
        int outputs = options.Task == QatTask.MulticlassClassification ? classes : 1;
        var network = new QatNetwork(source.FeatureCount, outputs, options) { Input = options.Mode == QatMode.Float ? null : inputGrid };
        if (teacher is not null && (options.TeacherHiddenLayers ?? options.HiddenLayers).SequenceEqual(options.HiddenLayers))
        {
            StartFrom(network, teacher);
        }

        if (options.Task == QatTask.Regression)
        {
            var (mean, std) = source.LabelMoments();
            network.OutputShift = (float)mean;
            network.OutputScale = std > 0 ? (float)std : 1;
        }

        return network;
    }

    /// <summary>The kept network in evaluation mode; after post-training quantization, calibrated on the training rows.</summary>
    private static QatNetwork Finished(QatNetwork network, IBatchSource source, QatOptions options)
    {
        network.eval();
        if (options.Mode == QatMode.PostTraining)
        {
            using Tensor calibration = source.CalibrationRows();
            CalibrateAfterTraining(network, calibration);
        }

        return network;
    }

    /// <summary>
    /// Some TorchSharp objects that own native memory escape the step's dispose scope (inside the optimizer's step) and
    /// are released only by their finalizers, which a small managed heap rarely triggers: without this, RSS grew by
    /// ~110 MB over 50 epochs on digits; with it, it stays flat (docs/benchmarks.md). Costs well under a millisecond per
    /// epoch.
    /// </summary>
    private static void ReleaseEscapedNativeMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    /// <summary>The float teacher of distillation: the network's options in float mode, with the teacher's hidden layers and epochs.</summary>
    private static QatNetwork TrainTeacher(IBatchSource source, int classes, QatOptions options, QatData? validation, CancellationToken cancellation, InputGrid? inputGrid)
    {
        QatOptions teacher = options.Clone();
        teacher.Mode = QatMode.Float;
        teacher.HiddenLayers = options.TeacherHiddenLayers ?? options.HiddenLayers;
        teacher.LayerWeightBits = null;
        teacher.MaxEpoch = options.TeacherEpochs;
        teacher.WarmupEpochs = 0;
        teacher.DistillationWeight = 0;
        teacher.RoundingLayers.Clear();
        teacher.EpochModel = null;
        QatNetwork network = TrainNetwork(source, classes, teacher, validation, null, cancellation, inputGrid, out _);
        network.eval();
        return network;
    }

    /// <summary>Copies the teacher's weights and biases into the network (same shape): quantization-aware training from a float start.</summary>
    private static void StartFrom(QatNetwork network, QatNetwork teacher)
    {
        using var noGrad = no_grad();
        foreach (var (target, source) in network.WeightsAndBiases().Zip(teacher.WeightsAndBiases()))
        {
            target.Weight.copy_(source.Weight);
            target.Bias.copy_(source.Bias);
        }
    }

    /// <summary>Whether every parameter of the network is finite.</summary>
    private static bool Finite(QatNetwork network)
    {
        using var scope = NewDisposeScope();
        return network.parameters().All(p => p.isfinite().all().item<bool>());
    }

    /// <summary>The error of a run whose loss or weights became NaN or infinite (typically unnormalized, huge features).</summary>
    private static InvalidOperationException Diverged(int epoch, QatOptions options) => new(FormattableString.Invariant(
        $"Training diverged in epoch {epoch}: the loss or the weights became NaN or infinite. Normalize the features in '{options.FeatureColumnName}' (e.g. NormalizeMinMax or NormalizeMeanVariance) or lower LearningRate (now {options.LearningRate})."));

    /// <summary>Post-training quantization: weight steps from max |w| per channel, activation steps from the ranges seen on the training rows.</summary>
    private static void CalibrateAfterTraining(QatNetwork network, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (q, layer) in network.WeightQuantizers.Zip(network.Layers))
        {
            q?.Calibrate(layer.weight!);
        }

        Tensor h = network.Convolutions?.Calibrate(x) ?? x;
        for (int i = 0; i < network.Layers.Count - 1; i++)
        {
            h = nn.functional.relu(network.Layers[i].call(h));
            if (i < network.ActivationQuantizers.Count)
            {
                network.ActivationQuantizers[i].Calibrate(h);
            }
        }

        network.SetQuantizersEnabled(true);
    }

    /// <summary>
    /// Accuracy (classification) or RMSE (regression) of the deployed model on <paramref name="data"/>, and its training
    /// loss there (mean cross-entropy, logistic loss or squared error, in float64), from the plain C# scorer: the numbers
    /// early stopping follows are those of the model that will be deployed.
    /// </summary>
    public static (double Metric, double Loss) Validate(QuantizedMlp model, QatData data)
    {
        int outputs = model.Layers[^1].Outputs;
        var logits = new float[outputs];
        double metricSum = 0, lossSum = 0;
        for (int r = 0; r < data.Count; r++)
        {
            model.Forward(data.Features.AsSpan(r * data.FeatureCount, data.FeatureCount), logits);
            double label = data.Labels[r];
            switch (model.Task)
            {
                case QatTask.MulticlassClassification:
                    int predicted = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
                    double max = logits[predicted], sum = 0;
                    foreach (float l in logits)
                    {
                        sum += Math.Exp(l - max);
                    }

                    metricSum += predicted == (int)label ? 1 : 0;
                    lossSum += max + Math.Log(sum) - logits[(int)label];
                    break;
                case QatTask.BinaryClassification:
                    double z = logits[0];
                    metricSum += (z > 0 ? 1 : 0) == label ? 1 : 0;
                    lossSum += Math.Max(z, 0) - z * label + Math.Log(1 + Math.Exp(-Math.Abs(z))); // log(1 + e^z) - z y, stably
                    break;
                default:
                    double error = logits[0] - label;
                    metricSum += error * error;
                    lossSum += error * error;
                    break;
            }
        }

        double n = Math.Max(1, data.Count);
        return model.Task == QatTask.Regression ? (Math.Sqrt(metricSum / n), lossSum / n) : (metricSum / n, lossSum / n);
    }
}
