using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlRounding.Bridge;

namespace MlRounding;

/// <summary>
/// Rounds columns to fixed grids (decimal places or steps); nothing is learned, so <see cref="Fit"/> only checks the
/// schema. Create it with <see cref="RoundingCatalog.Round(TransformsCatalog, string, string?, int, MidpointRounding)"/>
/// or <see cref="RoundingCatalog.RoundToStep(TransformsCatalog, string, string?, double, double, MidpointRounding)"/>.
/// </summary>
public sealed class RoundingEstimator : IEstimator<RoundingTransformer>
{
    private readonly RoundingTransformer _transformer;

    internal RoundingEstimator(IHostEnvironment env, IEnumerable<RoundingColumn> columns)
    {
        _transformer = new RoundingTransformer(env, columns);
    }

    /// <summary>Checks the input schema and returns the transformer.</summary>
    /// <param name="input">The data (only its schema is read).</param>
    /// <returns>The transformer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public RoundingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _transformer.GetOutputSchema(input.Schema);
        return _transformer;
    }

    /// <summary>The output schema shape for <paramref name="inputSchema"/>.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    /// <returns>The output schema shape.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => OutputShapes.Of(inputSchema, _transformer.Columns, needKnownSize: _ => false);
}

/// <summary>Output <see cref="SchemaShape"/>s of the rounding estimators.</summary>
internal static class OutputShapes
{
    public static SchemaShape Of(SchemaShape inputSchema, IEnumerable<RoundingColumn> columns, Func<RoundingColumn, bool> needKnownSize)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (var column in columns)
        {
            SchemaShape.Column source = ColumnTypes.Find(inputSchema, column.InputColumnName, needKnownSize(column));
            var annotations = new List<SchemaShape.Column>();
            annotations.AddRange(source.Annotations.Where(a => a.Name == AnnotationUtils.Kinds.SlotNames));

            annotations.AddRange(GridAnnotations(column.Grid));
            var shape = SchemaShapeFactory.Shape(annotations);
            result[column.OutputColumnName] = SchemaShapeFactory.Column(column.OutputColumnName, source.Kind, source.ItemType, shape);
            if (column.CodesColumnName is { } codes)
            {
                result[codes] = SchemaShapeFactory.Column(codes, source.Kind, source.ItemType, shape);
            }
        }

        return SchemaShapeFactory.Shape(result.Values);
    }

    private static IEnumerable<SchemaShape.Column> GridAnnotations(RoundingGrid grid)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        grid.Annotate(builder);
        foreach (var column in builder.ToAnnotations().Schema)
        {
            var kind = column.Type is VectorDataViewType v
                ? (v.IsKnownSize ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.VariableVector)
                : SchemaShape.Column.VectorKind.Scalar;
            yield return SchemaShapeFactory.Column(column.Name, kind, column.Type is VectorDataViewType vt ? vt.ItemType : column.Type);
        }
    }
}
