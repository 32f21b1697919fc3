using MlRounding.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// The optimisation steps of one training run: AdamW with the cosine decay of the learning rate, the hardness
/// schedule of the annealed estimators, the seeded shuffle of each epoch, one dispose scope per step, a cancellation
/// check before each step, and the distillation objective when a teacher is given.
/// </summary>
internal sealed class TrainingSteps : IDisposable
{
    private readonly QatNetwork _network;
    private readonly QatNetwork? _teacher;
    private readonly IBatchSource _source;
    private readonly QatOptions _options;
    private readonly double _lossScale;
    private readonly HeldScalarAdamW _optimizer;
    private readonly Generator _shuffle;
    private readonly optim.lr_scheduler.LRScheduler? _decay;
    private readonly Ops.HardnessSchedule _hardness;
    private long _step;

    public TrainingSteps(QatNetwork network, QatNetwork? teacher, IBatchSource source, QatOptions options)
    {
        _network = network;
        _teacher = teacher;
        _source = source;
        _options = options;

        // Regression trains on standardised targets (QatNetwork.OutputScale): the loss is scaled back to label units.
        _lossScale = options.Task == QatTask.Regression ? 1.0 / (network.OutputScale * (double)network.OutputScale) : 1;
        long batches = (source.Count + options.BatchSize - 1) / options.BatchSize;
        long total = Math.Max(1, options.MaxEpoch!.Value * batches);
        _optimizer = Optimizer(network, options, total, source.Count);
        _shuffle = new Generator((ulong)options.Seed);
        _decay = options.LearningRateSchedule == LearningRateSchedule.Cosine
            ? optim.lr_scheduler.CosineAnnealingLR(_optimizer, (int)Math.Min(int.MaxValue, total))
            : null;
        _hardness = new Ops.HardnessSchedule(Ops.ScheduleCurve.Exponential, options.HardnessStart, options.HardnessEnd, total);
    }

    /// <summary>
    /// AdamW over the network's parameters for a run of <paramref name="updates"/> updates on <paramref name="rows"/>
    /// training rows: the log steps in a group of their own, at <see cref="QatOptions.StepLearningRateFor"/>, with the same
    /// weight decay as the weights, as before the steps had a group of their own (a run below
    /// <see cref="QatOptions.LargeDataRows"/> rows trains as before: digits models compared byte for byte).
    /// </summary>
    internal static HeldScalarAdamW Optimizer(QatNetwork network, QatOptions options, long updates, long rows)
    {
        double rate = options.LearningRate!.Value;
        Parameter? steps = network.LogSteps;
        var weights = network.parameters().Where(p => steps is null || p.Handle != steps.Handle).ToList();
        var groups = new List<AdamW.ParamGroup> { new(weights, lr: rate, weight_decay: options.WeightDecay) };
        if (steps is not null)
        {
            groups.Add(new(new[] { steps }, lr: options.StepLearningRateFor(rows, updates), weight_decay: options.WeightDecay));
        }

        return new HeldScalarAdamW(groups);
    }

    /// <summary>Trains one epoch over the source's batches; returns the mean training loss per row (NaN without rows).</summary>
    public double Epoch(int epoch, CancellationToken cancellation)
    {
        _network.train();
        double lossSum = 0;
        long seen = 0;
        using var batch = _source.Epoch(epoch, _shuffle).GetEnumerator();
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            if (!batch.MoveNext())
            {
                break;
            }

            var (x, y, rows) = batch.Current;
            lossSum += Step(x, y) * rows;
            seen += rows;
        }

        return seen > 0 ? lossSum / seen : double.NaN;
    }

    /// <summary>One optimisation step on a batch; returns its training loss in label units.</summary>
    private double Step(Tensor x, Tensor y)
    {
        double hardness = _hardness.ValueAt(_step);
        foreach (var q in _network.Quantizers)
        {
            q.Hardness = hardness;
        }

        _optimizer.zero_grad();
        Tensor output = _network.call(x);
        Tensor loss = Loss(output, y, _options.Task).Times(_lossScale);
        Tensor objective = _teacher is null ? loss : Distilled(loss, output, x);
        objective.backward();
        _optimizer.step();
        _decay?.step();
        _step++;
        return loss.item<float>() / _lossScale;
    }

    private static Tensor Loss(Tensor output, Tensor target, QatTask task) => task switch
    {
        QatTask.MulticlassClassification => nn.functional.cross_entropy(output, target),
        QatTask.BinaryClassification => nn.functional.binary_cross_entropy_with_logits(output.squeeze(1), target),
        _ => nn.functional.mse_loss(output.squeeze(1), target),
    };

    /// <summary>
    /// (1 - α) · loss + α · the distillation loss against the teacher's outputs on the batch, softened by the temperature T
    /// and scaled by T² (Hinton et al. 2015): multiclass, the cross-entropy of the network's softened log-probabilities
    /// against the teacher's softened probabilities (KL divergence up to the teacher's entropy, a constant); binary, the
    /// logistic loss against the teacher's softened probability; regression, the squared difference to the teacher's
    /// prediction (in the units of the training loss).
    /// </summary>
    private Tensor Distilled(Tensor loss, Tensor output, Tensor x)
    {
        double alpha = _options.DistillationWeight, t = _options.DistillationTemperature;
        Tensor target;
        using (no_grad())
        {
            target = _teacher!.call(x).detach();
        }

        Tensor distill = _options.Task switch
        {
            QatTask.MulticlassClassification => (-(nn.functional.softmax(target.Over(t), 1) * nn.functional.log_softmax(output.Over(t), 1)).sum(1).mean()).Times(t * t),
            QatTask.BinaryClassification => nn.functional.binary_cross_entropy_with_logits(output.squeeze(1).Over(t), nn.functional.sigmoid(target.squeeze(1).Over(t))).Times(t * t),
            _ => nn.functional.mse_loss(output, target).Times(_lossScale),
        };
        return loss.Times(1 - alpha).Plus(distill.Times(alpha));
    }

    public void Dispose()
    {
        _shuffle.Dispose();
        _optimizer.Dispose();
    }
}
