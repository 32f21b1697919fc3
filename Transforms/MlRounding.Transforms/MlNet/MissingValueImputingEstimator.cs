using Microsoft.ML;
using Microsoft.ML.Runtime;
using MlRounding.Bridge;

namespace MlRounding;

/// <summary>
/// Fits a <see cref="MissingValueImputingTransformer"/>: the training means of a vector column's slots, and for each
/// slot with gaps a ridge regression on the other slots. Create it with
/// <see cref="ImputationCatalog.ImputeMissingValues(TransformsCatalog, string, string?)"/>.
/// </summary>
/// <remarks>
/// Two passes over the column (streaming; memory bounded by the normal equations, at most 2 MB: regression needs
/// regressed slots x (slots + 1)² ≤ 262,144: up to 63 slots that all have gaps, else every slot takes its mean).
/// </remarks>
public sealed class MissingValueImputingEstimator : IEstimator<MissingValueImputingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly MissingValueImputingOptions _options;

    internal MissingValueImputingEstimator(IHostEnvironment env, MissingValueImputingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.OutputColumnName, nameof(options.OutputColumnName));
        if (!(options.Ridge >= 0 && options.Ridge <= 1e6))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Ridge must be in [0, 1e6]; got {options.Ridge}.");
        }

        (_env, _options) = (env, options);
    }

    private string Input => _options.InputColumnName ?? _options.OutputColumnName;

    /// <summary>Fits the means and regressions on <paramref name="input"/>.</summary>
    /// <param name="input">The training data.</param>
    /// <returns>The transformer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or is not a known-size vector of Single.</exception>
    public MissingValueImputingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var column = MissingValueImputingTransformer.CheckInput(input.Schema, Input, 0);
        int slots = ((Microsoft.ML.Data.VectorDataViewType)column.Type).Size;
        return new MissingValueImputingTransformer(_env, _options.OutputColumnName, Input, ImputationFit.Fit(input, column, slots, _options.Ridge));
    }

    /// <summary>The output schema shape for <paramref name="inputSchema"/>: the input column's shape under the output name.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    /// <returns>The output schema shape.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or is not a known-size vector of Single.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShape.Column source = ColumnTypes.Find(inputSchema, Input, needKnownSize: true);
        if (source.ItemType != Microsoft.ML.Data.NumberDataViewType.Single || source.Kind != SchemaShape.Column.VectorKind.Vector)
        {
            throw ColumnTypes.Mismatch("inputSchema", Input, "known-size vector of Single", $"{source.Kind} of {source.ItemType}");
        }

        var result = inputSchema.ToDictionary(c => c.Name);
        result[_options.OutputColumnName] = SchemaShapeFactory.Column(_options.OutputColumnName, source.Kind, source.ItemType, SchemaShapeFactory.Shape(source.Annotations.Where(a => a.Name == Microsoft.ML.Data.AnnotationUtils.Kinds.SlotNames)));
        return SchemaShapeFactory.Shape(result.Values);
    }
}
