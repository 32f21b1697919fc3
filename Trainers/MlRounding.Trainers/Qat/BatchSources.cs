using Microsoft.ML;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// Where the training steps read their minibatches from. The tensors of a batch are created when the enumerator moves
/// (inside the caller's per-step dispose scope), so a step frees its batch with everything else it allocated.
/// </summary>
internal interface IBatchSource
{
    int FeatureCount { get; }

    /// <summary>Gets the number of training rows per epoch.</summary>
    long Count { get; }

    /// <summary>The mean and (population) standard deviation of the labels (regression standardisation).</summary>
    (double Mean, double Std) LabelMoments();

    /// <summary>One epoch's minibatches: features [rows, d], targets, and the row count.</summary>
    IEnumerable<(Tensor X, Tensor Y, int Rows)> Epoch(int epoch, Generator shuffle);

    /// <summary>Rows for post-training calibration of the activation ranges (all, or a bounded sample when streaming).</summary>
    Tensor CalibrationRows();
}

/// <summary>Rows held in memory, shuffled per epoch by a permutation drawn from the seeded generator.</summary>
internal sealed class InMemoryBatches : IBatchSource, IDisposable
{
    private readonly QatData _data;
    private readonly int _batchSize;
    private readonly Tensor _x;
    private readonly Tensor _y;

    /// <summary>Batches of <paramref name="data"/>, whose features become what the first layer sees when there is an input grid (the rows themselves stay raw).</summary>
    public InMemoryBatches(QatData data, QatTask task, int batchSize, InputGrid? inputGrid = null)
    {
        _data = data;
        _batchSize = batchSize;
        // The rows are copied into the tensor's own memory and put on the grid there: no managed copy of the whole set.
        _x = empty(data.Count, data.FeatureCount, ScalarType.Float32).DetachFromDisposeScope();
        Span<float> x = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(_x.bytes);
        data.Features.AsSpan(0, data.Count * data.FeatureCount).CopyTo(x);
        inputGrid?.Apply(x, data.FeatureCount);
        _y = BatchTargets.Of(data.Labels, task).DetachFromDisposeScope();
    }

    public int FeatureCount => _data.FeatureCount;

    public long Count => _data.Count;

    public (double Mean, double Std) LabelMoments()
    {
        var moments = default(RunningMoments);
        foreach (float label in _data.Labels)
        {
            moments.Add(label);
        }

        return moments.Result;
    }

    public IEnumerable<(Tensor X, Tensor Y, int Rows)> Epoch(int epoch, Generator shuffle)
    {
        Tensor? permutation = null;
        try
        {
            int n = _data.Count;
            for (int b = 0; b * _batchSize < n; b++)
            {
                permutation ??= randperm(n, generator: shuffle).DetachFromDisposeScope();
                int rows = Math.Min(_batchSize, n - b * _batchSize);
                Tensor index = permutation.narrow(0, (long)b * _batchSize, rows);
                yield return (_x.index_select(0, index), _y.index_select(0, index), rows);
            }
        }
        finally
        {
            permutation?.Dispose();
        }
    }

    public Tensor CalibrationRows() => _x.alias();

    public void Dispose()
    {
        _x.Dispose();
        _y.Dispose();
    }
}

/// <summary>
/// Rows streamed from an <see cref="IDataView"/>: each epoch reads the data once through ML.NET's <c>ShuffleRows</c>
/// (a pool of <see cref="QatOptions.ShufflePoolSize"/> rows, seeded with the seed and the epoch), so memory is bounded by
/// the pool and one minibatch, whatever the number of rows. One pass up front counts the usable rows, computes the
/// label moments and keeps up to <see cref="CalibrationSampleRows"/> rows for post-training calibration.
/// </summary>
internal sealed class StreamingBatches : IBatchSource
{
    public const int CalibrationSampleRows = 65536;

    private readonly IDataView _data;
    private readonly QatOptions _options;
    private readonly MLContext _ml;
    private readonly List<float> _sample = new();
    private readonly (double Mean, double Std) _moments;

