using Microsoft.ML;

namespace MlRounding.Onnx;

/// <summary>
/// The state of one export: the graph, and each column name bound to how its tensor is made. A step's nodes are emitted
/// only when a later step (or the graph's outputs) asks for one of its columns, so label mappings and unused columns
/// leave no trace and add no graph input. A step binds its inputs when it is reached, so a later step that reuses a
/// name does not change what an earlier one reads.
/// </summary>
internal sealed class OnnxPipeline
{
    private readonly Dictionary<string, Lazy<OnnxColumn>> _bindings = new();
    private readonly List<string> _produced = new();
    private readonly DataViewSchema _inputSchema;

    public OnnxPipeline(DataViewSchema inputSchema, OnnxExportOptions options)
    {
        _inputSchema = inputSchema;
        Options = options;
    }

    /// <summary>Gets the graph being built.</summary>
    public OnnxGraph Graph { get; } = new();

    /// <summary>Gets the export options.</summary>
    public OnnxExportOptions Options { get; }

    /// <summary>How the column <paramref name="name"/> is made now: by an earlier step, or as a graph input.</summary>
    public Lazy<OnnxColumn> Bound(string name) =>
        _bindings.TryGetValue(name, out var bound) ? bound : _bindings[name] = new Lazy<OnnxColumn>(() => OnnxFeaturizers.GraphInput(Graph, _inputSchema, name));

    /// <summary>Binds <paramref name="name"/> to <paramref name="emit"/>; the column becomes a graph output unless a later step replaces it.</summary>
    public void Produce(string name, Func<OnnxColumn> emit)
    {
        _bindings[name] = new Lazy<OnnxColumn>(emit);
        _produced.Remove(name);
        _produced.Add(name);
    }

    /// <summary>
    /// A one-to-one step: for each (output, input) pair in order, binds the input now and lets make(index, output,
    /// input, bound input) check the pair eagerly and return how the output is emitted.
    /// </summary>
    public void ProducePairs(IReadOnlyList<(string Output, string Input)> pairs, Func<int, string, string, Lazy<OnnxColumn>, Func<OnnxColumn>> make)
    {
        for (int i = 0; i < pairs.Count; i++)
        {
            var (output, input) = pairs[i];
            Produce(output, make(i, output, input, Bound(input)));
        }
    }

    /// <summary>The graph with every produced column as an output (a pipeline without a predictor).</summary>
    /// <exception cref="NotSupportedException">No step produced a column.</exception>
    public global::Onnx.ModelProto Outputs(string description)
    {
        if (_produced.Count == 0)
        {
            throw new NotSupportedException("The pipeline produces no column that ONNX export supports.");
        }

        foreach (string name in _produced)
        {
            OnnxColumn c = _bindings[name].Value;
            Graph.Output(name, c.Tensor, c.Type, c.Width);
        }

        return Graph.Model(description);
    }
}
