using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlRounding.Bridge;

namespace MlRounding;

/// <summary>
/// Rounds or quantizes numeric columns: each <see cref="RoundingColumn"/> reads a Single or Double column (scalar,
/// known-size or variable-size vector) and writes a column of the same type and shape, rounded to its
/// <see cref="RoundingGrid"/>. Produced by <see cref="RoundingCatalog.Round(TransformsCatalog, string, string?, int, MidpointRounding)"/>,
/// <see cref="RoundingCatalog.RoundToStep(TransformsCatalog, string, string?, double, double, MidpointRounding)"/> and
/// <see cref="RoundingCatalog.Quantize(TransformsCatalog, string, string?, int, bool, bool, QuantizeCalibration)"/>.
/// </summary>
/// <remarks>
/// <para>Lazy and streaming like ML.NET's own transforms (it runs on ML.NET's row-mapping plumbing): nothing is
/// materialised, <c>PredictionEngine</c> works, and parallel cursors give the same values as a single cursor.</para>
/// <para>Saves and loads with <c>mlContext.Model.Save</c>/<c>Load</c>, in a fresh process too, with no registration.</para>
/// <para>Each output column carries <see cref="RoundingAnnotations"/> describing its grid, and
/// <c>CreateModule</c> (package MlRounding.Trainers) returns the same rounding as a TorchSharp module.</para>
/// </remarks>
public sealed class RoundingTransformer : ITransformer, IColumnMapping
{
    private readonly IHostEnvironment _env;
    private readonly RoundingColumn[] _columns;
    private readonly BridgedTransformer _bridge;

    internal RoundingTransformer(IHostEnvironment env, IEnumerable<RoundingColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(columns);
        _env = env;
        _columns = columns.ToArray();
        if (_columns.Length == 0)
        {
            throw new ArgumentException("At least one column is required.", nameof(columns));
        }

        foreach (var c in _columns)
        {
            if (string.IsNullOrEmpty(c.OutputColumnName))
            {
                throw new ArgumentException("Output column names must not be empty.", nameof(columns));
            }

            if (string.IsNullOrEmpty(c.InputColumnName))
            {
                throw new ArgumentException($"The input column name of '{c.OutputColumnName}' must not be empty.", nameof(columns));
            }

            ArgumentNullException.ThrowIfNull(c.Grid, nameof(c.Grid));
        }

        _bridge = new BridgedTransformer(env, this);
    }

    /// <summary>Gets the columns: input, output, grid and optional codes column.</summary>
    public IReadOnlyList<RoundingColumn> Columns => _columns;

    /// <summary>Gets a value indicating that this transformer maps rows one to one (always true).</summary>
    public bool IsRowToRowMapper => true;

    string IColumnMapping.Name => nameof(RoundingTransformer);

    string IColumnMapping.PayloadTag => ModelPayload.RoundingTransformerTag;

    /// <summary>The grid of output column <paramref name="outputColumnName"/>.</summary>
    /// <param name="outputColumnName">One of the transformer's output columns.</param>
    /// <returns>The grid.</returns>
    /// <exception cref="ArgumentException">No output column has that name.</exception>
    public RoundingGrid GridOf(string outputColumnName) =>
        _columns.FirstOrDefault(c => c.OutputColumnName == outputColumnName)?.Grid
        ?? throw new ArgumentException($"No output column named '{outputColumnName}'; the columns are: {string.Join(", ", _columns.Select(c => c.OutputColumnName))}.", nameof(outputColumnName));

    /// <summary>The schema of the transformed data: the input columns, then the output (and codes) columns.</summary>
    /// <param name="inputSchema">Schema of the data to transform.</param>
    /// <returns>The output schema.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type (ML.NET's standard wording).</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _bridge.GetOutputSchema(inputSchema);

    /// <summary>Transforms <paramref name="input"/> lazily.</summary>
    /// <param name="input">The data.</param>
    /// <returns>A view with the rounded columns added.</returns>
    public IDataView Transform(IDataView input) => _bridge.Transform(input);

    /// <summary>A row-to-row mapper for <paramref name="inputSchema"/>, as used by <c>PredictionEngine</c>.</summary>
    /// <param name="inputSchema">Schema of the rows to map.</param>
    /// <returns>The mapper.</returns>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)_bridge).GetRowToRowMapper(inputSchema);

