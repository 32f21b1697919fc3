using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers;

/// <summary>
/// The input quantization of a network: the grid its features are quantized to and what one code is worth to the first
/// layer, which sees (q - z) · <paramref name="Step"/>. See <see cref="QuantizedMlp.InputGrid"/>.
/// </summary>
/// <param name="Grid">The grid: one scale, or one per feature.</param>
/// <param name="Step">The value of one code for the first layer.</param>
internal sealed record InputGrid(AffineGrid Grid, float Step)
{
    /// <summary>
    /// The grid of a <c>Quantize</c> transform that produced the features (from its annotations): a single-scale grid
    /// keeps its scale as the step (the network sees the transform's values); a per-slot grid gets the step
    /// 1 / (qmax - qmin), so each feature is normalized to about [-1, 1]. Null when the column has no such grid.
    /// </summary>
    public static InputGrid? Of(DataViewSchema.Column features)
    {
        var annotations = features.Annotations;
        var schema = annotations.Schema;
        foreach (string name in new[] { RoundingAnnotations.Grid, RoundingAnnotations.Bits, RoundingAnnotations.Scale, RoundingAnnotations.ZeroPoint, RoundingAnnotations.QuantizationMin, RoundingAnnotations.QuantizationMax })
        {
            if (schema.GetColumnOrNull(name) is null)
            {
                return null;
            }
        }

        ReadOnlyMemory<char> kind = default;
        annotations.GetValue(RoundingAnnotations.Grid, ref kind);
        if (!kind.Span.SequenceEqual("affine"))
        {
            return null;
        }

        VBuffer<double> scales = default;
        VBuffer<long> zeros = default;
        int bits = 0;
        long min = 0, max = 0;
        annotations.GetValue(RoundingAnnotations.Scale, ref scales);
        annotations.GetValue(RoundingAnnotations.ZeroPoint, ref zeros);
        annotations.GetValue(RoundingAnnotations.Bits, ref bits);
        annotations.GetValue(RoundingAnnotations.QuantizationMin, ref min);
        annotations.GetValue(RoundingAnnotations.QuantizationMax, ref max);
        var grid = new AffineGrid(bits, new QuantizationRange(min, max), scales.DenseValues().ToArray(), zeros.DenseValues().ToArray());
        return new InputGrid(grid, grid.SlotCount == 0 ? (float)grid.Scales[0] : 1f / (max - min));
    }

    /// <summary>
    /// A grid per feature, fitted as <c>Quantize</c> fits one per slot: unsigned codes over [min(lo, 0), max(hi, 0)] of the
    /// feature's values (so 0 stays exact), and the step 1 / (2^bits - 1): the first layer sees each feature normalized to
    /// [-1, 1] on a grid of 2^bits codes, whatever its scale, so no normalizer is needed before the trainer.
    /// </summary>
    public static InputGrid Fit(int bits, ReadOnlySpan<float> lows, ReadOnlySpan<float> highs)
    {
        var scales = new double[lows.Length];
        var zeros = new long[lows.Length];
        for (int k = 0; k < lows.Length; k++)
        {
            AffineGrid one = AffineGrid.FromRange(bits, lows[k], highs[k]);
            scales[k] = one.Scales[0];
            zeros[k] = one.ZeroPoints[0];
        }

        var range = QuantizationRange.FromBits(bits, signed: false);
        return new InputGrid(new AffineGrid(bits, range, scales, zeros), 1f / (range.Max - range.Min));
    }

    /// <summary>The grid of the features at <paramref name="columns"/> (a single-scale grid stays as it is).</summary>
    public InputGrid Columns(IReadOnlyList<int> columns) => Grid.SlotCount == 0
        ? this
        : this with { Grid = new AffineGrid(Grid.Bits, Grid.Range, columns.Select(k => Grid.Scales[k]).ToArray(), columns.Select(k => Grid.ZeroPoints[k]).ToArray()) };

    /// <summary>The smallest and largest finite value of each feature of <paramref name="rows"/> (0 where a feature has none).</summary>
    public static (float[] Lows, float[] Highs) Ranges(ReadOnlySpan<float> rows, int featureCount)
    {
        var lows = Enumerable.Repeat(float.PositiveInfinity, featureCount).ToArray();
        var highs = Enumerable.Repeat(float.NegativeInfinity, featureCount).ToArray();
        Extend(rows, lows, highs);
        return Finish(lows, highs);
    }

    /// <summary>Widens running per-feature ranges by some rows.</summary>
    public static void Extend(ReadOnlySpan<float> rows, float[] lows, float[] highs)
    {
        int n = lows.Length;
        for (int i = 0; i < rows.Length; i++)
        {
            int k = i % n;
            lows[k] = Math.Min(lows[k], rows[i]);
            highs[k] = Math.Max(highs[k], rows[i]);
        }
    }

    /// <summary>Widens each feature's range to its channel's (the features of a channel are <paramref name="plane"/> consecutive values).</summary>
    public static void PerChannel(float[] lows, float[] highs, int plane)
    {
        for (int first = 0; first < lows.Length; first += plane)
        {
            float low = System.Numerics.Tensors.TensorPrimitives.Min(lows.AsSpan(first, plane)), high = System.Numerics.Tensors.TensorPrimitives.Max(highs.AsSpan(first, plane));
            lows.AsSpan(first, plane).Fill(low);
            highs.AsSpan(first, plane).Fill(high);
        }
    }

    /// <summary>Running ranges with no value become [0, 0].</summary>
    public static (float[] Lows, float[] Highs) Finish(float[] lows, float[] highs)
    {
        for (int k = 0; k < lows.Length; k++)
        {
            if (!float.IsFinite(lows[k]) || !float.IsFinite(highs[k]))
            {
                (lows[k], highs[k]) = (0, 0);
            }
        }

        return (lows, highs);
    }

    /// <summary>Replaces every feature of <paramref name="rows"/> by what the first layer of the deployed model sees: (q - z) · step.</summary>
    public void Apply(Span<float> rows, int featureCount)
    {
        IReadOnlyList<long> zeros = Grid.ZeroPoints;
        var codes = new float[featureCount];
        for (int r = 0; r + featureCount <= rows.Length; r += featureCount)
        {
            Span<float> row = rows.Slice(r, featureCount);
            Grid.Codes(row, codes);
            for (int k = 0; k < featureCount; k++)
            {
                row[k] = (codes[k] - zeros[zeros.Count == 1 ? 0 : k]) * Step;
            }
        }
    }
}
