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
    private PackedLayer?[]? _packed; // per layer, the layout of the integer kernels (built on first use)

    /// <summary>Creates a network from its layers; every argument is checked.</summary>
    /// <param name="task">The task: one output (regression, binary) or one per class (multiclass).</param>
    /// <param name="classes">The number of classes: 1 for regression, 2 for binary, at least 2 for multiclass (the last layer's outputs).</param>
    /// <param name="layers">The layers, input first; each takes the previous one's outputs; hidden layers may have an
    /// activation grid, the last layer has none.</param>
    /// <param name="roundings">Extra rounding layers: a layer boundary (0 input, k after hidden layer k, the number of
    /// layers for the output) and its grid; null for none.</param>
    /// <param name="inputGrid">The grid the features are quantized to before the first layer (one scale for all features,
    /// e.g. the grid of a <c>Quantize</c> transform or one learned by the trainer), so the first layer is an integer dot
    /// product too; null for float input.</param>
    /// <param name="outputScale">Positive scale of the last layer's output (regression: the labels' standard deviation).</param>
    /// <param name="outputShift">Shift added after the scale (regression: the labels' mean).</param>
    /// <exception cref="ArgumentException">The layers do not chain, or do not fit the task.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count, position, step, scale or shift is out of its range.</exception>
    public QuantizedMlp(QatTask task, int classes, IReadOnlyList<QuantizedLayer> layers, IReadOnlyList<(int Position, RoundingGrid Grid)>? roundings = null, AffineGrid? inputGrid = null, float outputScale = 1, float outputShift = 0)
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

        if (inputGrid is not null && inputGrid.Scales.Count != 1)
        {
            throw new ArgumentException($"The input grid must have one scale for all features, not {inputGrid.Scales.Count}.", nameof(inputGrid));
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
        InputGrid = inputGrid;
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

    /// <summary>
    /// Gets the grid the features are quantized to before the first layer (codes q = clamp(round(x / s) + z, qmin, qmax),
    /// exactly as the <c>Quantize</c> transform computes them; the first layer then sees the integers q - z), or null when
    /// the first layer takes the float features.
    /// </summary>
    public AffineGrid? InputGrid { get; }

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

        Row(features, output, Scratch.For(_width));
    }

    /// <summary>
    /// Raw outputs of many rows at once, the batch entry point for scoring outside ML.NET: row i's features are
    /// <c>features[i · FeatureCount ..]</c> and its outputs go to <c>outputs[i · OutputCount ..]</c>. The scores are exactly those of
    /// <see cref="Forward(ReadOnlySpan{float}, Span{float})"/> row by row; large batches are split across threads.
    /// </summary>
    /// <param name="features">The rows' features, row-major; a whole number of rows.</param>
    /// <param name="outputs">Where to write the outputs, row-major: <see cref="OutputCount"/> per row.</param>
    /// <param name="maxDegreeOfParallelism">The most threads to use; -1 (the default) for as many as there are cores, 1 for the calling thread only.</param>
    /// <exception cref="ArgumentException">The lengths are not a whole number of rows, or do not agree.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    public unsafe void ForwardBatch(ReadOnlySpan<float> features, Span<float> outputs, int maxDegreeOfParallelism = -1)
    {
        int d = FeatureCount, o = OutputCount;
        if (features.Length % d != 0)
        {
            throw new ArgumentException($"{features.Length} values are not a whole number of rows of {d} features.", nameof(features));
        }

        int rows = features.Length / d;
        if (outputs.Length != (long)rows * o)
        {
            throw new ArgumentException($"Expected room for {(long)rows * o} outputs ({rows} rows of {o}), got {outputs.Length}.", nameof(outputs));
        }

        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "maxDegreeOfParallelism must be positive, or -1 for all cores.");
        }

        int threads = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : maxDegreeOfParallelism;
        int blocks = Math.Min(threads, rows / RowsPerThread);
        if (blocks <= 1)
        {
            Scratch scratch = Scratch.For(_width);
            for (int i = 0; i < rows; i++)
            {
                Row(features.Slice(i * d, d), outputs.Slice(i * o, o), scratch);
            }

            return;
        }

        fixed (float* pf = features, po = outputs)
        {
            nint fp = (nint)pf, op = (nint)po;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = blocks }, b =>
            {
                Scratch scratch = Scratch.For(_width);
                int first = (int)((long)rows * b / blocks), last = (int)((long)rows * (b + 1) / blocks);
                for (int i = first; i < last; i++)
                {
                    Row(new ReadOnlySpan<float>((float*)fp + (long)i * d, d), new Span<float>((float*)op + (long)i * o, o), scratch);
                }
            });
        }
    }

    /// <summary>Gets the number of raw outputs per row (classes for multiclass, else 1).</summary>
    public int OutputCount => Layers[^1].Outputs;

    /// <summary>Below this many rows per thread a batch stays on the calling thread.</summary>
    private const int RowsPerThread = 512;

    /// <summary>
    /// The forward pass of one row. Each layer's input is either float values or integer codes with a step and a zero
    /// point; codes that fit in a byte go through <see cref="IntegerKernels"/> (exact 32-bit sums, the same on every
    /// instruction set), wider codes through an exact 64-bit loop, float values through float64 sums in a fixed order
    /// (<see cref="ScoringKernels"/>). A dot product of codes becomes y = (float)acc · (weight step · code step) + bias
    /// in float32; a float one y = (float)(Σ w x) [· weight step] + bias.
    /// </summary>
    private void Row(ReadOnlySpan<float> features, Span<float> output, Scratch s)
    {
        Span<float> h = s.H.AsSpan(0, FeatureCount);
        features.CopyTo(h);
        RoundAt(0, h);
        var input = Codes.None;
        float codeStep = 1;
        int zero = 0;
        long codeMax = 0;
        if (InputGrid is { } grid && !_roundingAt[0])
        {
            if (HasNaN(h))
            {
                output.Fill(float.NaN); // integer codes cannot carry a NaN: a row with a missing value scores NaN, as the float path does
                return;
            }

            codeStep = (float)grid.Scales[0];
            zero = (int)grid.ZeroPoints[0];
            codeMax = grid.Range.Max;
            (_inputCodes ??= grid.CreateRounder<float>(codes: true)).Dense(h, h); // the codes q, as floats
            input = SetCodes(h, s, grid.Range.Min >= 0 && grid.Range.Max <= byte.MaxValue);
        }

        for (int l = 0; l < Layers.Count; l++)
        {
            QuantizedLayer layer = Layers[l];
            Span<float> y = (l % 2 == 0 ? s.Y : s.H).AsSpan(0, layer.Outputs);
            if (input != Codes.None && !layer.HasFloatWeights)
            {
                Span<int> acc = s.Acc.AsSpan(0, layer.Outputs);
                PackedLayer packed = Packed(l);
                if (input == Codes.Bytes && packed.Fits(codeMax))
                {
                    IntegerKernels.Dot(s.Bytes, packed, acc);
                    for (int j = 0; j < acc.Length; j++)
                    {
                        acc[j] -= zero * packed.RowSums[j];
                    }

                    Scale(layer, acc, y, codeStep);
                }
                else
                {
                    WideDot(layer, s, input, zero, codeStep, y);
                }
            }
            else
            {
                ReadOnlySpan<double> x = Doubles(h, input, s, zero, codeStep);
                double[] weights = layer.WeightsAsDouble;
                int n = layer.Inputs;
                for (int j = 0; j < layer.Outputs; j++)
                {
                    double dot = ScoringKernels.Dot(weights.AsSpan(j * n, n), x);
                    y[j] = (layer.HasFloatWeights ? (float)dot : (float)(dot * Step(layer, j))) + layer.Biases[j];
                }
            }

            input = Codes.None;
            zero = 0;
            if (l + 1 == Layers.Count)
            {
                if (OutputScale != 1 || OutputShift != 0)
                {
                    for (int j = 0; j < y.Length; j++)
                    {
                        y[j] = y[j] * OutputScale + OutputShift;
                    }
                }
            }
            else
            {
                for (int j = 0; j < y.Length; j++)
                {
                    y[j] = Math.Max(y[j], 0);
                }

                if (layer.ActivationBits != 32)
                {
                    float step = layer.ActivationStep;
                    for (int j = 0; j < y.Length; j++)
                    {
                        y[j] = Math.Clamp(MathF.Round(y[j] / step), 0, layer.ActivationMax);
                    }

                    codeStep = step;
                    codeMax = layer.ActivationMax;
                    input = SetCodes(y, s, layer.ActivationMax <= byte.MaxValue);
                }
            }

            if (_roundingAt[l + 1])
            {
                if (input != Codes.None)
                {
                    for (int j = 0; j < y.Length; j++)
                    {
                        y[j] *= codeStep; // an extra rounding layer works on values: the codes' values first (zero point 0 after a ReLU)
                    }

                    input = Codes.None;
                }

                RoundAt(l + 1, y);
            }

            h = y;
        }

        h.CopyTo(output);
    }

    private static bool HasNaN(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (float.IsNaN(v))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What the current layer input is: float values, codes in bytes (<see cref="Scratch.Bytes"/>), or wider codes (<see cref="Scratch.Ints"/>).</summary>
    private enum Codes
    {
        None,
        Bytes,
        Ints,
    }

    /// <summary>Integer codes held as floats in <paramref name="values"/> into the scratch code buffer of their width.</summary>
    private static Codes SetCodes(ReadOnlySpan<float> values, Scratch s, bool fitsByte)
    {
        if (fitsByte)
        {
            Span<byte> bytes = s.Bytes;
            bytes.Clear(); // the padding of the kernels' rows stays zero
            for (int k = 0; k < values.Length; k++)
            {
                bytes[k] = (byte)values[k];
            }

            return Codes.Bytes;
        }

        Span<int> ints = s.Ints.AsSpan(0, values.Length);
        for (int k = 0; k < values.Length; k++)
        {
            ints[k] = (int)values[k];
        }

        return Codes.Ints;
    }

    /// <summary>Codes wider than a byte (16-bit activations, or sums that could overflow 32 bits): exact 64-bit dot products.</summary>
    private static void WideDot(QuantizedLayer layer, Scratch s, Codes input, int zero, float codeStep, Span<float> y)
    {
        int n = layer.Inputs;
        int[] codes = layer.Codes;
        for (int j = 0; j < layer.Outputs; j++)
        {
            long acc = 0;
            for (int k = 0; k < n; k++)
            {
                long q = (input == Codes.Bytes ? s.Bytes[k] : s.Ints[k]) - (long)zero;
                acc += q * codes[j * n + k];
            }

            y[j] = (float)acc * (Step(layer, j) * codeStep) + layer.Biases[j];
        }
    }

    /// <summary>y = (float)acc · (weight step · code step) + bias, in float32.</summary>
    private static void Scale(QuantizedLayer layer, ReadOnlySpan<int> acc, Span<float> y, float codeStep)
    {
        float[] steps = layer.Steps, bias = layer.Biases;
        for (int j = 0; j < y.Length; j++)
        {
            y[j] = acc[j] * ((steps.Length == 1 ? steps[0] : steps[j]) * codeStep) + bias[j];
        }
    }

    private static float Step(QuantizedLayer layer, int j) => layer.Steps.Length == 1 ? layer.Steps[0] : layer.Steps[j];

    /// <summary>The layer input as float64: the values, or (code - zero point) · step computed in float32 first.</summary>
    private static ReadOnlySpan<double> Doubles(ReadOnlySpan<float> h, Codes input, Scratch s, int zero, float codeStep)
    {
        Span<double> d = s.Doubles.AsSpan(0, h.Length);
        for (int k = 0; k < h.Length; k++)
        {
            d[k] = input switch
            {
                Codes.None => h[k],
                Codes.Bytes => (s.Bytes[k] - zero) * codeStep,
                _ => (s.Ints[k] - zero) * codeStep,
            };
        }

        return d;
    }

    private PackedLayer Packed(int layer)
    {
        var packed = _packed ??= new PackedLayer?[Layers.Count];
        return packed[layer] ??= new PackedLayer(Layers[layer]);
    }

    private SpanRounder<float>? _inputCodes;

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

    /// <summary>The buffers of one thread's forward passes, grown to the widest network it has scored.</summary>
    private sealed class Scratch
    {
        [ThreadStatic]
        private static Scratch? _current;

        private Scratch(int width)
        {
            H = new float[width];
            Y = new float[width];
            Ints = new int[width];
            Acc = new int[width];
            Doubles = new double[width];
            Bytes = new byte[(width + 31) / 32 * 32];
        }

        public float[] H { get; }

        public float[] Y { get; }

        public int[] Ints { get; }

        public int[] Acc { get; }

        public double[] Doubles { get; }

        public byte[] Bytes { get; }

        public static Scratch For(int width) =>
            _current is { } s && s.H.Length >= width ? s : _current = new Scratch(width);
    }
}
