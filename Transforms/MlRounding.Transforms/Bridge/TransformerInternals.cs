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

    /// <summary>The output and input column names of a fitted one-to-one transformer (value-to-key, key-to-vector, missing-value replacement and indicators, type conversion).</summary>
    /// <param name="transformer">The transformer.</param>
    /// <returns>One pair per column.</returns>
    public static IReadOnlyList<(string Output, string Input)> ColumnPairs(OneToOneTransformerBase transformer) =>
        (transformer ?? throw new ArgumentNullException(nameof(transformer))).ColumnPairs.Select(c => (c.outputColumnName, c.inputColumnName)).ToList();

    /// <summary>Whether each column of a fitted key-to-vector mapping sums its slots' indicator vectors (a bag) rather than concatenating them.</summary>
    /// <param name="transformer">The transformer.</param>
    /// <returns>One flag per column, in the order of <see cref="ColumnPairs"/>.</returns>
    public static IReadOnlyList<bool> KeyToVectorBags(Microsoft.ML.Transforms.KeyToVectorMappingTransformer transformer) =>
        (transformer ?? throw new ArgumentNullException(nameof(transformer))).Columns.Select(c => c.OutputCountVector).ToList();

    /// <summary>The target kind of each column of a fitted type conversion.</summary>
    /// <param name="transformer">The transformer.</param>
    /// <returns>One kind per column, in the order of <see cref="ColumnPairs"/>.</returns>
    public static IReadOnlyList<DataKind> ConvertedKinds(Microsoft.ML.Transforms.TypeConvertingTransformer transformer) =>
        (transformer ?? throw new ArgumentNullException(nameof(transformer))).Columns.Select(c => c.OutputKind).ToList();

    /// <summary>The fitted steps a one-hot encoding consists of (a value-to-key mapping, then a key-to-vector or key-to-binary mapping).</summary>
    /// <param name="oneHot">The transformer.</param>
    /// <returns>Its steps, first to last.</returns>
    public static IEnumerable<Microsoft.ML.ITransformer> OneHotSteps(Microsoft.ML.Transforms.OneHotEncodingTransformer oneHot) =>
        (oneHot ?? throw new ArgumentNullException(nameof(oneHot)))._transformer;

    /// <summary>
    /// The values a fitted missing-value replacement puts in place of NaN in column <paramref name="index"/> of Single
    /// values, one per slot (ML.NET stores one value for the whole column or one per slot), or null when the column is
    /// not of Single.
    /// </summary>
    /// <param name="replacing">The transformer.</param>
    /// <param name="index">The column, in the order of <see cref="ColumnPairs"/>.</param>
    /// <param name="width">The column's slot count.</param>
    /// <returns>One replacement per slot, or null.</returns>
    public static float[]? ReplacementValues(Microsoft.ML.Transforms.MissingValueReplacingTransformer replacing, int index, int width) =>
        (replacing ?? throw new ArgumentNullException(nameof(replacing)))._repValues[index] switch
        {
            float[] perSlot when perSlot.Length == width => perSlot,
            float one => Enumerable.Repeat(one, width).ToArray(),
            _ => null,
        };
}
