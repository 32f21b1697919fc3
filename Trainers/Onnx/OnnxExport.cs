using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Onnx;
using static MlRounding.Trainers.Onnx.OnnxGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace MlRounding.Trainers.Onnx;

/// <summary>
/// Exports fitted ML.NET pipelines with MlRounding components to ONNX (OnnxSharp's protobuf types; opset 13, or 21
/// when a grid needs 16-bit codes). A quantization-aware network becomes a QDQ graph: per-channel int8 weight codes
/// through <c>DequantizeLinear</c> (axis 0), <c>Gemm</c> with the float bias, <c>Relu</c>, and each activation grid as a
/// <c>QuantizeLinear</c>/<c>DequantizeLinear</c> pair. <c>Round</c>, <c>RoundToStep</c> and <c>Quantize</c> transforms
/// (and the network's extra rounding layers and input grid) become the same float operations as their C# rounding.
/// Supported steps besides ours: <c>NormalizeMinMax</c>/<c>NormalizeMeanVariance</c> and other affine normalizers,
/// <c>Concatenate</c>, and label key mappings (skipped: they are not on the scoring path).
/// </summary>
public static class OnnxExport
{
    /// <summary>
    /// Writes <paramref name="model"/> as an ONNX model: one graph input per input column the model reads (float32,
    /// shape [N] + the column's vector size), and as outputs the predictor's columns (Score; Probability and
    /// PredictedLabel for binary; the class index PredictedLabel for multiclass) or, without a predictor, every column
    /// the pipeline produces.
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline.</param>
    /// <param name="inputSchema">The schema of the data the pipeline was fitted on.</param>
    /// <param name="stream">Where the ONNX bytes go.</param>
    /// <exception cref="NotSupportedException">A step of the pipeline cannot be exported (its type is named).</exception>
    public static void ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, Stream stream) =>
        catalog.ExportToOnnx(model, inputSchema, stream, new OnnxExportOptions());

    /// <summary>Writes <paramref name="model"/> as an ONNX model, with options (e.g. the network layout).</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline.</param>
    /// <param name="inputSchema">The schema of the data the pipeline was fitted on.</param>
    /// <param name="stream">Where the ONNX bytes go.</param>
    /// <param name="options">The options.</param>
    /// <exception cref="NotSupportedException">A step of the pipeline cannot be exported (its type is named).</exception>
    public static void ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, Stream stream, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        Google.Protobuf.MessageExtensions.WriteTo(Build(model, inputSchema, options), stream);
    }

    /// <summary>Writes the ONNX model to a file (a temporary name in the same folder, then moved into place).</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline.</param>
    /// <param name="inputSchema">The schema of the data the pipeline was fitted on.</param>
    /// <param name="filePath">The .onnx file.</param>
    /// <exception cref="NotSupportedException">A step of the pipeline cannot be exported (its type is named).</exception>
    public static void ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath) =>
        catalog.ExportToOnnx(model, inputSchema, filePath, new OnnxExportOptions());

    /// <summary>Writes the ONNX model to a file, with options (a temporary name in the same folder, then moved into place).</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline.</param>
    /// <param name="inputSchema">The schema of the data the pipeline was fitted on.</param>
    /// <param name="filePath">The .onnx file.</param>
    /// <param name="options">The options.</param>
    /// <exception cref="NotSupportedException">A step of the pipeline cannot be exported (its type is named).</exception>
    public static void ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        ArgumentNullException.ThrowIfNull(options);
        ModelProto proto = Build(model, inputSchema, options); // fails before anything is written
        ModelFiles.WriteAtomically(filePath, (Stream stream) => Google.Protobuf.MessageExtensions.WriteTo(proto, stream));
    }

    internal static ModelProto Build(ITransformer model, DataViewSchema inputSchema, OnnxExportOptions options)
    {
        var g = new OnnxGraph();
        var columns = new Dictionary<string, (string Tensor, int Width)>();
        var produced = new List<string>();
        bool predictor = false;

        (string Tensor, int Width) Column(string name)
        {
            if (columns.TryGetValue(name, out var known))
            {
                return known;
            }

            var column = inputSchema.GetColumnOrNull(name) ?? throw new NotSupportedException($"Column '{name}' is neither an input column nor produced by an exported step.");
            int width = column.Type switch
            {
                VectorDataViewType { ItemType: NumberDataViewType n, Size: > 0 } v when n == NumberDataViewType.Single => v.Size,
                NumberDataViewType n when n == NumberDataViewType.Single => 1,
                _ => throw new NotSupportedException($"Input column '{name}' is {column.Type}; ONNX export takes Single scalars and known-size vectors of Single."),
            };
            g.Input(name, DataType.Float, width);
            return columns[name] = (name, width);
        }

        void Produce(string name, string tensor, int width)
        {
            columns[name] = (tensor, width);
            produced.Remove(name);
            produced.Add(name);
        }

        foreach (ITransformer step in Flatten(model))
        {
            switch (step)
            {
                case RoundingTransformer rounding:
                    foreach (RoundingColumn c in rounding.Columns)
                    {
                        var (x, width) = Column(c.InputColumnName);
                        Produce(c.OutputColumnName, OnnxGrids.Round(g, x, c.Grid, width), width);
                        if (c.CodesColumnName is { } codes && c.Grid is AffineGrid affine)
                        {
                            Produce(codes, OnnxGrids.Codes(g, x, affine, width), width);
                        }
                    }

                    break;

                case NormalizingTransformer normalizer:
                    var pairs = MlRounding.Bridge.TrainerBridge.NormalizerColumns(normalizer);
                    for (int i = 0; i < pairs.Count; i++)
                    {
                        var (x, width) = Column(pairs[i].Input);
                        Produce(pairs[i].Output, Affine(g, x, normalizer.GetNormalizerModelParameters(i), pairs[i].Output, width), width);
                    }

                    break;

                case ColumnConcatenatingTransformer concat:
                    foreach (var (output, inputs) in MlRounding.Bridge.TrainerBridge.ConcatenatedColumns(concat))
                    {
                        var parts = inputs.Select(Column).ToArray();
                        Produce(output, parts.Length == 1 ? parts[0].Tensor : g.Node("Concat", parts.Select(p => p.Tensor).ToArray(), Int("axis", 1)), parts.Sum(p => p.Width));
                    }

                    break;

                case ValueToKeyMappingTransformer or KeyToValueMappingTransformer:
                    break; // label mappings: not on the scoring path

                case ISingleFeaturePredictionTransformer<QatRegressionModelParameters> r:
                    Network(g, Column(r.FeatureColumnName).Tensor, r.Model.Network, options.NetworkLayout);
                    predictor = true;
                    break;

                case ISingleFeaturePredictionTransformer<QatBinaryModelParameters> b:
                    Network(g, Column(b.FeatureColumnName).Tensor, b.Model.Network, options.NetworkLayout);
                    predictor = true;
                    break;

                case ISingleFeaturePredictionTransformer<QatMulticlassModelParameters> m:
                    Network(g, Column(m.FeatureColumnName).Tensor, m.Model.Network, options.NetworkLayout);
                    predictor = true;
                    break;

                default:
                    throw new NotSupportedException($"{step.GetType().Name} cannot be exported to ONNX by MlRounding; supported: Round, RoundToStep, Quantize, affine normalizers, Concatenate, label key mappings and the QuantizationAware trainers.");
            }

            if (predictor)
            {
                break; // steps after the predictor (e.g. MapKeyToValue of PredictedLabel) are not exported
            }
        }

        if (!predictor)
        {
            if (produced.Count == 0)
            {
                throw new NotSupportedException("The pipeline produces no column that ONNX export supports.");
            }

            foreach (string name in produced)
            {
                g.Output(name, columns[name].Tensor, DataType.Float, columns[name].Width);
            }
        }

        return g.Model("Exported by MlRounding: rounding and quantization-aware layers as ONNX (QDQ) operators.");
    }

    /// <summary>The network alone, with a graph input named "Features".</summary>
    internal static ModelProto BuildNetwork(QuantizedMlp network)
    {
        var g = new OnnxGraph();
        g.Input("Features", DataType.Float, network.FeatureCount);
        Network(g, "Features", network, OnnxNetworkLayout.ExactInteger);
        return g.Model("Exported by MlRounding: a quantization-aware network.");
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer model) =>
        model is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : new[] { model };

    /// <summary>ML.NET's affine normalizer: (x - offset) * scale, per slot (offset may be absent).</summary>
    private static string Affine(OnnxGraph g, string x, object parameters, string column, int width)
    {
        if (parameters is not NormalizingTransformer.AffineNormalizerModelParameters<System.Collections.Immutable.ImmutableArray<float>> affine)
        {
            throw new NotSupportedException($"The normalizer of column '{column}' is not affine ({parameters.GetType().Name}); only affine normalizers export to ONNX.");
        }

        long[] dims = affine.Scale.Length == 1 ? Array.Empty<long>() : new long[] { width };
        string centred = affine.Offset.IsDefaultOrEmpty ? x : g.Node("Sub", new[] { x, g.Floats("offset", affine.Offset.ToArray(), affine.Offset.Length == 1 ? Array.Empty<long>() : new long[] { width }) });
        return g.Node("Mul", new[] { centred, g.Floats("scale", affine.Scale.ToArray(), dims) });
    }

    /// <summary>
    /// The network as ONNX nodes that repeat the C# scorer's arithmetic exactly: weights are int8 codes
    /// (<c>DequantizeLinear</c> to their integer values), activations are quantized by <c>QuantizeLinear</c> at their
    /// step and carried as integer values (<c>DequantizeLinear</c> with scale 1), so that every hidden layer's
    /// <c>Gemm</c> is an exact integer dot product (all sums stay below 2^24), followed by the per-channel product of the
    /// weight and activation steps and the float bias; a layer with float inputs accumulates in float64, as the scorer.
    /// </summary>
    private static void Network(OnnxGraph g, string features, QuantizedMlp network, OnnxNetworkLayout layout)
    {
        if (layout == OnnxNetworkLayout.PerChannelQdq)
        {
            QdqNetwork(g, features, network);
            return;
        }

        string h = RoundAt(g, network, 0, features, network.FeatureCount);
        string? codes = null; // integer-valued float codes of the current layer input, or null for float values
        float codeStep = 1;
        string one = g.Scalar("unit_scale", 1f);
        if (network.InputStep > 0 && !network.Roundings.Any(r => r.Position == 0))
        {
            codes = g.Node("Round", new[] { g.Node("Div", new[] { h, g.Scalar("input_step", network.InputStep) }) });
            codeStep = network.InputStep;
        }

        for (int l = 0; l < network.Layers.Count; l++)
        {
            QuantizedLayer layer = network.Layers[l];
            string bias = g.Floats("bias", layer.Bias, layer.Outputs);
            string y;
            if (layer.FloatWeights is { } w)
            {
                string input = codes is null ? h : g.Node("Mul", new[] { codes, g.Scalar("code_step", codeStep) });
                string weights = g.Doubles("weight", w.Select(v => (double)v).ToArray(), layer.Outputs, layer.Inputs);
                y = Float(g, g.Node("Gemm", new[] { Double(g, input), weights }, Int("transB", 1)));
            }
            else
            {
                string weightCodes = g.Codes("weight_codes", layer.Codes.Select(c => (long)c).ToArray(), signed: true, sixteen: false, layer.Outputs, layer.Inputs);
                string integerWeights = g.Node("DequantizeLinear", new[] { weightCodes, one, g.Codes("weight_zero_point", new long[] { 0 }, signed: true, sixteen: false) });
                float[] steps = Enumerable.Range(0, layer.Outputs).Select(j => layer.WeightSteps.Length == 1 ? layer.WeightSteps[0] : layer.WeightSteps[j]).ToArray();
                if (codes is not null)
                {
                    // Exact: integer codes times integer weights, then (weight step * code step) in float32.
                    string acc = g.Node("Gemm", new[] { codes, integerWeights }, Int("transB", 1));
                    y = g.Node("Mul", new[] { acc, g.Floats("weight_scale", steps.Select(st => st * codeStep).ToArray(), layer.Outputs) });
                }
                else
                {
                    string acc = g.Node("Gemm", new[] { Double(g, h), Double(g, integerWeights) }, Int("transB", 1));
                    y = Float(g, g.Node("Mul", new[] { acc, g.Doubles("weight_scale", steps.Select(st => (double)st).ToArray(), layer.Outputs) }));
                }
            }

            y = g.Node("Add", new[] { y, bias });
            codes = null;
            if (l + 1 == network.Layers.Count)
            {
                if (network.OutputScale != 1 || network.OutputShift != 0)
                {
                    y = g.Node("Add", new[] { g.Node("Mul", new[] { y, g.Scalar("output_scale", network.OutputScale) }), g.Scalar("output_shift", network.OutputShift) });
                }
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

    /// <summary>The textbook QDQ layout (<see cref="OnnxNetworkLayout.PerChannelQdq"/>).</summary>
    private static void QdqNetwork(OnnxGraph g, string features, QuantizedMlp network)
    {
        string h = RoundAt(g, network, 0, features, network.FeatureCount);
        if (network.InputStep > 0 && !network.Roundings.Any(r => r.Position == 0))
        {
            string step = g.Scalar("input_step", network.InputStep);
            h = g.Node("Mul", new[] { g.Node("Round", new[] { g.Node("Div", new[] { h, step }) }), step });
        }

        for (int l = 0; l < network.Layers.Count; l++)
        {
            QuantizedLayer layer = network.Layers[l];
            string weights;
            if (layer.FloatWeights is { } w)
            {
                weights = g.Floats("weight", w, layer.Outputs, layer.Inputs);
            }
            else
            {
                bool perChannel = layer.WeightSteps.Length > 1;
                long[] dims = perChannel ? new long[] { layer.Outputs } : Array.Empty<long>();
                string codes = g.Codes("weight_codes", layer.Codes.Select(c => (long)c).ToArray(), signed: true, sixteen: false, layer.Outputs, layer.Inputs);
                string[] inputs = { codes, g.Floats("weight_scale", layer.WeightSteps, dims), g.Codes("weight_zero_point", new long[layer.WeightSteps.Length], signed: true, sixteen: false, dims) };
                weights = perChannel ? g.Node("DequantizeLinear", inputs, Int("axis", 0)) : g.Node("DequantizeLinear", inputs);
            }

            string y = g.Node("Gemm", new[] { h, weights, g.Floats("bias", layer.Bias, layer.Outputs) }, Int("transB", 1));
            if (l + 1 == network.Layers.Count)
            {
                if (network.OutputScale != 1 || network.OutputShift != 0)
                {
                    y = g.Node("Add", new[] { g.Node("Mul", new[] { y, g.Scalar("output_scale", network.OutputScale) }), g.Scalar("output_shift", network.OutputShift) });
                }
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

    private static string Double(OnnxGraph g, string x) => g.Node("Cast", new[] { x }, Int("to", (long)DataType.Double));

    private static string Float(OnnxGraph g, string x) => g.Node("Cast", new[] { x }, Int("to", (long)DataType.Float));

    /// <summary>An activation grid: unsigned codes 0..max at the layer's step (<c>QuantizeLinear</c>), as integer-valued floats.</summary>
    private static string ActivationCodes(OnnxGraph g, string y, QuantizedLayer layer)
    {
        var (q, zero) = QuantizeActivation(g, y, layer);
        return g.Node("DequantizeLinear", new[] { q, g.Scalar("unit_scale", 1f), zero });
    }

    /// <summary><c>QuantizeLinear</c> of a ReLU output at the layer's step (uint8, or uint16 above 8 bits, clamped to the grid's maximum).</summary>
    private static (string Quantized, string ZeroPoint) QuantizeActivation(OnnxGraph g, string y, QuantizedLayer layer)
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
