using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Bridge;

/// <summary>Bridge: builds <see cref="SchemaShape.Column"/> values, whose constructor is internal in ML.NET.</summary>
internal static class SchemaShapeFactory
{
    public static SchemaShape.Column Column(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, SchemaShape? annotations = null) =>
        new(name, kind, itemType, false, annotations);

    public static SchemaShape Shape(IEnumerable<SchemaShape.Column> columns) => new(columns);
}
