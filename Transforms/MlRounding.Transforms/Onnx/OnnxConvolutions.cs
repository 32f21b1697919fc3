using static MlRounding.Onnx.OnnxGraph;

namespace MlRounding.Onnx;

/// <summary>
/// The convolution blocks of a <see cref="QuantizedMlp"/> as ONNX nodes, in either layout: <c>Conv</c> (square kernel,
/// "same" padding), <c>MaxPool</c>, <c>Relu</c> and the activation's <c>QuantizeLinear</c>/<c>DequantizeLinear</c>, the
/// weights int codes stored as INT2/INT4/INT8 as the dense layers' are; the last block's output is flattened
/// channel-planar for the dense layers.
/// </summary>
internal static class OnnxConvolutions
{
    /// <summary>
    /// The exact layout: integer codes through <c>Conv</c> with integer weights (exact float sums below 2^24), then the
    /// per-channel product of the steps and the bias, as the scorer; float weights convolve the values. Returns the
    /// flattened output: values, or integer-valued codes and their step.
    /// </summary>
    public static (string Values, string? Codes, float CodeStep) Exact(OnnxGraph g, string h, string? codes, float codeStep, QuantizedMlp network, string one, OnnxWeightStorage storage)
    {
        foreach (QuantizedConvolution block in network.Convolutions)
        {
            QuantizedLayer f = block.Filters;
            string x = Image(g, codes ?? h, block.Input);
            string y;
            if (f.HasFloatWeights)
            {
                string input = codes is null ? x : g.Node("Mul", new[] { x, g.Scalar("code_step", codeStep) });
                y = Convolve(g, block, input, g.Floats("weight", f.Weights, Dims(block)), g.Floats("bias", f.Biases, f.Outputs));
            }
            else
            {
                string weights = g.Node("DequantizeLinear", new[] { OnnxNetwork.WeightCodes(g, f, storage, Dims(block)), one, g.Codes("weight_zero_point", new long[] { 0 }, signed: true, sixteen: false) });
                float scale = codes is null ? 1 : codeStep;
                float[] steps = Enumerable.Range(0, f.Outputs).Select(j => (f.WeightSteps.Length == 1 ? f.WeightSteps[0] : f.WeightSteps[j]) * scale).ToArray();
                y = g.Node("Mul", new[] { Convolve(g, block, x, weights, null), g.Floats("weight_scale", steps, 1, f.Outputs, 1, 1) });
                y = g.Node("Add", new[] { y, g.Floats("bias", f.Biases, 1, f.Outputs, 1, 1) });
            }

            y = g.Node("Relu", new[] { Pool(g, block, y) });
            (h, codes) = f.ActivationBits == 32 ? (y, null) : (y, OnnxNetwork.ActivationCodes(g, y, f));
            codeStep = f.ActivationStep;
        }

        string flat = g.Node("Flatten", new[] { codes ?? h }, Int("axis", 1));
        return codes is null ? (flat, null, 1) : (flat, flat, codeStep);
    }

    /// <summary>The textbook QDQ layout: weights dequantized per output channel (axis 0), <c>Conv</c> with the bias, pooling, ReLU, activations quantized and dequantized.</summary>
    public static string Qdq(OnnxGraph g, string h, QuantizedMlp network, OnnxWeightStorage storage)
    {
        foreach (QuantizedConvolution block in network.Convolutions)
        {
            QuantizedLayer f = block.Filters;
            string weights;
            if (f.HasFloatWeights)
            {
                weights = g.Floats("weight", f.Weights, Dims(block));
            }
            else
            {
                bool perChannel = f.WeightSteps.Length > 1;
                long[] dims = perChannel ? new long[] { f.Outputs } : Array.Empty<long>();
                string[] inputs = { OnnxNetwork.WeightCodes(g, f, storage, Dims(block)), g.Floats("weight_scale", f.Steps, dims), g.Codes("weight_zero_point", new long[f.WeightSteps.Length], signed: true, sixteen: false, dims) };
                weights = perChannel ? g.Node("DequantizeLinear", inputs, Int("axis", 0)) : g.Node("DequantizeLinear", inputs);
            }

            string y = Convolve(g, block, Image(g, h, block.Input), weights, g.Floats("bias", f.Biases, f.Outputs));
            h = g.Node("Relu", new[] { Pool(g, block, y) });
            if (f.ActivationBits != 32)
            {
                var (q, zero) = OnnxNetwork.QuantizeActivation(g, h, f);
                h = g.Node("DequantizeLinear", new[] { q, g.Scalar("activation_scale", f.ActivationStep), zero });
            }
        }

        return g.Node("Flatten", new[] { h }, Int("axis", 1));
    }

    /// <summary>The filters' shape: (out, in, k, k).</summary>
    private static long[] Dims(QuantizedConvolution block) => new long[] { block.Filters.Outputs, block.Input.Channels, block.KernelSize, block.KernelSize };

    /// <summary>Rows (or maps) as (N, C, H, W).</summary>
    private static string Image(OnnxGraph g, string x, ImageShape shape) =>
        g.Node("Reshape", new[] { x, g.Int64s("image_shape", new long[] { -1, shape.Channels, shape.Height, shape.Width }, 4) });

    private static string Convolve(OnnxGraph g, QuantizedConvolution block, string x, string weights, string? bias)
    {
        long pad = block.KernelSize / 2;
        string[] inputs = bias is null ? new[] { x, weights } : new[] { x, weights, bias };
        return g.Node("Conv", inputs, Ints("kernel_shape", block.KernelSize, block.KernelSize), Ints("pads", pad, pad, pad, pad), Ints("strides", 1, 1));
    }

    private static string Pool(OnnxGraph g, QuantizedConvolution block, string y) => block.PoolSize == 1 ? y
        : g.Node("MaxPool", new[] { y }, Ints("kernel_shape", block.PoolSize, block.PoolSize), Ints("strides", block.PoolSize, block.PoolSize));
}
