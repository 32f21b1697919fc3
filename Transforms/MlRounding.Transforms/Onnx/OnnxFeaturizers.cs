using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Onnx;
using static MlRounding.Onnx.OnnxGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace MlRounding.Onnx;

/// <summary>A column of the exported graph: its tensor ([N, Width]), slot count and element type.</summary>
internal readonly record struct OnnxColumn(string Tensor, int Width, DataType Type);

/// <summary>
/// ML.NET's featurizing steps as ONNX nodes, each with ML.NET's semantics: keys are 1-based with 0 for a value the
/// mapping does not know, a key-to-vector indicator is all zeros for key 0 (so an unseen category encodes as none of the
/// known ones), missing-value replacement replaces NaN only.
/// </summary>
internal static class OnnxFeaturizers
{
    /// <summary>The item type of a column type (the type itself for a scalar).</summary>
    public static DataViewType Item(DataViewType type) => type is VectorDataViewType vector ? vector.ItemType : type;

    /// <summary>The values per row of a column type (0 for a vector of unknown size).</summary>
    public static int ValueCount(DataViewType type) => type is VectorDataViewType vector ? vector.Size : 1;

    /// <summary>A graph input for an input column: Single becomes float32, text becomes string ([N] + the vector size).</summary>
    public static OnnxColumn GraphInput(OnnxGraph g, DataViewSchema inputSchema, string name)
    {
        var column = inputSchema.GetColumnOrNull(name) ?? throw new NotSupportedException($"Column '{name}' is neither an input column nor produced by an exported step.");
        DataViewType item = Item(column.Type);
        int width = column.Type switch
        {
            VectorDataViewType { Size: > 0 } v => v.Size,
            VectorDataViewType => 0,
            _ => 1,
        };
        DataType type = item == NumberDataViewType.Single ? DataType.Float : item is TextDataViewType ? DataType.String : DataType.Undefined;
        if (width == 0 || type == DataType.Undefined)
        {
            throw new NotSupportedException($"Input column '{name}' is {column.Type}; ONNX export takes scalars and known-size vectors of Single or text.");
        }

        g.Input(name, type, width);
        return new OnnxColumn(name, width, type);
    }

    /// <summary>Checks that <paramref name="column"/> holds float32 values (the input of rounding, normalizers, the network).</summary>
    public static OnnxColumn Floats(OnnxColumn column, string name) => column.Type == DataType.Float
        ? column
        : throw new NotSupportedException($"Column '{name}' holds {column.Type} values where ONNX export needs Single; convert it first (e.g. OneHotEncoding for text, ConvertType to Single).");

    /// <summary>Concatenates float columns along the slots.</summary>
    public static OnnxColumn Concatenate(OnnxGraph g, OnnxColumn[] parts) =>
        new(parts.Length == 1 ? parts[0].Tensor : g.Node("Concat", parts.Select(p => p.Tensor).ToArray(), Int("axis", 1)), parts.Sum(p => p.Width), DataType.Float);

    /// <summary>ML.NET's value-to-key mapping: a value's 1-based position among the key values, 0 for any other value (ai.onnx.ml LabelEncoder).</summary>
    public static OnnxColumn ValueToKey(OnnxGraph g, OnnxColumn x, DataViewSchema.Column keyColumn, string input)
    {
        if (keyColumn.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues) is null)
        {
            throw new NotSupportedException($"The key mapping of column '{input}' has no key values; ONNX export needs them.");
        }

        if (KeyValueList(keyColumn, "keys") is not { } list || list.Type != x.Type)
        {
            throw new NotSupportedException($"The key mapping of column '{input}' ({x.Type} values) cannot be exported to ONNX by MlRounding; it maps text and Single columns.");
        }

        var (keys, _, count) = list;
        if (count == 0)
        {
            throw new NotSupportedException($"The key mapping of column '{input}' knows no values; there is nothing to export.");
        }

