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

/// <summary>
/// The narrowest ONNX integer type that <see cref="OnnxExport"/> stores quantized weight codes in. Weight codes are
/// symmetric (1 bit: ±1; b bits: -(2^(b-1) - 1) .. 2^(b-1) - 1), so a 2-bit code fits INT2 and a 4-bit code INT4; the
/// narrower the type, the smaller the file and the newer the runtime it needs (the graph is otherwise the same).
/// </summary>
public enum OnnxWeightStorage
{
    /// <summary>
    /// The default: 1- and 2-bit weights as INT2 (opset 25, IR version 13), 3- and 4-bit weights as INT4 (opset 21, IR
    /// version 10), wider ones as INT8. The file shrinks with the bits. Needs ONNX Runtime 1.31 or a runtime with INT2
    /// <c>DequantizeLinear</c>.
    /// </summary>
    Packed,

    /// <summary>1- to 4-bit weights as INT4 (opset 21, IR version 10), wider ones as INT8: for runtimes with INT4 but without INT2 kernels.</summary>
    Int4,

    /// <summary>Every weight as INT8 (opset 13, IR version 8): the layout of earlier MlRounding versions, for older runtimes.</summary>
    Int8,
}

/// <summary>Options of <see cref="OnnxExport.ExportToOnnx(Microsoft.ML.ModelOperationsCatalog, Microsoft.ML.ITransformer, Microsoft.ML.DataViewSchema, Stream, OnnxExportOptions)"/>.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>Gets or sets the layout of quantization-aware networks. Default <see cref="OnnxNetworkLayout.ExactInteger"/>.</summary>
    public OnnxNetworkLayout NetworkLayout { get; set; } = OnnxNetworkLayout.ExactInteger;

    /// <summary>Gets or sets the narrowest integer type of weight codes. Default <see cref="OnnxWeightStorage.Packed"/> (INT2 and INT4).</summary>
    public OnnxWeightStorage WeightStorage { get; set; } = OnnxWeightStorage.Packed;
}
