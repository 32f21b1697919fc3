using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers;

/// <summary>The calibration rows of learned rounding: a seeded sample of the finite rows of a features column.</summary>
internal static class CalibrationRows
{
    /// <summary>
    /// At most <paramref name="limit"/> rows of <paramref name="column"/> (a vector of <paramref name="width"/> Single),
    /// rows with NaN or infinite values skipped: every row while there are no more than the limit, else a uniform sample
    /// drawn in one pass (reservoir sampling with <see cref="Random"/>(<paramref name="seed"/>)), in the data's order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or not a vector of <paramref name="width"/> Single.</exception>
    public static (float[] Rows, int Count) Read(IDataView data, string column, int width, int limit, int seed)
    {
        var schemaColumn = data.Schema.GetColumnOrNull(column)
            ?? throw new ArgumentOutOfRangeException(nameof(column), column, $"Could not find features column '{column}' in the calibration rows.");
        if (schemaColumn.Type is not VectorDataViewType { ItemType: NumberDataViewType n, Size: var size } || n != NumberDataViewType.Single || size != width)
        {
            throw TrainingRows.Mismatch("feature", column, $"vector of Single of size {width} (the network's inputs)", schemaColumn.Type);
        }

        var kept = new List<(long Index, float[] Row)>();
        var random = new Random(seed);
        using var cursor = data.GetRowCursor(new[] { schemaColumn });
        var get = cursor.GetGetter<VBuffer<float>>(schemaColumn);
        VBuffer<float> buffer = default;
        var row = new float[width]; // read into one buffer; a row is copied only when it is kept
        long seen = 0;
        while (cursor.MoveNext())
        {
            get(ref buffer);
            buffer.CopyTo(row);
            if (!TrainingRows.AllFinite(row))
            {
                continue;
            }

            if (kept.Count < limit)
            {
                kept.Add((seen, row.ToArray()));
            }
            else if (random.NextInt64(seen + 1) is var slot && slot < limit)
            {
                float[] reused = kept[(int)slot].Row;
                row.CopyTo(reused);
                kept[(int)slot] = (seen, reused);
            }

            seen++;
        }

        float[] rows = kept.OrderBy(k => k.Index).SelectMany(k => k.Row).ToArray();
        return (rows, kept.Count);
    }
}
