using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers;

/// <summary>
/// The grid the network's inputs are quantized to, so that the first layer is an integer dot product too: the grid of
/// a single-scale <c>Quantize</c> transform that produced the features (read from its annotations), or one fitted to
/// the training features' range with <see cref="QatOptions.InputBits"/> bits.
/// </summary>
internal static class InputGrid
{
    /// <summary>
    /// The affine grid of the column when it comes from a per-column <c>Quantize</c> transform, else null. Per-slot grids
    /// keep a float input path: their steps differ by slot, so the first dot product cannot be one integer sum.
    /// </summary>
    public static AffineGrid? Of(DataViewSchema.Column features)
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
        VBuffer<double> scales = default;
        annotations.GetValue(RoundingAnnotations.Scale, ref scales);
        if (!kind.Span.SequenceEqual("affine") || scales.Length != 1)
        {
            return null;
        }

        VBuffer<long> zeros = default;
        annotations.GetValue(RoundingAnnotations.ZeroPoint, ref zeros);
        int bits = 0;
        long min = 0, max = 0;
        annotations.GetValue(RoundingAnnotations.Bits, ref bits);
        annotations.GetValue(RoundingAnnotations.QuantizationMin, ref min);
        annotations.GetValue(RoundingAnnotations.QuantizationMax, ref max);
        return new AffineGrid(bits, new QuantizationRange(min, max), new[] { scales.GetValues()[0] }, new[] { zeros.GetValues()[0] });
    }

    /// <summary>The unsigned grid of <paramref name="bits"/> bits over [min(lo, 0), max(hi, 0)] of the training features (as <c>Quantize</c> fits it).</summary>
    public static AffineGrid Fit(int bits, ReadOnlySpan<float> features)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (float v in features)
        {
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }

        return AffineGrid.FromRange(bits, float.IsFinite(lo) ? lo : 0, float.IsFinite(hi) ? hi : 0);
    }

    /// <summary>Replaces every feature by its value on the grid, (q - z) · s: what the deployed model sees.</summary>
    public static void Apply(AffineGrid grid, Span<float> features)
    {
        for (int i = 0; i < features.Length; i++)
        {
            features[i] = grid.Round(features[i]);
        }
    }
}
