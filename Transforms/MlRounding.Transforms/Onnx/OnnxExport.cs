using Microsoft.ML;
using Microsoft.ML.Transforms;
using Onnx;

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
        AtomicFile.Write(filePath, (Stream stream) => Google.Protobuf.MessageExtensions.WriteTo(proto, stream));
    }

    internal static ModelProto Build(ITransformer model, DataViewSchema inputSchema, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(options);
        var pipeline = new OnnxPipeline(inputSchema, options);
        DataViewSchema schema = inputSchema; // the schema in front of the current step
        foreach (ITransformer step in Flatten(model))
        {
            DataViewSchema after = step.GetOutputSchema(schema);
            var exporter = OnnxStepExporters.All.FirstOrDefault(e => e.Step.IsInstanceOfType(step)).Export ?? throw OnnxStepExporters.Unsupported(step, schema, after);
            if (exporter(pipeline, step, schema, after))
            {
                return pipeline.Graph.Model(Description);
            }

            schema = after;
        }

        return pipeline.Outputs(Description);
    }

    private const string Description = "Exported by MlRounding: featurization, rounding and quantization-aware layers as ONNX (QDQ) operators.";

    private static IEnumerable<ITransformer> Flatten(ITransformer model) => model switch
    {
        OneHotEncodingTransformer oneHot => MlRounding.Bridge.TransformerInternals.OneHotSteps(oneHot).SelectMany(Flatten),
        IEnumerable<ITransformer> chain => chain.SelectMany(Flatten),
        _ => new[] { model },
    };
}
