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
        using QatNetwork network = TrainNetwork(source, classes, options, validation, progress, cancellation, inputGrid);
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
            var random = new Random(options.Seed);
            int[] order = Enumerable.Range(0, data.Count).OrderBy(_ => random.Next()).ToArray();
            int held = Math.Max(1, (int)(data.Count * fraction));
            validation = data.Subset(order[..held]);
            train = data.Subset(order[held..]);
        }

        using var source = new InMemoryBatches(train, options.Task, options.BatchSize, options.Mode == QatMode.Float ? null : inputGrid);
        return TrainNetwork(source, classes, options, validation, progress, cancellation, inputGrid);
    }

    /// <summary>The training loop over any batch source; the validation rows (if any) are in memory.</summary>
    private static QatNetwork TrainNetwork(IBatchSource source, int classes, QatOptions options, QatData? validation,
        IProgress<QatProgress>? progress, CancellationToken cancellation, InputGrid? inputGrid)
    {
        options.Validate();
        if (source.Count == 0)
        {
            throw new InvalidOperationException("No training rows.");
        }

        options = options.ForRows(source.Count); // the automatic epochs, batch size and learning rate for these rows
        options.Validate();
        int maxEpoch = options.MaxEpoch!.Value;

        // The trainer's first torch call follows: make TorchSharp's native library loadable here rather than rely on
        // another assembly's module initializer having run (a no-op after the first call, and where nothing needs fixing).
        Native.TorchSharpNative.EnsureLoaded();

        if (options.NumberOfThreads is int threads)
        {
            set_num_threads(threads);
        }

        manual_seed(options.Seed);
        int outputs = options.Task == QatTask.MulticlassClassification ? classes : 1;
        if (options.Task == QatTask.MulticlassClassification && classes < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "A multiclass task needs at least 2 classes.");
        }

        // Distillation: a float teacher trained first on the same rows (and validation rows), then kept for its outputs.
        using QatNetwork? teacher = options.DistillationWeight > 0 ? TrainTeacher(source, classes, options, validation, cancellation, inputGrid) : null;
        manual_seed(options.Seed);
        var network = new QatNetwork(source.FeatureCount, outputs, options) { Input = options.Mode == QatMode.Float ? null : inputGrid };
        if (teacher is not null && (options.TeacherHiddenLayers ?? options.HiddenLayers).SequenceEqual(options.HiddenLayers))
        {
            StartFrom(network, teacher); // a float start: the teacher has the network's shape
        }

        // Quantization-aware training from a float start: the first WarmupEpochs train without quantizers.
        int warmup = options.Mode == QatMode.QuantizationAware ? options.WarmupEpochs : 0;
        if (warmup > 0)
        {
            network.SetQuantizersEnabled(false);
        }

        double lossScale = 1;
        if (options.Task == QatTask.Regression)
        {
            // Predict standardised targets: the output layer starts near the labels' mean instead of near 0, and the
            // loss is the squared error in units of the labels' variance.
            var (mean, std) = source.LabelMoments();
            network.OutputShift = (float)mean;
            network.OutputScale = std > 0 ? (float)std : 1;
            lossScale = 1.0 / (network.OutputScale * (double)network.OutputScale);
        }

        using var optimizer = new HeldScalarAdamW(network.parameters(), options.LearningRate!.Value, options.WeightDecay);
        using var shuffle = new Generator((ulong)options.Seed);
        int batchSize = options.BatchSize;
        long batches = (source.Count + batchSize - 1) / batchSize;
        var decay = options.LearningRateSchedule == LearningRateSchedule.Cosine
            ? optim.lr_scheduler.CosineAnnealingLR(optimizer, (int)Math.Min(int.MaxValue, Math.Max(1, maxEpoch * batches)))
            : null;
        var schedule = new Ops.HardnessSchedule(Ops.ScheduleKind.Exponential, options.HardnessStart, options.HardnessEnd, Math.Max(1, maxEpoch * batches));
        long step = 0;
        bool byMetric = validation is not null && options.Task != QatTask.Regression && options.EpochSelection switch
        {
            EpochSelection.ValidationMetric => true,
            EpochSelection.ValidationLoss => false,
            _ => validation.Count >= QatOptions.AccuracySelectionRows,
        };
        (double Metric, double Loss) best = (double.NegativeInfinity, double.NegativeInfinity);
        int sinceBest = 0, bestEpoch = 0;
        Dictionary<string, Tensor>? bestState = null;
        for (int epoch = 1; epoch <= maxEpoch; epoch++)
        {
            if (warmup > 0 && epoch == warmup + 1)
            {
                network.SetQuantizersEnabled(true); // the steps initialise from the trained weights on the next batch
            }

            network.train();
            double lossSum = 0;
            long seen = 0;
            using (var batch = source.Epoch(epoch, shuffle).GetEnumerator())
            {
                while (true)
                {
                    cancellation.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    if (!batch.MoveNext())
                    {
                        break;
                    }

                    var (bx, by, rows) = batch.Current;
                    double hardness = schedule.ValueAt(step);
                    foreach (var q in network.Quantizers)
                    {
                        q.Hardness = hardness;
                    }

                    optimizer.zero_grad();
                    Tensor output = network.call(bx);
                    Tensor loss = Loss(output, by, options.Task).Times(lossScale);
                    Tensor objective = teacher is null ? loss : Distilled(loss, output, teacher, bx, options, lossScale);
                    objective.backward();
                    optimizer.step();
                    decay?.step();
                    lossSum += loss.item<float>() / lossScale * rows;
                    seen += rows;
                    step++;
                }
            }

            lossSum = seen > 0 ? lossSum : double.NaN;
            if (!double.IsFinite(lossSum) || !Finite(network))
            {
                DisposeState(bestState);
                network.Dispose();
                throw Diverged(epoch, options);
            }

            // Some TorchSharp objects that own native memory escape the step's dispose scope (inside the optimizer's
            // step) and are released only by their finalizers, which a small managed heap rarely triggers: without this,
            // RSS grew by ~110 MB over 50 epochs on digits; with it, it stays flat (docs/benchmarks.md). Costs well under
            // a millisecond per epoch.
            GC.Collect();
            GC.WaitForPendingFinalizers();

            QuantizedMlp? model = validation is not null || options.EpochModel is not null ? network.Export(options.Task, classes) : null;
            var (metric, validationLoss) = validation is null ? (double.NaN, double.NaN) : Validate(model!, validation);
            bool stop = false;
            if (validation is not null && epoch > warmup)
            {
                // The kept epoch (EpochSelection): by loss, which moves smoothly, or by accuracy (RMSE for regression
                // is the loss's square root: the same order), ties to the lower loss. Warm-up epochs are float: they
                // are neither kept nor counted.
                var score = byMetric ? (metric, -validationLoss) : (-validationLoss, 0.0);
                if (score.CompareTo(best) > 0)
                {
                    best = score;
                    sinceBest = 0;
                    bestEpoch = epoch;
                    DisposeState(bestState);
                    bestState = Snapshot(network);
                }
                else if (options.EarlyStoppingPatience > 0 && ++sinceBest >= options.EarlyStoppingPatience)
                {
                    stop = true;
                }
            }
            else if (validation is null && epoch > warmup)
            {
                bestEpoch = epoch; // without validation rows the last epoch is kept
            }

            progress?.Report(new QatProgress(epoch, lossSum / seen, metric, validationLoss, bestEpoch, maxEpoch));
            options.EpochModel?.Invoke(epoch, model!);
            if (stop)
            {
                break;
            }
        }

        if (bestState is not null)
        {
            network.load_state_dict(bestState);
            DisposeState(bestState);
        }

        network.eval();
        if (options.Mode == QatMode.PostTraining)
        {
            using Tensor calibration = source.CalibrationRows();
            CalibrateAfterTraining(network, calibration);
        }

        return network;
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
        QatNetwork network = TrainNetwork(source, classes, teacher, validation, null, cancellation, inputGrid);
        network.eval();
        return network;
    }

    /// <summary>Copies the teacher's weights and biases into the network (same shape): quantization-aware training from a float start.</summary>
    private static void StartFrom(QatNetwork network, QatNetwork teacher)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < network.Layers.Count; i++)
        {
            network.Layers[i].weight!.copy_(teacher.Layers[i].weight!);
            network.Layers[i].bias!.copy_(teacher.Layers[i].bias!);
        }
    }

    /// <summary>
    /// (1 - α) · loss + α · the distillation loss against the teacher's outputs on the batch, softened by the temperature T
    /// and scaled by T² (Hinton et al. 2015): multiclass, the cross-entropy of the network's softened log-probabilities
    /// against the teacher's softened probabilities (KL divergence up to the teacher's entropy, a constant); binary, the
    /// logistic loss against the teacher's softened probability; regression, the squared difference to the teacher's
    /// prediction (in the units of the training loss).
    /// </summary>
    private static Tensor Distilled(Tensor loss, Tensor output, QatNetwork teacher, Tensor x, QatOptions options, double lossScale)
    {
        double alpha = options.DistillationWeight, t = options.DistillationTemperature;
        Tensor target;
        using (no_grad())
        {
            target = teacher.call(x).detach();
        }

        Tensor distill = options.Task switch
        {
            QatTask.MulticlassClassification => (-(nn.functional.softmax(target.Over(t), 1) * nn.functional.log_softmax(output.Over(t), 1)).sum(1).mean()).Times(t * t),
            QatTask.BinaryClassification => nn.functional.binary_cross_entropy_with_logits(output.squeeze(1).Over(t), nn.functional.sigmoid(target.squeeze(1).Over(t))).Times(t * t),
            _ => nn.functional.mse_loss(output, target).Times(lossScale),
        };
        return loss.Times(1 - alpha).Plus(distill.Times(alpha));
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

        Tensor h = x;
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

    private static Tensor Loss(Tensor output, Tensor target, QatTask task) => task switch
    {
        QatTask.MulticlassClassification => nn.functional.cross_entropy(output, target),
        QatTask.BinaryClassification => nn.functional.binary_cross_entropy_with_logits(output.squeeze(1), target),
        _ => nn.functional.mse_loss(output.squeeze(1), target),
    };

    /// <summary>A copy of the network's parameters and buffers; the detached views it goes through are disposed with the scope.</summary>
    private static Dictionary<string, Tensor> Snapshot(QatNetwork network)
    {
        using var scope = NewDisposeScope();
        return network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().MoveToOuterDisposeScope());
    }

    private static void DisposeState(Dictionary<string, Tensor>? state)
    {
        foreach (var t in state?.Values ?? Enumerable.Empty<Tensor>())
        {
            t.Dispose();
        }
    }
}