        g.RequireMlOpset(2);
        string key = g.MlNode("LabelEncoder", new[] { x.Tensor }, keys, Ints("values_int64s", Enumerable.Range(1, count).Select(i => (long)i).ToArray()), Int("default_int64", 0));
        return new OnnxColumn(key, x.Width, DataType.Int64);
    }

    /// <summary>The number of keys of a key column (or of the items of a vector of keys).</summary>
    public static int KeyCount(DataViewSchema.Column column) => Item(column.Type) is KeyDataViewType { Count: > 0 and <= int.MaxValue } key
        ? (int)key.Count
        : throw new NotSupportedException($"Column '{column.Name}' is {column.Type}; key-to-vector export needs a key column of known count.");

    /// <summary>
    /// ML.NET's key-to-vector indicator: key k (1..K) sets slot k-1, key 0 sets none; for a vector of C keys the
    /// indicators are concatenated ([N, C·K]) or, as a bag, summed ([N, K]).
    /// </summary>
    public static OnnxColumn KeyToVector(OnnxGraph g, OnnxColumn keys, int keyCount, bool bag)
    {
        string column = g.Node("Unsqueeze", new[] { keys.Tensor, g.Int64s("axes", new long[] { 2 }, 1) });
        string range = g.Int64s("keys", Enumerable.Range(1, keyCount).Select(i => (long)i).ToArray(), keyCount);
        string indicators = g.Node("Cast", new[] { g.Node("Equal", new[] { column, range }) }, Int("to", (long)DataType.Float)); // [N, C, K]
        if (bag || keys.Width == 1)
        {
            return new OnnxColumn(g.Node("ReduceSum", new[] { indicators, g.Int64s("axes", new long[] { 1 }, 1) }, Int("keepdims", 0)), keyCount, DataType.Float);
        }

        int width = keys.Width * keyCount;
        return new OnnxColumn(g.Node("Reshape", new[] { indicators, g.Int64s("shape", new long[] { 0, width }, 2) }), width, DataType.Float);
    }

    /// <summary>NaN replaced by the slot's value; every other value (infinities included) kept.</summary>
    public static OnnxColumn ReplaceMissing(OnnxGraph g, OnnxColumn x, float[] values)
    {
        string replacement = g.Floats("replacement", values, x.Width);
        return x with { Tensor = g.Node("Where", new[] { g.Node("IsNaN", new[] { x.Tensor }), replacement, x.Tensor }) };
    }

    /// <summary>
    /// <see cref="MissingValueImputingTransformer"/>'s imputation: each NaN becomes its slot's intercept plus the row's
    /// centered values (0 where NaN or infinite) times the slot's weights (one MatMul over a [width, width] matrix whose
    /// column j holds slot j's weights, zero for a slot without a regression); present values pass unchanged. Without
    /// any regression, every slot takes its intercept (its training mean): <see cref="ReplaceMissing"/>.
    /// </summary>
    public static OnnxColumn Impute(OnnxGraph g, OnnxColumn x, ImputationModel model)
    {
        if (model.RegressedSlots.Length == 0)
        {
            return ReplaceMissing(g, x, model.Intercepts);
        }

        int p = model.SlotCount;
        var columns = new float[p * p]; // [k, j]: the weight of predictor k in slot j's regression
        for (int r = 0; r < model.RegressedSlots.Length; r++)
        {
            for (int k = 0; k < p; k++)
            {
                columns[(k * p) + model.RegressedSlots[r]] = model.Weights[(r * p) + k];
            }
        }

        string nan = g.Node("IsNaN", new[] { x.Tensor });
        string unknown = g.Node("Or", new[] { nan, g.Node("IsInf", new[] { x.Tensor }) });
        string centered = g.Node("Where", new[] { unknown, g.Scalar("zero", 0f), g.Node("Sub", new[] { x.Tensor, g.Floats("means", model.Means, p) }) });
        string imputed = g.Node("Add", new[] { g.Node("MatMul", new[] { centered, g.Floats("weights", columns, p, p) }), g.Floats("intercepts", model.Intercepts, p) });
        return x with { Tensor = g.Node("Where", new[] { nan, imputed, x.Tensor }) };
    }

    /// <summary>A conversion to Single: booleans become 0 and 1, keys and integers their value.</summary>
    public static OnnxColumn ToFloat(OnnxGraph g, OnnxColumn x, string input) => x.Type switch
    {
        DataType.Float => x,
        DataType.Bool or DataType.Int64 => x with { Tensor = g.Node("Cast", new[] { x.Tensor }, Int("to", (long)DataType.Float)), Type = DataType.Float },
        _ => throw new NotSupportedException($"The conversion of column '{input}' ({x.Type} values) to Single cannot be exported to ONNX by MlRounding."),
    };

    /// <summary>
    /// The key values of <paramref name="column"/> (text or Single) as an ai.onnx.ml LabelEncoder attribute named
    /// <paramref name="prefix"/>_strings or <paramref name="prefix"/>_floats, with their element type and count; null when
    /// the column has no key values or they are of another type.
    /// </summary>
    private static (AttributeProto Attribute, DataType Type, int Count)? KeyValueList(DataViewSchema.Column column, string prefix)
    {
        DataViewType? type = column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues)?.Type;
        if (type is not null && Item(type) is TextDataViewType)
        {
            VBuffer<ReadOnlyMemory<char>> texts = default;
            column.Annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref texts);
            var attribute = new AttributeProto { Name = prefix + "_strings", Type = AttributeProto.Types.AttributeType.Strings };
            attribute.Strings.AddRange(texts.DenseValues().Select(t => Google.Protobuf.ByteString.CopyFromUtf8(t.ToString())));
            return (attribute, DataType.String, attribute.Strings.Count);
        }

        if (type is not null && Item(type) == NumberDataViewType.Single)
        {
            VBuffer<float> numbers = default;
            column.Annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref numbers);
            var attribute = new AttributeProto { Name = prefix + "_floats", Type = AttributeProto.Types.AttributeType.Floats };
            attribute.Floats.AddRange(numbers.DenseValues());
            return (attribute, DataType.Float, attribute.Floats.Count);
        }

        return null;
    }

    /// <summary>
    /// For a multiclass network whose label was mapped from values (text or numbers), the predicted class's original
    /// value as the output PredictedLabelValue (an ai.onnx.ml LabelEncoder from the class index).
    /// </summary>
    public static void LabelValues(OnnxGraph g, DataViewSchema outputSchema)
    {
        if (outputSchema.GetColumnOrNull("PredictedLabel") is not { } predicted)
        {
            return;
        }

        if (KeyValueList(predicted, "values") is not var (values, type, count))
        {
            return; // other key value types: the class index alone
        }

        g.RequireMlOpset(2);
        string value = g.MlNode("LabelEncoder", new[] { g.Graph.Output.First(o => o.Name == "PredictedLabel").Name }, Ints("keys_int64s", Enumerable.Range(0, count).Select(i => (long)i).ToArray()), values,
            type == DataType.String ? new AttributeProto { Name = "default_string", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8("") } : new AttributeProto { Name = "default_float", Type = AttributeProto.Types.AttributeType.Float, F = float.NaN });
        g.Output("PredictedLabelValue", value, type);
    }

    /// <summary>
    /// ML.NET's binning normalizer per slot: the bin index (how many of the slot's upper bounds, its last one excluded,
    /// lie below x) divided by the slot's density, minus its offset, in float32 as ML.NET computes it; NaN stays NaN.
    /// </summary>
    public static string Bins(OnnxGraph g, string x, float[][] upperBounds, float[] density, float[]? offset)
    {
        int width = upperBounds.Length;
        int most = Math.Max(1, upperBounds.Max(b => b.Length - 1));
        var padded = new float[width * most];
        Array.Fill(padded, float.PositiveInfinity); // never below x: pads slots with fewer bounds
        for (int j = 0; j < width; j++)
        {
            upperBounds[j].AsSpan(0, Math.Max(0, upperBounds[j].Length - 1)).CopyTo(padded.AsSpan(j * most));
        }

        string column = g.Node("Unsqueeze", new[] { x, g.Int64s("axes", new long[] { 2 }, 1) }); // [N, W, 1]
        string below = g.Node("Cast", new[] { g.Node("Less", new[] { g.Floats("bin_bounds", padded, width, most), column }) }, Int("to", (long)DataType.Float));
        string index = g.Node("ReduceSum", new[] { below, g.Int64s("axes", new long[] { 2 }, 1) }, Int("keepdims", 0)); // [N, W]
        string value = g.Node("Div", new[] { index, g.Floats("bin_density", density, width) });
        if (offset is not null)
        {
            value = g.Node("Sub", new[] { value, g.Floats("bin_offset", offset, width) });
        }

        return g.Node("Where", new[] { g.Node("IsNaN", new[] { x }), x, value });
    }

    /// <summary>
    /// ML.NET's affine normalizer, (x - offset) * scale per slot (offset may be absent), or its binning normalizer,
    /// (the number of the slot's bin upper bounds below x) / density - offset, NaN kept.
    /// </summary>
    public static string Normalize(OnnxGraph g, string x, object parameters, string column, int width)
    {
        switch (parameters)
        {
            case NormalizingTransformer.AffineNormalizerModelParameters<System.Collections.Immutable.ImmutableArray<float>> affine:
            {
                long[] dims = affine.Scale.Length == 1 ? Array.Empty<long>() : new long[] { width };
                string centred = affine.Offset.IsDefaultOrEmpty ? x : g.Node("Sub", new[] { x, g.Floats("offset", affine.Offset.ToArray(), affine.Offset.Length == 1 ? Array.Empty<long>() : new long[] { width }) });
                return g.Node("Mul", new[] { centred, g.Floats("scale", affine.Scale.ToArray(), dims) });
            }

            case NormalizingTransformer.BinNormalizerModelParameters<System.Collections.Immutable.ImmutableArray<float>> bins when bins.UpperBounds.Length == width:
                return OnnxFeaturizers.Bins(g, x, bins.UpperBounds.Select(b => b.ToArray()).ToArray(), bins.Density.ToArray(), bins.Offset.IsDefaultOrEmpty ? null : bins.Offset.ToArray());

            default:
                throw new NotSupportedException($"The normalizer of column '{column}' ({parameters.GetType().Name}) cannot be exported to ONNX by MlRounding; it exports affine normalizers (min-max, mean-variance, ...) and binning of vector columns.");
        }
    }
}
