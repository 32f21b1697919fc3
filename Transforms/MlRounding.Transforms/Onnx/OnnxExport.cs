using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Onnx;
using static MlRounding.Onnx.OnnxGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace MlRounding.Onnx;

/// <summary>
/// Exports fitted ML.NET pipelines with MlRounding components to ONNX (OnnxSharp's protobuf types; opset 13, 21 when
/// weights are stored as INT4 or a grid needs 16-bit codes, 25 when weights are stored as INT2; see
/// <see cref="OnnxWeightStorage"/>). A quantization-aware network becomes a QDQ graph: per-channel weight codes (INT2, INT4 or INT8)
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
        ArgumentNullException.ThrowIfNull(stream);
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
        ModelProto proto = Build(model, inputSchema, options); // fails before anything is written
        ModelFiles.WriteAtomically(filePath, (Stream stream) => Google.Protobuf.MessageExtensions.WriteTo(proto, stream));
    }

    internal static ModelProto Build(ITransformer model, DataViewSchema inputSchema, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(options);
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
                    var pairs = MlRounding.Bridge.TransformerInternals.NormalizerColumns(normalizer);
                    for (int i = 0; i < pairs.Count; i++)
                    {
                        var (x, width) = Column(pairs[i].Input);
                        Produce(pairs[i].Output, Affine(g, x, normalizer.GetNormalizerModelParameters(i), pairs[i].Output, width), width);
                    }

                    break;

                case ColumnConcatenatingTransformer concat:
                    foreach (var (output, inputs) in MlRounding.Bridge.TransformerInternals.ConcatenatedColumns(concat))
                    {
                        var parts = inputs.Select(Column).ToArray();
                        Produce(output, parts.Length == 1 ? parts[0].Tensor : g.Node("Concat", parts.Select(p => p.Tensor).ToArray(), Int("axis", 1)), parts.Sum(p => p.Width));
                    }

                    break;

                case ValueToKeyMappingTransformer or KeyToValueMappingTransformer:
                    break; // label mappings: not on the scoring path

                case ISingleFeaturePredictionTransformer<QatRegressionModelParameters> r:
                    OnnxNetwork.Emit(g, Column(r.FeatureColumnName).Tensor, r.Model.Network, options);
                    predictor = true;
                    break;

                case ISingleFeaturePredictionTransformer<QatBinaryModelParameters> b:
                    OnnxNetwork.Emit(g, Column(b.FeatureColumnName).Tensor, b.Model.Network, options);
                    predictor = true;
                    break;

                case ISingleFeaturePredictionTransformer<QatMulticlassModelParameters> m:
                    OnnxNetwork.Emit(g, Column(m.FeatureColumnName).Tensor, m.Model.Network, options);
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
}
