using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding;

/// <summary>
/// Streams a column once and derives an <see cref="AffineGrid"/>: the range [lo, hi] of its finite values (min/max,
/// or percentiles from a seeded reservoir sample of at most 100,000 values per slot), then scale and zero point.
/// </summary>
internal static class QuantizationCalibrator
{
    private const int ReservoirSize = 100_000;

    public static AffineGrid Fit(IDataView data, DataViewSchema.Column column, QuantizeOptions options)
    {
        int slots = column.Type is VectorDataViewType v ? v.Size : 1;
        int groups = options.PerSlot ? slots : 1;
        var stats = Enumerable.Range(0, groups).Select(_ => new RangeStatistics(options.Calibration == QuantizeCalibration.Percentile)).ToArray();
        long rows = 0;
        using (DataViewRowCursor cursor = data.GetRowCursor(new[] { column }))
        {
            bool isDouble = ColumnTypes.ItemType(column.Type) == NumberDataViewType.Double;
            Action observe = (isDouble, column.Type is VectorDataViewType) switch
            {
                (false, false) => ObserveScalar<float>(cursor, column, stats),
                (true, false) => ObserveScalar<double>(cursor, column, stats),
                (false, true) => ObserveVector<float>(cursor, column, stats, options.PerSlot),
                (true, true) => ObserveVector<double>(cursor, column, stats, options.PerSlot),
            };
            while (rows < options.MaximumExampleCount && cursor.MoveNext())
            {
                observe();
                rows++;
            }
        }

        var range = QuantizationRange.FromBits(options.Bits, signed: options.Symmetric, options.NarrowRange);
        var scales = new double[groups];
        var zeros = new long[groups];
        for (int g = 0; g < groups; g++)
        {
            if (stats[g].Count == 0)
            {
                throw new InvalidOperationException(
                    $"Quantize: input column '{column.Name}'{(groups > 1 ? $" slot {g}" : string.Empty)} has no finite values to calibrate on ({rows} rows read).");
            }

            var (lo, hi) = stats[g].Range(options.Percentile);
            (scales[g], zeros[g]) = AffineGrid.ScaleAndZeroPoint(lo, hi, range, options.Symmetric);
        }

        return new AffineGrid(options.Bits, range, scales, zeros);
    }

    private static Action ObserveScalar<T>(DataViewRowCursor cursor, DataViewSchema.Column column, RangeStatistics[] stats)
        where T : struct, IConvertible
    {
        ValueGetter<T> get = cursor.GetGetter<T>(column);
        T value = default;
        return () =>
        {
            get(ref value);
            stats[0].Add(value.ToDouble(null));
        };
    }

    private static Action ObserveVector<T>(DataViewRowCursor cursor, DataViewSchema.Column column, RangeStatistics[] stats, bool perSlot)
        where T : struct, IConvertible
    {
        ValueGetter<VBuffer<T>> get = cursor.GetGetter<VBuffer<T>>(column);
        VBuffer<T> buffer = default;
        int expected = column.Type is VectorDataViewType { IsKnownSize: true } v ? v.Size : 0;
        return () =>
        {
            get(ref buffer);
            if (perSlot && buffer.Length != expected)
            {
                throw new InvalidOperationException($"Column '{column.Name}': a vector of {buffer.Length} values where {expected} were declared.");
            }

            // Every slot counts, implicit zeros of a sparse vector included; no enumerator per row.
            ReadOnlySpan<T> values = buffer.GetValues();
            ReadOnlySpan<int> indices = buffer.IsDense ? default : buffer.GetIndices();
            for (int slot = 0, k = 0; slot < buffer.Length; slot++)
            {
                double value = buffer.IsDense ? values[slot].ToDouble(null)
                    : k < indices.Length && indices[k] == slot ? values[k++].ToDouble(null)
                    : 0;
                stats[perSlot ? slot : 0].Add(value);
            }
        };
    }

    /// <summary>Min/max of the finite values, and optionally a reservoir sample for percentiles (seeded: deterministic).</summary>
    private sealed class RangeStatistics
    {
        private readonly List<double>? _sample;
        private readonly Random _random = new(20_251_126);
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;

        public RangeStatistics(bool sample) => _sample = sample ? new List<double>() : null;

        public long Count { get; private set; }

        public void Add(double value)
        {
            if (!double.IsFinite(value))
            {
                return;
            }

            Count++;
            _min = Math.Min(_min, value);
            _max = Math.Max(_max, value);
            if (_sample is null)
            {
                return;
            }

            if (_sample.Count < ReservoirSize)
            {
                _sample.Add(value);
            }
            else
            {
                long j = _random.NextInt64(Count);
                if (j < ReservoirSize)
                {
                    _sample[(int)j] = value;
                }
            }
        }

        public (double Lo, double Hi) Range(double percentile)
        {
            if (_sample is null)
            {
                return (_min, _max);
            }

            _sample.Sort();
            return (Quantile(_sample, 1 - percentile / 100), Quantile(_sample, percentile / 100));
        }

        // Linear interpolation between order statistics (NumPy's default "linear" method).
        private static double Quantile(List<double> sorted, double q)
        {
            double position = q * (sorted.Count - 1);
            int below = (int)Math.Floor(position);
            int above = Math.Min(below + 1, sorted.Count - 1);
            return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
        }
    }
}
