using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers;

/// <summary>Recognises a features column produced by MlRounding's <c>Quantize</c> transform, from its annotations.</summary>
internal static class InputGrid
{
    /// <summary>
    /// The step of the column's affine grid when it has a single scale (per-column quantization), else 0. Per-slot grids
    /// keep a float input path: their steps differ by slot, so the first dot product cannot be one integer sum.
    /// </summary>
    public static float SingleStep(DataViewSchema.Column features)
    {
        var schema = features.Annotations.Schema;
        if (schema.GetColumnOrNull(RoundingAnnotations.Grid) is null || schema.GetColumnOrNull(RoundingAnnotations.Scale) is null)
        {
            return 0;
        }

        ReadOnlyMemory<char> kind = default;
        features.Annotations.GetValue(RoundingAnnotations.Grid, ref kind);
        if (!kind.Span.SequenceEqual("affine"))
        {
            return 0;
        }

        VBuffer<double> scales = default;
        features.Annotations.GetValue(RoundingAnnotations.Scale, ref scales);
        return scales.Length == 1 && scales.GetValues()[0] is double s && s > 0 && double.IsFinite(s) ? (float)s : 0;
    }
}
