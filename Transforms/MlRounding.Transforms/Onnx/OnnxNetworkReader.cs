using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace MlRounding.Onnx;

/// <summary>
/// Reads a float ONNX network into a float <see cref="QuantizedMlp"/>: a chain of layers as <c>torch.onnx.export</c>
/// writes a <c>torch.nn.Sequential</c> of them (opset 13 and later) and as MlRounding's own export writes a float
/// network. Layers: <c>Gemm</c> (transA 0, alpha and beta 1), or <c>MatMul</c> then <c>Add</c> of a bias; <c>Relu</c>;
/// <c>Conv</c> (square odd kernel, stride 1, "same" padding, no groups or dilation) with <c>Relu</c> and optionally a
/// 2x2 <c>MaxPool</c> (stride 2) in either order; <c>Flatten</c> (axis 1) or <c>Reshape</c> between them. After the last
/// layer: <c>Softmax</c>, <c>LogSoftmax</c>, <c>ArgMax</c>, <c>Sigmoid</c>, <c>Greater</c>, <c>Reshape</c> to one
/// dimension, and a scalar <c>Mul</c> then <c>Add</c> (an output scale and shift) are read as the network's head;
/// <c>Identity</c> (a renamed value) anywhere.
/// </summary>
internal sealed class OnnxNetworkReader
{
    private static readonly HashSet<string> Heads = new(StringComparer.Ordinal) { "Softmax", "LogSoftmax", "ArgMax", "Sigmoid", "Greater", "Identity" };

    private readonly Dictionary<string, TensorProto> _constants = new(StringComparer.Ordinal);
    private readonly List<QuantizedConvolution> _blocks = new();
    private readonly List<(float[] Weights, float[] Bias, int Inputs, int Outputs)> _dense = new();
    private string _current = "";
    private ImageShape? _image; // the current value's shape when it is an image, else null (a flat row)
    private int _width;         // the current value's width when it is a flat row
    private PendingBlock? _block;
    private bool _pendingRelu;  // the last dense layer is followed by a ReLU
    private (float[] Weights, int Inputs, int Outputs)? _matMul;
    private float _outputScale = 1;
    private float _outputShift;
    private bool _sigmoid;
    private bool _head;

    private sealed class PendingBlock
    {
        public required ImageShape Input { get; init; }
        public required int Kernel { get; init; }
        public required float[] Filters { get; init; }
        public float[] Bias { get; set; } = Array.Empty<float>();
        public int Pool { get; set; } = 1;
        public bool Relu { get; set; }
    }

