using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlRounding.Bridge;

namespace MlRounding;

/// <summary>
/// Imputes the missing values (NaN) of a known-size vector column of Single from the row's other slots: each slot that
/// had gaps in training gets a ridge regression on the other slots, so a missing cell takes the value its row suggests
/// rather than the mean of every row (ML.NET's <c>ReplaceMissingValues</c>). Produced by <c>ImputeMissingValues</c>
/// (package MlRounding.Trainers, which fits it).
/// </summary>
/// <remarks>
/// <para>A missing cell becomes its slot's intercept plus a weighted sum of the row's other slots, each centered at its
/// training mean; a predictor that is itself missing or infinite counts as its mean. A slot without a regression (no gap in
/// training, or a column too wide for one) takes its training mean. Only NaN is missing: ±∞ and every other present value
/// pass unchanged.</para>
/// <para>Lazy and streaming like ML.NET's own transforms; <c>PredictionEngine</c> works; saves and loads with
/// <c>mlContext.Model.Save</c>/<c>Load</c>; exports to ONNX (<c>IsNaN</c>, <c>Where</c>, <c>MatMul</c>).</para>
/// </remarks>
public sealed class MissingValueImputingTransformer : ITransformer, IColumnMapping
{
    private readonly BridgedTransformer _bridge;

    internal MissingValueImputingTransformer(IHostEnvironment env, string outputColumnName, string inputColumnName, ImputationModel model)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        ArgumentException.ThrowIfNullOrEmpty(inputColumnName);
        ArgumentNullException.ThrowIfNull(model);
        (OutputColumnName, InputColumnName, Model) = (outputColumnName, inputColumnName, model);
        _bridge = new BridgedTransformer(env, this);
    }

    /// <summary>Gets the name of the column read: a known-size vector of Single.</summary>
    public string InputColumnName { get; }

    /// <summary>Gets the name of the column written, of the input's type.</summary>
    public string OutputColumnName { get; }

    /// <summary>Gets the slots whose missing values are imputed by regression on the others (the rest take their training mean).</summary>
    public IReadOnlyList<int> RegressedSlots => Model.RegressedSlots;

    /// <summary>Gets a value indicating that this transformer maps rows one to one (always true).</summary>
    public bool IsRowToRowMapper => true;

    string IColumnMapping.Name => nameof(MissingValueImputingTransformer);

    string IColumnMapping.PayloadTag => ImputationPayload.Tag;

    /// <summary>Gets the fitted parameters.</summary>
    internal ImputationModel Model { get; }

    /// <summary>The schema of the transformed data: the input columns, then the output column.</summary>
    /// <param name="inputSchema">Schema of the data to transform.</param>
    /// <returns>The output schema.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or is not a vector of Single of the fitted size.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _bridge.GetOutputSchema(inputSchema);

    /// <summary>Transforms <paramref name="input"/> lazily.</summary>
    /// <param name="input">The data.</param>
    /// <returns>A view with the imputed column added.</returns>
    public IDataView Transform(IDataView input) => _bridge.Transform(input);

    /// <summary>A row-to-row mapper for <paramref name="inputSchema"/>, as used by <c>PredictionEngine</c>.</summary>
    /// <param name="inputSchema">Schema of the rows to map.</param>
    /// <returns>The mapper.</returns>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)_bridge).GetRowToRowMapper(inputSchema);

    /// <summary>Saves the transformer into an ML.NET model (called by <c>mlContext.Model.Save</c>).</summary>
    /// <param name="ctx">ML.NET's save context.</param>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelPersistence.Save(ctx, this);

    byte[] IColumnMapping.SavePayload() => ImputationPayload.Write(OutputColumnName, InputColumnName, Model);

    IReadOnlyList<BoundColumn> IColumnMapping.Bind(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        DataViewSchema.Column source = CheckInput(inputSchema, InputColumnName, Model.SlotCount);
        var annotations = new DataViewSchema.Annotations.Builder();
        annotations.Add(source.Annotations, kind => kind == AnnotationUtils.Kinds.SlotNames);
        return new[] { new BoundColumn(OutputColumnName, source.Type, annotations.ToAnnotations(), source.Index, row => Getter(row, source, Model)) };
    }

    /// <summary>Finds <paramref name="name"/> and checks that it is a known-size vector of Single (of <paramref name="slots"/> slots when positive).</summary>
    internal static DataViewSchema.Column CheckInput(DataViewSchema schema, string name, int slots)
    {
        DataViewSchema.Column column = schema.GetColumnOrNull(name) ?? throw ColumnTypes.Missing("inputSchema", name);
        if (column.Type is not VectorDataViewType { ItemType: var item, Size: var size } || item != NumberDataViewType.Single || size == 0 || (slots > 0 && size != slots))
        {
            string expected = slots > 0 ? $"known-size vector of Single with {slots} slots (the size it was fitted on)" : "known-size vector of Single";
            throw ColumnTypes.Mismatch("inputSchema", name, expected, column.Type.ToString());
        }

        return column;
    }

    private static Delegate Getter(DataViewRow row, DataViewSchema.Column source, ImputationModel model)
    {
        ValueGetter<VBuffer<float>> get = row.GetGetter<VBuffer<float>>(source);
        VBuffer<float> buffer = default;
        float[] dense = new float[model.SlotCount];
        return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
        {
            get(ref buffer);
            var editor = VBufferEditor.Create(ref dst, dense.Length);
            if (buffer.IsDense)
            {
                model.Impute(buffer.GetValues(), editor.Values);
            }
            else
            {
                buffer.CopyTo(dense); // a sparse vector's implicit slots are present zeros
                model.Impute(dense, editor.Values);
            }

            dst = editor.Commit();
        });
    }
}
