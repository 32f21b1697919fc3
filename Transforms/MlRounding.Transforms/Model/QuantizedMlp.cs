using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MlRounding;

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

    /// <summary>Creates a network from its layers; every argument is checked.</summary>
    /// <param name="task">The task: one output (regression, binary) or one per class (multiclass).</param>
    /// <param name="classes">The number of classes: 1 for regression, 2 for binary, at least 2 for multiclass (the last layer's outputs).</param>
    /// <param name="layers">The layers, input first; each takes the previous one's outputs; hidden layers may have an
    /// activation grid, the last layer has none.</param>
    /// <param name="roundings">Extra rounding layers: a layer boundary (0 input, k after hidden layer k, the number of
    /// layers for the output) and its grid; null for none.</param>
    /// <param name="inputStep">The step of an integer input grid (features from a single-scale <c>Quantize</c> transform), or 0 for float input.</param>
    /// <param name="outputScale">Positive scale of the last layer's output (regression: the labels' standard deviation).</param>
    /// <param name="outputShift">Shift added after the scale (regression: the labels' mean).</param>
    /// <exception cref="ArgumentException">The layers do not chain, or do not fit the task.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count, position, step, scale or shift is out of its range.</exception>
    public QuantizedMlp(QatTask task, int classes, IReadOnlyList<QuantizedLayer> layers, IReadOnlyList<(int Position, RoundingGrid Grid)>? roundings = null, float inputStep = 0, float outputScale = 1, float outputShift = 0)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (!Enum.IsDefined(task))
        {
            throw new ArgumentOutOfRangeException(nameof(task), task, "task must be Regression, BinaryClassification or MulticlassClassification.");
        }

        if (layers.Count < 1 || layers.Count > MaxLayers)
        {
            throw new ArgumentOutOfRangeException(nameof(layers), layers.Count, $"A network has 1 to {MaxLayers} layers.");
        }

        for (int i = 0; i < layers.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(layers[i], $"layers[{i}]");
            if (i > 0 && layers[i].Inputs != layers[i - 1].Outputs)
            {
                throw new ArgumentException($"Layer {i} takes {layers[i].Inputs} inputs but layer {i - 1} has {layers[i - 1].Outputs} outputs.", nameof(layers));
            }
        }

        if (layers[^1].ActivationBits != 32)
        {
            throw new ArgumentException("The last layer has no activation grid (its ActivationBits must be 32).", nameof(layers));
        }

        int expectedClasses = task switch { QatTask.Regression => 1, QatTask.BinaryClassification => 2, _ => layers[^1].Outputs };
        int expectedOutputs = task == QatTask.MulticlassClassification ? classes : 1;
        if (classes != expectedClasses || layers[^1].Outputs != expectedOutputs || (task == QatTask.MulticlassClassification && (classes < 2 || classes > MaxClasses)))
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"A {task} network has {(task == QatTask.MulticlassClassification ? $"2 to {MaxClasses} classes, one output each" : $"{expectedClasses} class(es) and one output")}; the last layer has {layers[^1].Outputs} outputs.");
        }

        var extra = roundings?.ToArray() ?? Array.Empty<(int, RoundingGrid)>();
        if (extra.Length > MaxRoundings)
        {
            throw new ArgumentOutOfRangeException(nameof(roundings), extra.Length, $"At most {MaxRoundings} extra rounding layers.");
        }

        foreach (var (position, grid) in extra)
        {
            ArgumentNullException.ThrowIfNull(grid, nameof(roundings));
            if (position < 0 || position > layers.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(roundings), position, $"A rounding layer's position is a layer boundary in [0, {layers.Count}].");
            }

            int width = position == 0 ? layers[0].Inputs : layers[position - 1].Outputs;
            if (grid.SlotCount > 0 && grid.SlotCount != width)
            {
                throw new ArgumentException($"The rounding layer at position {position} has {grid.SlotCount} slots; the boundary has {width} values.", nameof(roundings));
            }
        }

        if (!(inputStep >= 0 && float.IsFinite(inputStep)))
        {
            throw new ArgumentOutOfRangeException(nameof(inputStep), inputStep, "inputStep must be 0 (float input) or positive and finite.");
        }

        if (!(outputScale > 0 && float.IsFinite(outputScale)))
        {
            throw new ArgumentOutOfRangeException(nameof(outputScale), outputScale, "outputScale must be positive and finite.");
        }

        if (!float.IsFinite(outputShift))
        {
            throw new ArgumentOutOfRangeException(nameof(outputShift), outputShift, "outputShift must be finite.");
        }

        Task = task;
        Classes = classes;
        Layers = layers.ToArray();
        Roundings = extra;
        InputStep = inputStep;
        OutputScale = outputScale;
        OutputShift = outputShift;
        _width = Math.Max(layers[0].Inputs, layers.Max(l => l.Outputs));
        _roundingAt = new bool[layers.Count + 1];
        foreach (var (position, _) in extra)
        {
            _roundingAt[position] = true;
        }
    }

    internal const int MaxLayers = 64;
    internal const int MaxClasses = 65536;
    internal const int MaxRoundings = 16;

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
            ReadOnlySpan<double> hd = layer.HasFloatWeights || codes.IsEmpty ? Doubles(h, codes, codeStep) : default;
            bool int32 = layer.Int32DotFits(codeMax); // once per layer: the bound depends on the layer and the codes only
            for (int j = 0; j < layer.Outputs; j++)
            {
                float step = layer.Steps.Length == 1 ? layer.Steps[0] : layer.Steps[j];
                y[j] = Dot(layer, j, hd, codes, step, codeStep, int32) + layer.Biases[j];
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
        if (layer.HasFloatWeights)
        {
            return (float)ScoringKernels.Dot(layer.WeightsAsDouble.AsSpan(offset, n), hd);
        }

        if (!codes.IsEmpty)
        {
            long acc = int32 ? DotInt32(layer.Codes.AsSpan(offset, n), codes) : DotInt64(layer.Codes.AsSpan(offset, n), codes);
            return (float)acc * (weightStep * codeStep);
        }

        return (float)(ScoringKernels.Dot(layer.WeightsAsDouble.AsSpan(offset, n), hd) * weightStep);
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
}
