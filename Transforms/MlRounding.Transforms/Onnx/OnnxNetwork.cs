using Onnx;
using static MlRounding.Onnx.OnnxGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace MlRounding.Onnx;

/// <summary>A <see cref="QuantizedMlp"/> as ONNX nodes, in either <see cref="OnnxNetworkLayout"/>, then the task's outputs.</summary>
internal static class OnnxNetwork
{
    /// <summary>The network alone, with a graph input named "Features".</summary>
    internal static ModelProto BuildNetwork(QuantizedMlp network)
    {
        var g = new OnnxGraph();
        g.Input("Features", DataType.Float, network.FeatureCount);
        Emit(g, "Features", network, new OnnxExportOptions());
        return g.Model("Exported by MlRounding: a quantization-aware network.");
    }

    /// <summary>
    /// The network as ONNX nodes that repeat the C# scorer's arithmetic exactly: weights are int8 codes
    /// (<c>DequantizeLinear</c> to their integer values), activations are quantized by <c>QuantizeLinear</c> at their
    /// step and carried as integer values (<c>DequantizeLinear</c> with scale 1), so that every hidden layer's
    /// <c>Gemm</c> is an exact integer dot product (all sums stay below 2^24), followed by the per-channel product of the
    /// weight and activation steps and the float bias; a layer with float inputs accumulates in float64, as the scorer.
    /// </summary>
    public static void Emit(OnnxGraph g, string features, QuantizedMlp network, OnnxExportOptions options)
    {
        if (options.NetworkLayout == OnnxNetworkLayout.PerChannelQdq)
        {
            QdqNetwork(g, features, network, options.WeightStorage);
            return;
        }

        string h = RoundAt(g, network, 0, features, network.FeatureCount);
        string? codes = null; // integer-valued float codes of the current layer input, or null for float values
        float codeStep = 1;
        string one = g.Scalar("unit_scale", 1f);
        if (InputCodes(g, network, h) is { } inputCodes)
        {
            codes = inputCodes;
            codeStep = network.InputStep;
        }

        if (network.Convolutions.Count > 0)
        {
            (h, codes, codeStep) = OnnxConvolutions.Exact(g, h, codes, codeStep, network, one, options.WeightStorage);
        }

        for (int l = 0; l < network.Layers.Count; l++)
        {
            QuantizedLayer layer = network.Layers[l];
            string bias = g.Floats("bias", layer.Biases, layer.Outputs);
            string y = Product(g, layer, h, codes, codeStep, one, options.WeightStorage);
            y = g.Node("Add", new[] { y, bias });
            codes = null;
            if (l + 1 == network.Layers.Count)
            {
                y = OutputAffine(g, network, y);
            }
            else
            {
                y = g.Node("Relu", new[] { y });
                if (layer.ActivationBits != 32)
                {
                    codes = ActivationCodes(g, y, layer);
                    codeStep = layer.ActivationStep;
                }
            }

            if (network.Roundings.Any(r => r.Position == l + 1))
            {
                // An extra rounding layer works on values: dequantize the codes first.
                y = RoundAt(g, network, l + 1, codes is null ? y : g.Node("Mul", new[] { codes, g.Scalar("code_step", codeStep) }), layer.Outputs);
                codes = null;
            }

            h = y;
        }

        Outputs(g, network, h);
    }

    /// <summary>
    /// The layer's input times its weights, before the bias: float weights in float64; integer codes times integer
    /// weights, then (weight step * code step) in float32, exactly; float inputs times integer weights in float64, then
    /// the weight steps.
    /// </summary>
    private static string Product(OnnxGraph g, QuantizedLayer layer, string h, string? codes, float codeStep, string one, OnnxWeightStorage storage)
    {
        if (layer.HasFloatWeights)
        {
            string input = codes is null ? h : g.Node("Mul", new[] { codes, g.Scalar("code_step", codeStep) });
            string weights = g.Doubles("weight", layer.Weights.Select(v => (double)v).ToArray(), layer.Outputs, layer.Inputs);
            return Float(g, g.Node("Gemm", new[] { Double(g, input), weights }, Int("transB", 1)));
        }

        string integerWeights = g.Node("DequantizeLinear", new[] { WeightCodes(g, layer, storage), one, g.Codes("weight_zero_point", new long[] { 0 }, signed: true, sixteen: false) });
        float[] steps = Enumerable.Range(0, layer.Outputs).Select(j => layer.WeightSteps.Length == 1 ? layer.WeightSteps[0] : layer.WeightSteps[j]).ToArray();
        if (codes is not null)
        {
            string acc = g.Node("Gemm", new[] { codes, integerWeights }, Int("transB", 1));
            return g.Node("Mul", new[] { acc, g.Floats("weight_scale", steps.Select(st => st * codeStep).ToArray(), layer.Outputs) });
        }

        string product = g.Node("Gemm", new[] { Double(g, h), Double(g, integerWeights) }, Int("transB", 1));
        return Float(g, g.Node("Mul", new[] { product, g.Doubles("weight_scale", steps.Select(st => (double)st).ToArray(), layer.Outputs) }));
    }

