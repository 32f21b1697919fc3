using Google.Protobuf;
using Onnx;

namespace MlRounding.Onnx;

/// <summary>
/// Builds an ONNX graph with OnnxSharp's generated protobuf types: initializers, nodes with unique output names, graph
/// inputs and outputs whose first dimension is the batch ("N").
/// </summary>
internal sealed class OnnxGraph
{
    private int _next;

    public GraphProto Graph { get; } = new() { Name = "mlrounding" };

    /// <summary>ONNX's INT2 (not yet in OnnxSharp's enum).</summary>
    public const TensorProto.Types.DataType Int2 = (TensorProto.Types.DataType)26;

    /// <summary>The lowest opset the graph needs: 13 (per-channel QuantizeLinear/DequantizeLinear), 21 for 16-bit and INT4 codes, 25 for INT2.</summary>
    public int Opset { get; private set; } = 13;

    /// <summary>The IR version that goes with <see cref="Opset"/>: 8 for opset 13, 10 for opset 21 (INT4), 13 for opset 25 (INT2).</summary>
    public int IrVersion => Opset >= 25 ? 13 : Opset >= 21 ? 10 : 8;

    public void RequireOpset(int opset) => Opset = Math.Max(Opset, opset);

    /// <summary>The opset of the ai.onnx.ml domain the graph needs (its LabelEncoder), or 0 when it uses none.</summary>
    public int MlOpset { get; private set; }

    public void RequireMlOpset(int opset) => MlOpset = Math.Max(MlOpset, opset);

    /// <summary>Adds a node of the ai.onnx.ml domain with one output and returns the output's name.</summary>
    public string MlNode(string op, string[] inputs, params AttributeProto[] attributes)
    {
        string output = Node(op, inputs, attributes);
        Graph.Node[^1].Domain = "ai.onnx.ml";
        return output;
    }

    public string Name(string hint) => $"{hint}_{_next++}";

    public string Floats(string hint, float[] values, params long[] dims) => Initializer(hint, TensorProto.Types.DataType.Float, dims, t => t.FloatData.AddRange(values));

    public string Scalar(string hint, float value) => Floats(hint, new[] { value });

    public string Doubles(string hint, double[] values, params long[] dims) => Initializer(hint, TensorProto.Types.DataType.Double, dims, t => t.DoubleData.AddRange(values));

    public string Int64s(string hint, long[] values, params long[] dims) => Initializer(hint, TensorProto.Types.DataType.Int64, dims, t => t.Int64Data.AddRange(values));

    /// <summary>Integer codes stored at 8 or 16 bits (raw little-endian bytes), signed or not.</summary>
    public string Codes(string hint, long[] codes, bool signed, bool sixteen, params long[] dims) =>
        Codes(hint, codes, (signed, sixteen) switch
        {
            (true, false) => TensorProto.Types.DataType.Int8,
            (false, false) => TensorProto.Types.DataType.Uint8,
            (true, true) => TensorProto.Types.DataType.Int16,
            _ => TensorProto.Types.DataType.Uint16,
        }, dims);

    /// <summary>
    /// Integer codes of a 2-, 4-, 8- or 16-bit integer type as raw data. ONNX packs sub-byte types low bits first (the
    /// first element in the lowest bits of the first byte) and stores 16-bit ones little-endian: the bit stream of
    /// <see cref="PackedCodes"/> with each code's two's-complement bits as the unsigned value.
    /// </summary>
    public string Codes(string hint, long[] codes, TensorProto.Types.DataType type, params long[] dims)
    {
        int bits = type switch
        {
            Int2 => 2,
            TensorProto.Types.DataType.Int4 or TensorProto.Types.DataType.Uint4 => 4,
            TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8 => 8,
            TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Uint16 => 16,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an integer code type"),
        };
        long mask = (1L << bits) - 1;
        byte[] raw = PackedCodes.Pack(codes.Select(c => (int)(c & mask)).ToArray(), bits, 0);
        return Initializer(hint, type, dims, t => t.RawData = ByteString.CopyFrom(raw));
    }

    private string Initializer(string hint, TensorProto.Types.DataType type, long[] dims, Action<TensorProto> fill)
    {
        var tensor = new TensorProto { Name = Name(hint), DataType = (int)type };
        tensor.Dims.AddRange(dims);
        fill(tensor);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string op, string[] inputs, params AttributeProto[] attributes) => Node(op, inputs, 1, attributes)[0];

    public string[] Node(string op, string[] inputs, int outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Name(op) };
        node.Input.AddRange(inputs);
        string[] names = Enumerable.Range(0, outputs).Select(_ => Name(op.ToLowerInvariant())).ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return names;
    }

    /// <summary>Renames a node output to a graph-visible name (an Identity node).</summary>
    public void Output(string name, string value, TensorProto.Types.DataType type, params long[] trailingDims)
    {
        var node = new NodeProto { OpType = "Identity", Name = Name("Identity") };
        node.Input.Add(value);
        node.Output.Add(name);
        Graph.Node.Add(node);
        Graph.Output.Add(Value(name, type, trailingDims));
    }

    public void Input(string name, TensorProto.Types.DataType type, params long[] trailingDims) => Graph.Input.Add(Value(name, type, trailingDims));

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, long[] trailingDims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (long d in trailingDims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    public ModelProto Model(string description)
    {
        var model = new ModelProto { IrVersion = IrVersion, ProducerName = "MlRounding", ProducerVersion = typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "", DocString = description, Graph = Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (MlOpset > 0)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "ai.onnx.ml", Version = MlOpset });
        }
        return model;
    }
}