    /// <summary>Reads a network from ONNX bytes.</summary>
    /// <exception cref="ModelFormatException">The bytes are not a valid ONNX model, or the graph is not a network of these layers.</exception>
    /// <exception cref="NotSupportedException">A node's operation is not one of the supported ones (the node and operation are named).</exception>
    public static QuantizedMlp Read(Stream stream, QatTask? task)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelFormatException($"Not an ONNX model: {e.Message}", e);
        }

        return new OnnxNetworkReader().Build(model, task);
    }

    private QuantizedMlp Build(ModelProto model, QatTask? task)
    {
        GraphProto graph = model.Graph ?? throw new ModelFormatException("The ONNX model has no graph.");
        long opset = model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain)).Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset < 13)
        {
            throw new ModelFormatException($"The ONNX model uses opset {opset}; networks are read from opset 13 on (torch.onnx.export(..., opset_version=13) or later).");
        }

        foreach (TensorProto initializer in graph.Initializer)
        {
            _constants[initializer.Name] = initializer;
        }

        ReadInput(graph);
        foreach (NodeProto node in graph.Node)
        {
            Step(node);
        }

        FinishBlock();
        if (_dense.Count == 0)
        {
            throw new ModelFormatException("The ONNX graph has no Gemm or MatMul layer: a network ends with a dense layer.");
        }

        if (_pendingRelu || _matMul is not null)
        {
            throw new ModelFormatException(_matMul is not null ? "The ONNX graph's last MatMul has no bias Add." : "The ONNX graph ends with a ReLU: the output layer of a network is linear.");
        }

        return Network(task);
    }

    /// <summary>The one graph input that is not an initializer: float, [N, features] or [N, C, H, W].</summary>
    private void ReadInput(GraphProto graph)
    {
        var inputs = graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
        {
            throw new ModelFormatException($"The ONNX graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))}); a network has one.");
        }

        ValueInfoProto input = inputs[0];
        var tensorType = input.Type?.TensorType ?? throw new ModelFormatException($"The ONNX input '{input.Name}' is not a tensor.");
        if (tensorType.ElemType != (int)DataType.Float)
        {
            throw new ModelFormatException($"The ONNX input '{input.Name}' has element type {(DataType)tensorType.ElemType}; networks read float32.");
        }

        var dims = tensorType.Shape?.Dim.Skip(1).Select(d => d.DimValue).ToArray() ?? Array.Empty<long>();
        if (dims.Length == 0 || dims.Any(d => d < 1 || d > QuantizedLayer.MaxUnits))
        {
            throw new ModelFormatException($"The ONNX input '{input.Name}' has shape [{string.Join(", ", tensorType.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue.ToString() : d.DimParam) ?? Array.Empty<string>())}]; expected [N, features] or [N, channels, height, width] with known sizes.");
        }

        _current = input.Name;
        if (dims.Length == 3)
        {
            _image = new ImageShape((int)dims[0], (int)dims[1], (int)dims[2]);
        }
        else if (dims.Length == 1)
        {
            _width = (int)dims[0];
        }
        else
        {
            throw new ModelFormatException($"The ONNX input '{input.Name}' has {dims.Length + 1} dimensions; expected [N, features] or [N, channels, height, width].");
        }
    }

    private void Step(NodeProto node)
    {
        if (node.OpType == "Constant")
        {
            _constants[node.Output.Single()] = Attribute(node, "value")?.T ?? throw Bad(node, "a Constant without a tensor value");
            return;
        }

        if (_head)
        {
            if (!Heads.Contains(node.OpType) && !IsFlatReshape(node))
            {
                throw Unsupported(node, "after the network's output only Softmax, LogSoftmax, ArgMax, Sigmoid, Greater, Reshape and Identity are read");
            }

            _sigmoid |= node.OpType == "Sigmoid";
            return;
        }

        if (node.Input.Count == 0 || node.Input[0] != _current)
        {
            throw Bad(node, $"an input other than the previous layer's output '{_current}': only a chain of layers is read");
        }

        switch (node.OpType)
        {
            case "Gemm": Gemm(node); break;
            case "MatMul": MatMul(node); break;
            case "Add": Add(node); break;
            case "Mul": OutputScale(node); break;
            case "Relu": Relu(node); break;
            case "Conv": Conv(node); break;
            case "MaxPool": MaxPool(node); break;
            case "Flatten": Flatten(node); break;
            case "Reshape": Reshape(node); break;
            case "Identity": break; // a renamed value
            default:
                if (Heads.Contains(node.OpType) && _dense.Count > 0 && !_pendingRelu && _matMul is null)
                {
                    _head = true;
                    _sigmoid |= node.OpType == "Sigmoid";
                    return;
                }

                throw Unsupported(node, "networks are read from Gemm, MatMul, Add, Relu, Conv, MaxPool, Flatten, Reshape and Identity");
        }

        _current = node.Output.Count == 1 ? node.Output[0] : throw Bad(node, $"{node.Output.Count} outputs");
    }

    private void Gemm(NodeProto node)
    {
        BeforeDense(node);
        if (Int(node, "transA", 0) != 0 || Float(node, "alpha", 1) != 1 || Float(node, "beta", 1) != 1)
        {
            throw Bad(node, "transA, alpha or beta other than 0, 1, 1");
        }

        bool transposed = Int(node, "transB", 0) == 1;
        var (values, dims) = Floats(node, 1);
        if (dims.Length != 2)
        {
            throw Bad(node, $"a weight of {dims.Length} dimensions");
        }

        int outputs = (int)(transposed ? dims[0] : dims[1]), inputs = (int)(transposed ? dims[1] : dims[0]);
        float[] weights = transposed ? values : Transpose(values, inputs, outputs);
        float[] bias = node.Input.Count > 2 && node.Input[2].Length > 0 ? Floats(node, 2).Values : new float[outputs];
        AddDense(node, weights, bias, inputs, outputs);
    }

    private void MatMul(NodeProto node)
    {
        BeforeDense(node);
        var (values, dims) = Floats(node, 1);
        if (dims.Length != 2)
        {
            throw Bad(node, $"a weight of {dims.Length} dimensions");
        }

        int inputs = (int)dims[0], outputs = (int)dims[1];
        CheckWidth(node, inputs);
        _matMul = (Transpose(values, inputs, outputs), inputs, outputs);
    }

    /// <summary>The bias of a MatMul or Conv, or (after the output layer) a scalar output shift.</summary>
    private void Add(NodeProto node)
    {
        var (values, _) = Floats(node, 1);
        if (_matMul is { } m)
        {
            if (values.Length != m.Outputs)
            {
                throw Bad(node, $"a bias of {values.Length} values after a MatMul of {m.Outputs} outputs");
            }

            _matMul = null;
            AddDense(node, m.Weights, values, m.Inputs, m.Outputs);
        }
        else if (_block is { Bias.Length: 0, Relu: false, Pool: 1 } block && values.Length == block.Filters.Length / (block.Input.Channels * block.Kernel * block.Kernel))
        {
            block.Bias = values;
        }
        else if (values.Length == 1 && AfterOutputLayer)
        {
            _outputShift = values[0];
        }
        else
        {
            throw Bad(node, "an Add that is neither a layer's bias nor a scalar after the output layer");
        }
    }

    private void OutputScale(NodeProto node)
    {
        var (values, _) = Floats(node, 1);
        if (values.Length != 1 || !AfterOutputLayer || _outputShift != 0 || !(values[0] > 0))
        {
            throw Bad(node, "a Mul that is not a positive scalar right after the output layer");
        }

        _outputScale = values[0];
    }

    private bool AfterOutputLayer => _dense.Count > 0 && !_pendingRelu && _matMul is null && _block is null;

    private void Relu(NodeProto node)
    {
        if (_block is { Relu: false } block)
        {
            block.Relu = true;
        }
        else if (_dense.Count > 0 && !_pendingRelu && _matMul is null && _block is null && _outputScale == 1 && _outputShift == 0)
        {
            _pendingRelu = true;
        }
        else
        {
            throw Bad(node, "a Relu that does not follow a Gemm, MatMul + Add or Conv");
        }
    }

    private void Conv(NodeProto node)
    {
        FinishBlock();
        if (_dense.Count > 0 || _image is null)
        {
            throw Bad(node, "a Conv after a dense layer, or on a flat input (Reshape it to [N, C, H, W] first)");
        }

        var (values, dims) = Floats(node, 1);
        if (dims.Length != 4 || dims[1] != _image.Channels || dims[2] != dims[3] || dims[2] % 2 == 0 || dims[2] > 15)
        {
            throw Bad(node, $"weights of shape [{string.Join(", ", dims)}]: expected [out, {_image.Channels}, k, k] with k odd, 1 to 15");
        }

        int k = (int)dims[2];
        long pad = k / 2;
        var pads = Ints(node, "pads");
        string autoPad = Attribute(node, "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        bool same = autoPad is "SAME_UPPER" or "SAME_LOWER" || (autoPad is "NOTSET" or "" && (pads.Length == 0 ? pad == 0 : pads.All(p => p == pad)));
        if (!same || Ints(node, "strides").Any(s => s != 1) || Ints(node, "dilations").Any(d => d != 1) || Int(node, "group", 1) != 1)
        {
            throw Bad(node, $"padding, strides, dilations or groups other than \"same\" ({pad}), 1, 1, 1");
        }

        _block = new PendingBlock { Input = _image, Kernel = k, Filters = values };
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            _block.Bias = Floats(node, 2).Values;
        }
    }

    private void MaxPool(NodeProto node)
    {
        if (_block is not { Pool: 1 } block)
        {
            throw Bad(node, "a MaxPool that does not follow a Conv");
        }

        var kernel = Ints(node, "kernel_shape");
        var strides = Ints(node, "strides");
        if (!kernel.SequenceEqual(new long[] { 2, 2 }) || !strides.SequenceEqual(new long[] { 2, 2 }) || Ints(node, "pads").Any(p => p != 0) || Int(node, "ceil_mode", 0) != 0)
        {
            throw Bad(node, "pooling other than 2x2 with stride 2 and no padding");
        }

        block.Pool = 2;
    }

    private void Flatten(NodeProto node)
    {
        if (Int(node, "axis", 1) != 1)
        {
            throw Bad(node, "axis other than 1");
        }

        FinishBlock();
        if (_image is not null)
        {
            _width = _image.Size;
            _image = null;
        }
    }

    /// <summary>A Reshape to [N, C, H, W] (rows as images) or to [N, features] (flattening).</summary>
    private void Reshape(NodeProto node)
    {
        long[] shape = Int64s(node, 1);
        FinishBlock();
        int size = _image?.Size ?? _width;
        if (shape.Length == 4 && shape[0] is -1 or 0 && shape[1..].All(d => d > 0) && shape[1] * shape[2] * shape[3] == size && _dense.Count == 0 && !_pendingRelu)
        {
            _image = new ImageShape((int)shape[1], (int)shape[2], (int)shape[3]);
        }
        else if (shape.Length == 2 && (shape[1] == size || shape[1] == -1) && shape[0] is -1 or 0 || (shape.Length == 2 && shape[0] > 0 && shape[1] == -1))
        {
            _width = size;
            _image = null;
        }
        else if (shape.Length == 1 && shape[0] == -1 && AfterOutputLayer)
        {
            _head = true; // the scalar output as one dimension
        }
        else
        {
            throw Bad(node, $"a Reshape to [{string.Join(", ", shape)}] of a value of {size}: only to [N, C, H, W] before convolutions or [N, {size}] before dense layers");
        }
    }

    private bool IsFlatReshape(NodeProto node) => node.OpType == "Reshape" && node.Input.Count > 1 && Int64s(node, 1) is [-1];

    private void BeforeDense(NodeProto node)
    {
        FinishBlock();
        if (_image is not null)
        {
            throw Bad(node, $"a dense layer on an image [{_image}]: Flatten it first");
        }

        if (_dense.Count > 0 && !_pendingRelu)
        {
            throw Bad(node, "two dense layers without a Relu between them");
        }

        if (_matMul is not null)
        {
            throw Bad(node, "a MatMul without its bias Add");
        }
    }

    private void AddDense(NodeProto node, float[] weights, float[] bias, int inputs, int outputs)
    {
        CheckWidth(node, inputs);
        if (bias.Length != outputs)
        {
            throw Bad(node, $"{bias.Length} biases for {outputs} outputs");
        }

        _dense.Add((weights, bias, inputs, outputs));
        _pendingRelu = false;
        _width = outputs;
    }

    private void CheckWidth(NodeProto node, int inputs)
    {
        if (inputs != _width)
        {
            throw Bad(node, $"{inputs} inputs where the previous value has {_width}");
        }
    }

    /// <summary>Closes the convolution block in progress (it must have had its ReLU).</summary>
    private void FinishBlock()
    {
        if (_block is not { } block)
        {
            return;
        }

        if (!block.Relu)
        {
            throw new ModelFormatException($"The Conv over [{block.Input}] has no Relu: a convolution block is Conv, Relu and optionally MaxPool.");
        }

        int outputs = block.Filters.Length / (block.Input.Channels * block.Kernel * block.Kernel);
        float[] bias = block.Bias.Length == 0 ? new float[outputs] : block.Bias;
        var filters = new QuantizedLayer(block.Input.Channels * block.Kernel * block.Kernel, outputs, block.Filters, bias);
        var convolution = new QuantizedConvolution(block.Input, block.Kernel, filters, block.Pool);
        _blocks.Add(convolution);
        _image = convolution.Output;
        _block = null;
    }

    private QuantizedMlp Network(QatTask? task)
    {
        int outputs = _dense[^1].Outputs;
        QatTask chosen = task ?? (outputs > 1 ? QatTask.MulticlassClassification : _sigmoid ? QatTask.BinaryClassification : QatTask.Regression);
        if ((chosen == QatTask.MulticlassClassification) != (outputs > 1))
        {
            throw new ModelFormatException($"The ONNX network has {outputs} output(s); a {chosen} network has {(chosen == QatTask.MulticlassClassification ? "one per class, at least 2" : "one")}.");
        }

        var layers = _dense.Select(l => new QuantizedLayer(l.Inputs, l.Outputs, l.Weights, l.Bias)).ToArray();
        int classes = chosen switch { QatTask.Regression => 1, QatTask.BinaryClassification => 2, _ => outputs };
        return _blocks.Count == 0
            ? new QuantizedMlp(chosen, classes, layers, null, null, 0, _outputScale, _outputShift)
            : new QuantizedMlp(chosen, classes, _blocks, layers, null, 0, _outputScale, _outputShift);
    }

    /// <summary>A float32 tensor input of a node (an initializer or Constant): its values and dimensions, checked against its size.</summary>
    private (float[] Values, long[] Dims) Floats(NodeProto node, int index)
    {
        TensorProto t = Constant(node, index);
        if (t.DataType != (int)DataType.Float)
        {
            throw Bad(node, $"input '{t.Name}' of type {(DataType)t.DataType}; weights are float32");
        }

        long count = Count(node, t);
        float[] values = t.RawData.Length > 0
            ? (t.RawData.Length == count * 4 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : throw Bad(node, $"input '{t.Name}' with {t.RawData.Length} bytes for {count} floats"))
            : (t.FloatData.Count == count ? t.FloatData.ToArray() : throw Bad(node, $"input '{t.Name}' with {t.FloatData.Count} values for {count}"));
        if (!values.All(float.IsFinite))
        {
            throw Bad(node, $"input '{t.Name}' with values that are not finite");
        }

        return (values, t.Dims.ToArray());
    }

    /// <summary>An int64 tensor input of a node (a Reshape's shape).</summary>
    private long[] Int64s(NodeProto node, int index)
    {
        TensorProto t = Constant(node, index);
        long count = Count(node, t);
        if (t.DataType != (int)DataType.Int64 || count > 8)
        {
            throw Bad(node, $"input '{t.Name}' that is not a short int64 shape");
        }

        return t.RawData.Length == count * 8 ? MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray()
            : t.Int64Data.Count == count ? t.Int64Data.ToArray() : throw Bad(node, $"input '{t.Name}' of the wrong length");
    }

    private TensorProto Constant(NodeProto node, int index) =>
        index < node.Input.Count && _constants.TryGetValue(node.Input[index], out var t) ? t
            : throw Bad(node, $"input {index} {(index < node.Input.Count ? $"'{node.Input[index]}' " : "")}that is not a constant (an initializer or Constant node)");

    private static long Count(NodeProto node, TensorProto t)
    {
        long count = 1;
        foreach (long d in t.Dims)
        {
            count = d < 0 || d > QuantizedLayer.MaxWeights ? throw Bad(node, $"input '{t.Name}' with dimension {d}") : count * d;
            if (count > QuantizedLayer.MaxWeights)
            {
                throw Bad(node, $"input '{t.Name}' with more than 2^28 values");
            }
        }

        return count;
    }

    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[(c * rows) + r] = values[(r * columns) + c];
            }
        }

        return result;
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static long Int(NodeProto node, string name, long fallback) => Attribute(node, name) is { } a ? a.I : fallback;

    private static float Float(NodeProto node, string name, float fallback) => Attribute(node, name) is { } a ? a.F : fallback;

    private static long[] Ints(NodeProto node, string name) => Attribute(node, name)?.Ints.ToArray() ?? Array.Empty<long>();

    private static string Describe(NodeProto node) => $"node '{(string.IsNullOrEmpty(node.Name) ? node.Output.FirstOrDefault() : node.Name)}' ({node.OpType})";

    private static ModelFormatException Bad(NodeProto node, string what) => new($"The ONNX {Describe(node)} has {what}.");

    private static NotSupportedException Unsupported(NodeProto node, string why) => new($"The ONNX {Describe(node)} is not supported: {why}.");
}