    /// <summary>The textbook QDQ layout (<see cref="OnnxNetworkLayout.PerChannelQdq"/>).</summary>
    private static void QdqNetwork(OnnxGraph g, string features, QuantizedMlp network, OnnxWeightStorage storage)
    {
        string h = RoundAt(g, network, 0, features, network.FeatureCount);
        if (InputCodes(g, network, h) is { } inputCodes)
        {
            h = g.Node("Mul", new[] { inputCodes, g.Scalar("input_step", network.InputStep) });
        }

        if (network.Convolutions.Count > 0)
        {
            h = OnnxConvolutions.Qdq(g, h, network, storage);
        }

        for (int l = 0; l < network.Layers.Count; l++)
        {
            QuantizedLayer layer = network.Layers[l];
            string weights;
            if (layer.HasFloatWeights)
            {
                weights = g.Floats("weight", layer.Weights, layer.Outputs, layer.Inputs);
            }
            else
            {
                bool perChannel = layer.WeightSteps.Length > 1;
                long[] dims = perChannel ? new long[] { layer.Outputs } : Array.Empty<long>();
                string codes = WeightCodes(g, layer, storage);
                string[] inputs = { codes, g.Floats("weight_scale", layer.Steps, dims), g.Codes("weight_zero_point", new long[layer.WeightSteps.Length], signed: true, sixteen: false, dims) };
                weights = perChannel ? g.Node("DequantizeLinear", inputs, Int("axis", 0)) : g.Node("DequantizeLinear", inputs);
            }

            string y = g.Node("Gemm", new[] { h, weights, g.Floats("bias", layer.Biases, layer.Outputs) }, Int("transB", 1));
            if (l + 1 == network.Layers.Count)
            {
                y = OutputAffine(g, network, y);
            }
            else
            {
                y = g.Node("Relu", new[] { y });
                if (layer.ActivationBits != 32)
                {
                    var (q, zero) = QuantizeActivation(g, y, layer);
                    y = g.Node("DequantizeLinear", new[] { q, g.Scalar("activation_scale", layer.ActivationStep), zero });
                }
            }

            h = RoundAt(g, network, l + 1, y, layer.Outputs);
        }

        Outputs(g, network, h);
    }

    /// <summary>
    /// A layer's weight codes as an INT8 tensor. The initializer holds them in the narrowest type the storage allows
    /// (INT2 up to 2 bits, INT4 up to 4, else INT8), raising the opset it needs; a narrower initializer is widened by a
    /// <c>Cast</c> to INT8, which ONNX Runtime folds at load, so the graph that runs is the INT8 one (ONNX Runtime 1.31 fuses
    /// <c>DequantizeLinear</c> of INT2 weights with a QDQ <c>Gemm</c> into a <c>QGemm</c> that rejects INT2).
    /// </summary>
    internal static string WeightCodes(OnnxGraph g, QuantizedLayer layer, OnnxWeightStorage storage, params long[] dims)
    {
        DataType type = DataType.Int8;
        if (layer.WeightBits <= 2 && storage == OnnxWeightStorage.Packed)
        {
            g.RequireOpset(25);
            type = OnnxGraph.Int2;
        }
        else if (layer.WeightBits <= 4 && storage is OnnxWeightStorage.Packed or OnnxWeightStorage.Int4)
        {
            g.RequireOpset(21);
            type = DataType.Int4;
        }

        string codes = g.Codes("weight_codes", layer.Codes.Select(c => (long)c).ToArray(), type, dims.Length > 0 ? dims : new long[] { layer.Outputs, layer.Inputs });
        return type == DataType.Int8 ? codes : g.Node("Cast", new[] { codes }, Int("to", (long)DataType.Int8));
    }

