using Microsoft.ML.Data;

namespace MlRounding.Bridge;

/// <summary>
/// Bridge: what the ONNX export reads from fitted ML.NET transformers that ML.NET keeps internal (their column lists).
/// </summary>
internal static class TransformerInternals
{
    /// <summary>The output and input column names of a fitted normalizer, in the order of <c>GetNormalizerModelParameters</c> (ML.NET keeps them internal).</summary>
    /// <param name="normalizer">The normalizer.</param>
    /// <returns>One pair per column.</returns>
    public static IReadOnlyList<(string Output, string Input)> NormalizerColumns(Microsoft.ML.Transforms.NormalizingTransformer normalizer) =>
        (normalizer ?? throw new ArgumentNullException(nameof(normalizer))).Columns.Select(c => (c.Name, c.InputColumnName)).ToList();

    /// <summary>The output column and its input columns of each concatenation of a fitted <c>Concatenate</c> (ML.NET keeps them internal).</summary>
    /// <param name="concatenation">The transformer.</param>
    /// <returns>One entry per output column.</returns>
    public static IReadOnlyList<(string Output, string[] Inputs)> ConcatenatedColumns(ColumnConcatenatingTransformer concatenation) =>
        (concatenation ?? throw new ArgumentNullException(nameof(concatenation))).Columns.Select(c => (c.outputColumnName, c.inputColumnNames)).ToList();
}