    /// <summary>Saves the transformer into an ML.NET model (called by <c>mlContext.Model.Save</c>).</summary>
    /// <param name="ctx">ML.NET's save context.</param>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelPersistence.Save(ctx, this);

    byte[] IColumnMapping.SavePayload() => ModelPayload.Write(_columns);

    IReadOnlyList<BoundColumn> IColumnMapping.Bind(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var bound = new List<BoundColumn>();
        foreach (var column in _columns)
        {
            DataViewSchema.Column source = ColumnTypes.Find(inputSchema, column.InputColumnName, column.Grid.SlotCount);
            bound.Add(Bind(column, source, column.OutputColumnName, codes: false));
            if (column.CodesColumnName is { } codes)
            {
                bound.Add(Bind(column, source, codes, codes: true));
            }
        }

        return bound;
    }

    private static BoundColumn Bind(RoundingColumn column, DataViewSchema.Column source, string name, bool codes)
    {
        var annotations = new DataViewSchema.Annotations.Builder();
        annotations.Add(source.Annotations, kind => kind == AnnotationUtils.Kinds.SlotNames);
        column.Grid.Annotate(annotations);
        bool isDouble = ColumnTypes.ItemType(source.Type) == NumberDataViewType.Double;
        bool isVector = source.Type is VectorDataViewType;
        Func<DataViewRow, Delegate> getter = (isDouble, isVector) switch
        {
            (false, false) => row => ScalarGetter<float>(row, source, column.Grid.CreateRounder<float>(codes)),
            (true, false) => row => ScalarGetter<double>(row, source, column.Grid.CreateRounder<double>(codes)),
            (false, true) => row => VectorGetter<float>(row, source, column.Grid, column.Grid.CreateRounder<float>(codes)),
            (true, true) => row => VectorGetter<double>(row, source, column.Grid, column.Grid.CreateRounder<double>(codes)),
        };
        return new BoundColumn(name, source.Type, annotations.ToAnnotations(), source.Index, getter);
    }

    private static Delegate ScalarGetter<T>(DataViewRow row, DataViewSchema.Column source, SpanRounder<T> rounder)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValueGetter<T> get = row.GetGetter<T>(source);
        T value = default;
        return (ValueGetter<T>)((ref T dst) =>
        {
            get(ref value);
            dst = rounder.One(value, 0);
        });
    }

    private static Delegate VectorGetter<T>(DataViewRow row, DataViewSchema.Column source, RoundingGrid grid, SpanRounder<T> rounder)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ValueGetter<VBuffer<T>> get = row.GetGetter<VBuffer<T>>(source);
        VBuffer<T> buffer = default;
        int slots = grid.SlotCount;
        bool sparseOk = grid.PreservesZero;
        string name = source.Name;
        return (ValueGetter<VBuffer<T>>)((ref VBuffer<T> dst) =>
        {
            get(ref buffer);
            int length = buffer.Length;
            if (slots > 0 && length != slots)
            {
                throw new InvalidOperationException($"Column '{name}': a vector of {length} values reached a quantizer fitted on {slots} slots.");
            }

            ReadOnlySpan<T> values = buffer.GetValues();
            if (buffer.IsDense)
            {
                var editor = VBufferEditor.Create(ref dst, length);
                rounder.Dense(values, editor.Values);
                dst = editor.Commit();
            }
            else if (sparseOk)
            {
                var editor = VBufferEditor.Create(ref dst, length, values.Length);
                buffer.GetIndices().CopyTo(editor.Indices);
                rounder.Sparse(values, buffer.GetIndices(), editor.Values);
                dst = editor.Commit();
            }
            else
            {
                var editor = VBufferEditor.Create(ref dst, length);
                Span<T> dense = editor.Values;
                dense.Clear();
                ReadOnlySpan<int> indices = buffer.GetIndices();
                for (int k = 0; k < values.Length; k++)
                {
                    dense[indices[k]] = values[k];
                }

                rounder.Dense(dense, dense);
                dst = editor.Commit();
            }
        });
    }
}