    /// <summary>
    /// The first layer's integer inputs q - z on the network's input grid (the grid's codes as in C#, zero point
    /// subtracted; NaN stays NaN and makes the row's scores NaN, as in C#), or null for float input.
    /// </summary>
    private static string? InputCodes(OnnxGraph g, QuantizedMlp network, string h) =>
        network.InputGrid is { } grid && !network.Roundings.Any(r => r.Position == 0)
            ? g.Node("Sub", new[] { OnnxGrids.Codes(g, h, grid, network.FeatureCount), ZeroPoints(g, grid, network.FeatureCount) })
            : null;

    private static string ZeroPoints(OnnxGraph g, AffineGrid grid, int width) => grid.SlotCount == 0
        ? g.Scalar("input_zero_point", (float)grid.ZeroPoints[0])
        : g.Floats("input_zero_point", grid.ZeroPoints.Select(z => (float)z).ToArray(), width);

    /// <summary>Regression's standardisation undone: y · scale + shift.</summary>
    private static string OutputAffine(OnnxGraph g, QuantizedMlp network, string y) =>
        network.OutputScale != 1 || network.OutputShift != 0
            ? g.Node("Add", new[] { g.Node("Mul", new[] { y, g.Scalar("output_scale", network.OutputScale) }), g.Scalar("output_shift", network.OutputShift) })
            : y;

    private static string Double(OnnxGraph g, string x) => g.Node("Cast", new[] { x }, Int("to", (long)DataType.Double));

    private static string Float(OnnxGraph g, string x) => g.Node("Cast", new[] { x }, Int("to", (long)DataType.Float));

    /// <summary>An activation grid: unsigned codes 0..max at the layer's step (<c>QuantizeLinear</c>), as integer-valued floats.</summary>
    internal static string ActivationCodes(OnnxGraph g, string y, QuantizedLayer layer)
    {
        var (q, zero) = QuantizeActivation(g, y, layer);
        return g.Node("DequantizeLinear", new[] { q, g.Scalar("unit_scale", 1f), zero });
    }

    /// <summary><c>QuantizeLinear</c> of a ReLU output at the layer's step (uint8, or uint16 above 8 bits, clamped to the grid's maximum).</summary>
    internal static (string Quantized, string ZeroPoint) QuantizeActivation(OnnxGraph g, string y, QuantizedLayer layer)
    {
        bool sixteen = layer.ActivationBits > 8;
        if (sixteen)
        {
            g.RequireOpset(21); // 16-bit QuantizeLinear
        }

        long typeMax = sixteen ? ushort.MaxValue : byte.MaxValue;
        if (layer.ActivationMax < typeMax)
        {
            y = g.Node("Min", new[] { y, g.Scalar("activation_max", layer.ActivationMax * layer.ActivationStep) });
        }

        string zero = g.Codes("activation_zero_point", new long[] { 0 }, signed: false, sixteen);
        return (g.Node("QuantizeLinear", new[] { y, g.Scalar("activation_scale", layer.ActivationStep), zero }), zero);
    }

    private static string RoundAt(OnnxGraph g, QuantizedMlp network, int position, string x, int width)
    {
        foreach (var (p, grid) in network.Roundings)
        {
            if (p == position)
            {
                x = OnnxGrids.Round(g, x, grid, width);
            }
        }

        return x;
    }

    private static void Outputs(OnnxGraph g, QuantizedMlp network, string y)
    {
        switch (network.Task)
        {
            case QatTask.MulticlassClassification:
                g.Output("Score", g.Node("Softmax", new[] { y }, Int("axis", 1)), DataType.Float, network.Classes);
                g.Output("PredictedLabel", g.Node("ArgMax", new[] { y }, Int("axis", 1), Int("keepdims", 0)), DataType.Int64);
                break;
            case QatTask.BinaryClassification:
                string logit = g.Node("Reshape", new[] { y, g.Int64s("shape", new long[] { -1 }, 1) });
                g.Output("Score", logit, DataType.Float);
                g.Output("Probability", g.Node("Sigmoid", new[] { logit }), DataType.Float);
                g.Output("PredictedLabel", g.Node("Greater", new[] { logit, g.Scalar("zero", 0) }), DataType.Bool);
                break;
            default:
                g.Output("Score", g.Node("Reshape", new[] { y, g.Int64s("shape", new long[] { -1 }, 1) }), DataType.Float);
                break;
        }
    }
}
