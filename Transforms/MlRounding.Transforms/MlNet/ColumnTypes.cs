using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding;

/// <summary>Input-type checks with ML.NET's standard schema-error wording.</summary>
internal static class ColumnTypes
{
    public const string Expected = "vector or scalar of Single or Double";

    public static bool IsFloating(DataViewType type) => type == NumberDataViewType.Single || type == NumberDataViewType.Double;

    public static DataViewType ItemType(DataViewType type) => type is VectorDataViewType v ? v.ItemType : type;

    public static ArgumentOutOfRangeException Missing(string parameter, string column) =>
        new(parameter, $"Could not find input column '{column}'");

    public static ArgumentOutOfRangeException Mismatch(string parameter, string column, string expected, string? actual) =>
        new(parameter, $"Schema mismatch for input column '{column}': expected {expected}, got {actual}");

    /// <summary>Finds <paramref name="name"/> and checks it is Single or Double, scalar or vector (of the given size when > 0).</summary>
    public static DataViewSchema.Column Find(DataViewSchema schema, string name, int slots, string parameter = "inputSchema")
    {
        DataViewSchema.Column column = schema.GetColumnOrNull(name) ?? throw Missing(parameter, name);
        DataViewType type = column.Type;
        if (!IsFloating(ItemType(type)))
        {
            throw Mismatch(parameter, name, Expected, type.ToString());
        }

        if (slots > 0 && (type is not VectorDataViewType vector || vector.Size != slots))
        {
            throw Mismatch(parameter, name, $"known-size vector of {ItemType(type)} with {slots} slots (the size it was fitted on)", type.ToString());
        }

        return column;
    }

    /// <summary>The same checks on a <see cref="SchemaShape"/>.</summary>
    public static SchemaShape.Column Find(SchemaShape shape, string name, bool needKnownSize, string parameter = "inputSchema")
    {
        SchemaShape.Column column = shape.LastOrDefault(c => c.Name == name);
        if (column.Name != name)
        {
            throw Missing(parameter, name);
        }

        if (!IsFloating(column.ItemType) || column.Kind == SchemaShape.Column.VectorKind.VariableVector && needKnownSize)
        {
            string actual = column.Kind == SchemaShape.Column.VectorKind.Scalar ? $"{column.ItemType}" : $"{column.Kind} of {column.ItemType}";
            throw Mismatch(parameter, name, needKnownSize ? "known-size vector of Single or Double" : Expected, actual);
        }

        return column;
    }
}