    public StreamingBatches(IDataView data, QatOptions options, int featureCount)
    {
        _data = data;
        _options = options;
        FeatureCount = featureCount;
        _ml = new MLContext(options.Seed);
        var moments = default(RunningMoments);
        using var reader = new TrainingRows.RowReader(data, options, featureCount);
        var lows = Enumerable.Repeat(float.PositiveInfinity, featureCount).ToArray();
        var highs = Enumerable.Repeat(float.NegativeInfinity, featureCount).ToArray();
        while (reader.Next(out float label))
        {
            Count++;
            moments.Add(label);
            MlRounding.Trainers.InputGrid.Extend(reader.Features, lows, highs);

            if (Count <= CalibrationSampleRows)
            {
                _sample.AddRange(reader.Features);
            }
        }

        Skipped = reader.Skipped;
        _moments = moments.Result;
        (FeatureLows, FeatureHighs) = MlRounding.Trainers.InputGrid.Finish(lows, highs);
    }

    /// <summary>Gets the smallest value of each feature over the usable rows (0 where there is none).</summary>
    public float[] FeatureLows { get; }

    /// <summary>Gets the largest value of each feature over the usable rows (0 where there is none).</summary>
    public float[] FeatureHighs { get; }

    /// <summary>Gets or sets the input quantization applied to the rows as they are read (see <see cref="QatNetwork.Input"/>), or null.</summary>
    public InputGrid? InputGrid { get; set; }

    public int FeatureCount { get; }

    public long Count { get; }

    /// <summary>Gets the rows skipped for NaN or infinite values.</summary>
    public long Skipped { get; }

    public (double Mean, double Std) LabelMoments() => _moments;

    public IEnumerable<(Tensor X, Tensor Y, int Rows)> Epoch(int epoch, Generator shuffle)
    {
        IDataView shuffled = _ml.Data.ShuffleRows(_data, seed: unchecked(_options.Seed * 7919 + epoch), shufflePoolSize: _options.ShufflePoolSize);
        int batchSize = _options.BatchSize;
        var features = new float[batchSize * FeatureCount];
        var labels = new float[batchSize];
        using var reader = new TrainingRows.RowReader(shuffled, _options, FeatureCount);
        int rows = 0;
        while (true)
        {
            bool more = reader.Next(out float label);
            if (more)
            {
                reader.Features.CopyTo(features, rows * FeatureCount);
                labels[rows++] = label;
            }

            if (rows == batchSize || (!more && rows > 0))
            {
                // tensor() copies, so the buffers are reused; only a short last batch needs a trimmed copy.
                bool full = rows == batchSize;
                InputGrid?.Apply(features.AsSpan(0, rows * FeatureCount), FeatureCount);

                Tensor x = tensor(full ? features : features[..(rows * FeatureCount)], new long[] { rows, FeatureCount });
                yield return (x, BatchTargets.Of(full ? labels : labels[..rows], _options.Task), rows);
                rows = 0;
            }

            if (!more)
            {
                yield break;
            }
        }
    }

    public Tensor CalibrationRows()
    {
        float[] sample = _sample.ToArray();
        InputGrid?.Apply(sample, FeatureCount);

        return tensor(sample).reshape(sample.Length / FeatureCount, FeatureCount);
    }
}

/// <summary>Training targets as tensors: class indices (int64) for multiclass, float otherwise.</summary>
internal static class BatchTargets
{
    public static Tensor Of(float[] labels, QatTask task) => task == QatTask.MulticlassClassification
        ? tensor(labels).to_type(ScalarType.Int64)
        : tensor(labels);
}

/// <summary>
/// Mean and population standard deviation of the labels in one pass (Welford), the same arithmetic for rows in memory
/// and streamed rows, so both standardise regression targets identically.
/// </summary>
internal struct RunningMoments
{
    private long _count;
    private double _mean;
    private double _squares;

    public void Add(double value)
    {
        _count++;
        double delta = value - _mean;
        _mean += delta / _count;
        _squares += delta * (value - _mean);
    }

    public readonly (double Mean, double Std) Result => (_mean, _count > 0 ? Math.Sqrt(_squares / _count) : 0);
}
