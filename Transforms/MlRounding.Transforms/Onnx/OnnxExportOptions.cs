namespace MlRounding.Onnx;

/// <summary>How <see cref="OnnxExport"/> lays out a quantization-aware network.</summary>
public enum OnnxNetworkLayout
{
    /// <summary>
    /// The default: int8 weight codes and activations quantized by <c>QuantizeLinear</c>, carried as integer values so
    /// that each hidden <c>Gemm</c> is an exact integer dot product, then the per-channel product of weight and
    /// activation steps. ONNX Runtime reproduces the C# scorer (scores within 1e-5).
    /// </summary>
    ExactInteger,

    /// <summary>
    /// The textbook QDQ pattern that quantization-aware runtimes (TensorRT, OpenVINO, ONNX Runtime's QDQ fusions)
    /// recognise: each weight matrix is <c>DequantizeLinear</c>(int8 codes, per-channel steps, axis 0), each hidden
    /// activation a <c>QuantizeLinear</c>/<c>DequantizeLinear</c> pair at its step, float <c>Gemm</c> in between. Runtimes
    /// compute it in float or fuse it into integer kernels, so scores may differ from the C# scorer by ~1e-3 (a few
    /// activation codes on the other side of a rounding tie).
    /// </summary>
    PerChannelQdq,
}

/// <summary>Options of <see cref="OnnxExport.ExportToOnnx(Microsoft.ML.ModelOperationsCatalog, Microsoft.ML.ITransformer, Microsoft.ML.DataViewSchema, Stream, OnnxExportOptions)"/>.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>Gets or sets the layout of quantization-aware networks. Default <see cref="OnnxNetworkLayout.ExactInteger"/>.</summary>
    public OnnxNetworkLayout NetworkLayout { get; set; } = OnnxNetworkLayout.ExactInteger;
}
