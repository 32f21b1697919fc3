using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// A trained network in integer form, scored in plain C# (no LibTorch): each layer's dot product runs on integer weight
/// codes (and, after a quantized activation, integer activation codes, accumulated exactly in 64-bit integers), then is
/// scaled by the steps and offset by the bias. The order of floating-point operations is the one of the trained
/// network's evaluation pass, so predictions match it (no train/deploy mismatch).
/// </summary>
public sealed class QuantizedMlp
{
    private readonly bool[] _roundingAt; // per layer boundary: is there an extra rounding layer
    private readonly int _width; // the widest layer boundary, the size of the scratch buffers
    internal QuantizedMlp(QatTask task, int classes, IReadOnlyList<QuantizedLayer> layers, IReadOnlyList<(int Position, RoundingGrid Grid)>? roundings = null, float inputStep = 0, float outputScale = 1, float outputShift = 0)
    {
        OutputScale = outputScale;
        OutputShift = outputShift;
        Task = task;
        Classes = classes;
        Layers = layers;
        Roundings = roundings ?? Array.Empty<(int, RoundingGrid)>();
        InputStep = inputStep;
        _width = Math.Max(layers[0].Inputs, layers.Max(l => l.Outputs));
        _roundingAt = new bool[layers.Count + 1];
        foreach (var (position, _) in Roundings)
        {
            _roundingAt[position] = true;
        }
    }

    /// <summary>Gets the scale applied to the last layer's output (regression: the training labels' standard deviation; else 1).</summary>
    public float OutputScale { get; }

    /// <summary>Gets the shift added to the scaled output (regression: the training labels' mean; else 0).</summary>
    public float OutputShift { get; }

    /// <summary>Gets the step of the integer input grid (features from a single-scale <c>Quantize</c> transform), or 0 when the input is float.</summary>
    public float InputStep { get; }

    /// <summary>Gets the extra rounding layers: layer boundary (0 input, k after hidden layer k, last = output) and grid.</summary>
    public IReadOnlyList<(int Position, RoundingGrid Grid)> Roundings { get; }

    /// <summary>Gets the task.</summary>
    public QatTask Task { get; }

    /// <summary>Gets the number of classes (multiclass), else 1 or 2.</summary>
    public int Classes { get; }

    /// <summary>Gets the layers, input first.</summary>
    public IReadOnlyList<QuantizedLayer> Layers { get; }

    /// <summary>Gets the number of input features.</summary>
    public int FeatureCount => Layers[0].Inputs;

    /// <summary>Gets the bytes of all parameters as stored.</summary>
    public long ParameterBytes => Layers.Sum(l => l.ParameterBytes);

    /// <summary>Gets the bytes the same network takes with float32 weights and biases.</summary>
    public long FloatParameterBytes => Layers.Sum(l => 4L * (l.Inputs * (long)l.Outputs + l.Outputs));

    /// <summary>
    /// Raw outputs for one row: class logits (multiclass), the logit (binary) or the prediction (regression).
    /// </summary>
    /// <param name="features">The row's features.</param>
    /// <returns>The outputs.</returns>
    /// <exception cref="ArgumentException">The row has the wrong number of features.</exception>
    public float[] Forward(ReadOnlySpan<float> features)
    {
        var output = new float[Layers[^1].Outputs];
        Forward(features, output);
        return output;
    }

    /// <summary>The single output of a regression or binary network (<see cref="Forward(ReadOnlySpan{float}, Span{float})"/> without an output buffer).</summary>
    internal float ForwardScalar(ReadOnlySpan<float> features)
    {
        Span<float> output = stackalloc float[1];
        Forward(features, output);
        return output[0];
    }

