using Microsoft.ML;
using Microsoft.ML.Data;


namespace MlRounding;

/// <summary>One output column of a row-to-row mapping, bound to an input schema.</summary>
/// <param name="Name">Output column name.</param>
/// <param name="Type">Output column type.</param>
/// <param name="Annotations">Output column annotations.</param>
/// <param name="SourceIndex">Index of the input column it is computed from.</param>
/// <param name="MakeGetter">Creates the value getter (a <c>ValueGetter&lt;T&gt;</c>) for a row of the input schema.</param>
internal sealed record BoundColumn(string Name, DataViewType Type, DataViewSchema.Annotations Annotations, int SourceIndex, Func<DataViewRow, Delegate> MakeGetter);

/// <summary>What a transformer tells the bridge: how to bind to a schema and how to save itself.</summary>
internal interface IColumnMapping
{
    /// <summary>Gets the component's name, for ML.NET's host.</summary>
    string Name { get; }

    /// <summary>Gets the component kind written into model files.</summary>
    string PayloadTag { get; }

    /// <summary>Validates the input schema and describes the output columns.</summary>
    IReadOnlyList<BoundColumn> Bind(DataViewSchema inputSchema);

    /// <summary>The component's versioned payload.</summary>
    byte[] SavePayload();
}