    /// <summary>
    /// Raw outputs for one row, written into <paramref name="output"/>, without allocating: the intermediate
    /// activations live in buffers reused per thread, so one model can be scored from many threads.
    /// </summary>
    /// <param name="features">The row's features.</param>
    /// <param name="output">Where to write the outputs (as many as the last layer has).</param>
    /// <exception cref="ArgumentException">The row has the wrong number of features, or the output the wrong length.</exception>
    public void Forward(ReadOnlySpan<float> features, Span<float> output)
    {
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"Expected {FeatureCount} features, got {features.Length}.", nameof(features));
        }

        if (output.Length != Layers[^1].Outputs)
        {
            throw new ArgumentException($"Expected room for {Layers[^1].Outputs} outputs, got {output.Length}.", nameof(output));
        }

        if (_h is null || _h.Length < _width)
        {
            _h = new float[_width];
            _y = new float[_width];
            _codes = new int[_width];
        }

        Span<float> h = _h.AsSpan(0, FeatureCount);
        features.CopyTo(h);
        RoundAt(0, h);
        Span<int> codes = _codes.AsSpan(0, 0);
        float codeStep = 1;
        long codeMax = 0; // the largest code of the current codes when bounded by a grid, 0 when unbounded (input codes)
        if (InputStep > 0 && !_roundingAt[0])
        {
            codes = _codes.AsSpan(0, FeatureCount);
            for (int k = 0; k < h.Length; k++)
            {
                codes[k] = (int)MathF.Round(h[k] / InputStep);
            }

            codeStep = InputStep;
        }

        float[] current = _h, next = _y!;
        for (int l = 0; l < Layers.Count; l++)
        {
            QuantizedLayer layer = Layers[l];
            Span<float> y = next.AsSpan(0, layer.Outputs);
            ReadOnlySpan<double> hd = layer.FloatWeights is not null || codes.IsEmpty ? Doubles(h, codes, codeStep) : default;
            bool int32 = layer.Int32DotFits(codeMax); // once per layer: the bound depends on the layer and the codes only
            for (int j = 0; j < layer.Outputs; j++)
            {
                float step = layer.WeightSteps.Length == 1 ? layer.WeightSteps[0] : layer.WeightSteps[j];
                y[j] = Dot(layer, j, hd, codes, step, codeStep, int32) + layer.Bias[j];
            }

            codes = _codes.AsSpan(0, 0);
            if (l + 1 == Layers.Count && (OutputScale != 1 || OutputShift != 0))
            {
                for (int j = 0; j < y.Length; j++)
                {
                    y[j] = y[j] * OutputScale + OutputShift;
                }
            }

            if (l + 1 < Layers.Count)
            {
                for (int j = 0; j < y.Length; j++)
                {
                    y[j] = Math.Max(y[j], 0);
                }

                if (layer.ActivationBits != 32)
                {
                    codes = _codes.AsSpan(0, y.Length);
                    for (int j = 0; j < y.Length; j++)
                    {
                        codes[j] = (int)Math.Clamp(MathF.Round(y[j] / layer.ActivationStep), 0, layer.ActivationMax);
                    }

                    codeStep = layer.ActivationStep;
                    codeMax = layer.ActivationMax;
                }
            }

            if (_roundingAt[l + 1])
            {
                if (!codes.IsEmpty)
                {
                    for (int j = 0; j < y.Length; j++)
                    {
                        y[j] = codes[j] * codeStep;
                    }

                    codes = _codes.AsSpan(0, 0);
                }

                RoundAt(l + 1, y);
            }

            h = y;
            (current, next) = (next, current);
        }

        h.CopyTo(output);
    }

    [ThreadStatic]
    private static float[]? _h;

    [ThreadStatic]
    private static float[]? _y;

    [ThreadStatic]
    private static int[]? _codes;

    private void RoundAt(int position, Span<float> values)
    {
        foreach (var (p, grid) in Roundings)
        {
            if (p == position)
            {
                for (int j = 0; j < values.Length; j++)
                {
                    values[j] = grid.Round(values[j], j);
                }
            }
        }
    }

    // The same operations as QatNetwork's evaluation forward pass (see there): float inputs meet the weights in a
    // float64 dot product, integer codes meet integer weights in an exact integer dot product scaled by the two steps.
    private static float Dot(QuantizedLayer layer, int row, ReadOnlySpan<double> hd, ReadOnlySpan<int> codes, float weightStep, float codeStep, bool int32)
    {
        int n = layer.Inputs, offset = row * n;
        if (layer.FloatWeights is not null)
        {
            return (float)TensorPrimitives.Dot(layer.WeightsAsDouble.AsSpan(offset, n), hd);
        }

        if (!codes.IsEmpty)
        {
            long acc = int32 ? DotInt32(layer.Codes.AsSpan(offset, n), codes) : DotInt64(layer.Codes.AsSpan(offset, n), codes);
            return (float)acc * (weightStep * codeStep);
        }

        return (float)(TensorPrimitives.Dot(layer.WeightsAsDouble.AsSpan(offset, n), hd) * weightStep);
    }

    [ThreadStatic]
    private static double[]? _inputAsDouble;

    /// <summary>The layer input as float64 (values, or codes times their step in float32 first), in a per-thread buffer.</summary>
    private static ReadOnlySpan<double> Doubles(ReadOnlySpan<float> h, ReadOnlySpan<int> codes, float codeStep)
    {
        int n = codes.IsEmpty ? h.Length : codes.Length;
        if (_inputAsDouble is null || _inputAsDouble.Length < n)
        {
            _inputAsDouble = new double[Math.Max(n, 256)];
        }

        Span<double> d = _inputAsDouble.AsSpan(0, n);
        for (int k = 0; k < n; k++)
        {
            d[k] = codes.IsEmpty ? h[k] : codes[k] * codeStep;
        }

        return d;
    }

    // Exact: the caller has checked (Int32DotFits) that no partial sum can overflow int32.
    private static long DotInt32(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => TensorPrimitives.Dot(a, b);

    private static long DotInt64(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        long acc = 0;
        for (int k = 0; k < a.Length; k++)
        {
            acc += (long)a[k] * b[k];
        }

        return acc;
    }

    /// <summary>Exports a trained network: weight codes packed at their bit width, steps, biases and activation grids.</summary>
    internal static QuantizedMlp FromNetwork(QatNetwork network, QatOptions options, int classes)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var layers = new List<QuantizedLayer>();
        bool quantized = options.Mode != QatMode.Float;
        for (int i = 0; i < network.Layers.Count; i++)
        {
            var linear = network.Layers[i];
            Tensor weight = linear.weight!.detach();
            int outputs = (int)weight.shape[0], inputs = (int)weight.shape[1];
            float[] bias = linear.bias!.detach().data<float>().ToArray();
            int bits = quantized ? options.WeightBits : 32;
            Quantizer? aq = quantized && i < network.ActivationQuantizers.Count && i + 1 < network.Layers.Count ? network.ActivationQuantizers[i] : null;
            int activationBits = aq?.Bits ?? 32;
            float activationStep = aq is null ? 1 : (float)aq.Steps()[0];
            long activationMax = aq?.Range.Max ?? 0;
            if (bits == 32)
            {
                layers.Add(new QuantizedLayer(inputs, outputs, 32, 0, Array.Empty<byte>(), weight.data<float>().ToArray(), new[] { 1f }, bias, activationBits, activationStep, activationMax));
                continue;
            }

            Quantizer wq = network.WeightQuantizers[i];
            int[] codes = wq.Codes(weight).to_type(ScalarType.Int32).data<int>().ToArray();
            float[] steps = wq.Steps().Select(s => (float)s).ToArray();
            byte[] packed = bits == 1
                ? PackedCodes.Pack(codes.Select(c => c > 0 ? 1 : 0).ToArray(), 1, 0)
                : PackedCodes.Pack(codes, bits, wq.Range.Min);
            layers.Add(new QuantizedLayer(inputs, outputs, bits, bits == 1 ? 0 : wq.Range.Min, packed, null, steps, bias, activationBits, activationStep, activationMax));
        }

        return new QuantizedMlp(options.Task, classes, layers, network.Roundings.ToList(), network.InputStep, network.OutputScale, network.OutputShift);
    }
}
