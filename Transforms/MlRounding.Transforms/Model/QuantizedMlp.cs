namespace MlRounding;

/// <summary>
/// A trained network in integer form, scored in plain C# (no LibTorch): each layer's dot product runs on integer weight
/// codes (and, after a quantized activation, integer activation codes, accumulated exactly in 64-bit integers), then is
/// scaled by the steps and offset by the bias. The order of floating-point operations is the one of the trained
/// network's evaluation pass, so predictions match it (no train/deploy mismatch).
/// </summary>
public sealed class QuantizedMlp
{
    private ScoringPlan? _plan;

    /// <summary>Creates a network from its layers; every argument is checked.</summary>
    /// <param name="task">The task: one output (regression, binary) or one per class (multiclass).</param>
    /// <param name="classes">The number of classes: 1 for regression, 2 for binary, at least 2 for multiclass (the last layer's outputs).</param>
    /// <param name="layers">The layers, input first; each takes the previous one's outputs; hidden layers may have an
    /// activation grid, the last layer has none.</param>
    /// <param name="roundings">Extra rounding layers: a layer boundary (0 input, k after hidden layer k, the number of
    /// layers for the output) and its grid; null for none.</param>
    /// <param name="inputGrid">The grid the features are quantized to before the first layer (one scale for all features,
    /// e.g. the grid of a <c>Quantize</c> transform, or one per feature, e.g. fitted by the trainer), so the first layer is
    /// an integer dot product too; null for float input.</param>
    /// <param name="inputStep">What one input code is worth to the first layer, which sees (q - z) · inputStep: 0 means the
    /// grid's own scale (single-scale grids only: the dequantized value); required for a per-feature grid.</param>
    /// <param name="outputScale">Positive scale of the last layer's output (regression: the labels' standard deviation).</param>
    /// <param name="outputShift">Shift added after the scale (regression: the labels' mean).</param>
    /// <exception cref="ArgumentException">The layers do not chain, or do not fit the task.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count, position, step, scale or shift is out of its range.</exception>
    public QuantizedMlp(QatTask task, int classes, IReadOnlyList<QuantizedLayer> layers, IReadOnlyList<(int Position, RoundingGrid Grid)>? roundings = null, AffineGrid? inputGrid = null, float inputStep = 0, float outputScale = 1, float outputShift = 0)
        : this(task, classes, Array.Empty<QuantizedConvolution>(), layers, roundings, inputGrid, inputStep, outputScale, outputShift)
    {
    }

    /// <summary>Creates a convolutional network: convolution blocks on an image-shaped input, then dense layers; every argument is checked.</summary>
    /// <param name="task">The task: one output (regression, binary) or one per class (multiclass).</param>
    /// <param name="classes">The number of classes: 1 for regression, 2 for binary, at least 2 for multiclass (the last layer's outputs).</param>
    /// <param name="convolutions">The convolution blocks, 1 to 16, input first; each takes the previous one's output
    /// shape; the first one's input shape is the network's (<see cref="InputShape"/>).</param>
    /// <param name="layers">The dense layers; the first takes the last block's output, flattened channel-planar.</param>
    /// <param name="inputGrid">The grid the image's values are quantized to before the first block, with one scale and
    /// zero point per channel (a convolution shares its weights across positions: one slot per pixel must repeat its
    /// channel's), or a single scale; null for float input.</param>
    /// <param name="inputStep">What one input code is worth to the first block (see the other constructor).</param>
    /// <param name="outputScale">Positive scale of the last layer's output (regression: the labels' standard deviation).</param>
    /// <param name="outputShift">Shift added after the scale (regression: the labels' mean).</param>
    /// <exception cref="ArgumentException">The blocks or layers do not chain, or do not fit the task; the input grid differs within a channel.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count, step, scale or shift is out of its range.</exception>
    public QuantizedMlp(QatTask task, int classes, IReadOnlyList<QuantizedConvolution> convolutions, IReadOnlyList<QuantizedLayer> layers, AffineGrid? inputGrid = null, float inputStep = 0, float outputScale = 1, float outputShift = 0)
        : this(task, classes, convolutions, layers, null, inputGrid, inputStep, outputScale, outputShift)
    {
        if (convolutions.Count == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(convolutions), 0, $"A convolutional network has 1 to {MaxConvolutions} convolution blocks.");
        }
    }

    private QuantizedMlp(QatTask task, int classes, IReadOnlyList<QuantizedConvolution> convolutions, IReadOnlyList<QuantizedLayer> layers, IReadOnlyList<(int Position, RoundingGrid Grid)>? roundings, AffineGrid? inputGrid, float inputStep, float outputScale, float outputShift)
    {
        CheckLayers(task, classes, layers);
        var blocks = CheckConvolutions(convolutions, layers[0].Inputs);
        var extra = roundings?.ToArray() ?? Array.Empty<(int, RoundingGrid)>();
        if (extra.Length > 0 && blocks.Length > 0)
        {
            throw new ArgumentException("A convolutional network has no extra rounding layers.", nameof(roundings));
        }

        CheckRoundings(extra, layers);
        int features = blocks.Length > 0 ? blocks[0].Input.Size : layers[0].Inputs;
        CheckInputAndOutput(features, inputGrid, inputStep, outputScale, outputShift);
        if (blocks.Length > 0 && inputGrid is { SlotCount: > 0 })
        {
            CheckChannelGrid(inputGrid, blocks[0].Input);
        }

        Task = task;
        Classes = classes;
        Convolutions = blocks;
        Layers = layers.ToArray();
        Roundings = extra;
        InputGrid = inputGrid;
        InputStep = inputGrid is null ? 0 : inputStep > 0 ? inputStep : (float)inputGrid.Scales[0];
        OutputScale = outputScale;
        OutputShift = outputShift;
    }

    /// <summary>Checks the task, that the layers chain, and that the last layer has no activation grid and fits the classes.</summary>
    private static void CheckLayers(QatTask task, int classes, IReadOnlyList<QuantizedLayer> layers)
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
    }

    /// <summary>Checks that the blocks chain into the first dense layer; returns them.</summary>
    private static QuantizedConvolution[] CheckConvolutions(IReadOnlyList<QuantizedConvolution> convolutions, int denseInputs)
    {
        ArgumentNullException.ThrowIfNull(convolutions);
        if (convolutions.Count > MaxConvolutions)
        {
            throw new ArgumentOutOfRangeException(nameof(convolutions), convolutions.Count, $"A network has at most {MaxConvolutions} convolution blocks.");
        }

        var blocks = convolutions.ToArray();
        for (int i = 0; i < blocks.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(blocks[i], $"convolutions[{i}]");
            if (i > 0 && !blocks[i].Input.Equals(blocks[i - 1].Output))
            {
                throw new ArgumentException($"Convolution block {i} takes {blocks[i].Input} but block {i - 1} gives {blocks[i - 1].Output}.", nameof(convolutions));
            }
        }

        if (blocks.Length > 0 && blocks[^1].Output.Size != denseInputs)
        {
            throw new ArgumentException($"The first dense layer takes {denseInputs} inputs but the last convolution block gives {blocks[^1].Output} = {blocks[^1].Output.Size} values.", "layers");
        }

        return blocks;
    }

    /// <summary>Checks that a per-slot input grid repeats one scale and zero point across each channel's pixels.</summary>
    private static void CheckChannelGrid(AffineGrid grid, ImageShape shape)
    {
        for (int k = 0; k < shape.Size; k++)
        {
            int first = k / shape.Plane * shape.Plane;
            if (grid.Scales[k] != grid.Scales[first] || grid.ZeroPoints[k] != grid.ZeroPoints[first])
            {
                throw new ArgumentException($"The input grid of a convolutional network has one scale and zero point per channel; slot {k} differs from slot {first} of its channel.", "inputGrid");
            }
        }
    }

    /// <summary>Checks the extra rounding layers: their number, positions and slot counts.</summary>
    private static void CheckRoundings((int Position, RoundingGrid Grid)[] extra, IReadOnlyList<QuantizedLayer> layers)
    {
        if (extra.Length > MaxRoundings)
        {
            throw new ArgumentOutOfRangeException("roundings", extra.Length, $"At most {MaxRoundings} extra rounding layers.");
        }

        foreach (var (position, grid) in extra)
        {
            ArgumentNullException.ThrowIfNull(grid, "roundings");
            if (position < 0 || position > layers.Count)
            {
                throw new ArgumentOutOfRangeException("roundings", position, $"A rounding layer's position is a layer boundary in [0, {layers.Count}].");
            }

            int width = position == 0 ? layers[0].Inputs : layers[position - 1].Outputs;
            if (grid.SlotCount > 0 && grid.SlotCount != width)
            {
                throw new ArgumentException($"The rounding layer at position {position} has {grid.SlotCount} slots; the boundary has {width} values.", "roundings");
            }
        }
    }

    private static void CheckInputAndOutput(int inputs, AffineGrid? inputGrid, float inputStep, float outputScale, float outputShift)
    {
        if (inputGrid is not null && inputGrid.Scales.Count != 1 && inputGrid.Scales.Count != inputs)
        {
            throw new ArgumentException($"The input grid must have one scale, or one per feature ({inputs}), not {inputGrid.Scales.Count}.", nameof(inputGrid));
        }

        if (!(inputStep >= 0 && float.IsFinite(inputStep)) || (inputStep == 0 && inputGrid is { SlotCount: > 0 }))
        {
            throw new ArgumentOutOfRangeException(nameof(inputStep), inputStep, "inputStep must be positive and finite, or 0 for the scale of a single-scale input grid.");
        }

        if (!(outputScale > 0 && float.IsFinite(outputScale)))
        {
            throw new ArgumentOutOfRangeException(nameof(outputScale), outputScale, "outputScale must be positive and finite.");
        }

        if (!float.IsFinite(outputShift))
        {
            throw new ArgumentOutOfRangeException(nameof(outputShift), outputShift, "outputShift must be finite.");
        }
    }

    internal const int MaxLayers = 64;
    internal const int MaxClasses = 65536;
    internal const int MaxRoundings = 16;
    internal const int MaxConvolutions = 16;

    /// <summary>Gets the convolution blocks before the dense layers, input first; empty for a dense network.</summary>
    public IReadOnlyList<QuantizedConvolution> Convolutions { get; }

    /// <summary>Gets the shape of the image-shaped input of a convolutional network (the first block's input), or null for a dense network.</summary>
    public ImageShape? InputShape => Convolutions.Count > 0 ? Convolutions[0].Input : null;

    /// <summary>Gets the scale applied to the last layer's output (regression: the training labels' standard deviation; else 1).</summary>
    public float OutputScale { get; }

    /// <summary>Gets the shift added to the scaled output (regression: the training labels' mean; else 0).</summary>
    public float OutputShift { get; }

    /// <summary>
    /// Gets the grid the features are quantized to before the first layer (codes q = clamp(round(x / s) + z, qmin, qmax)
    /// per feature, exactly as the <c>Quantize</c> transform computes them; the first layer then sees the integers q - z,
    /// worth <see cref="InputStep"/> each), or null when the first layer takes the float features.
    /// </summary>
    public AffineGrid? InputGrid { get; }

    /// <summary>
    /// Gets what one input code is worth to the first layer: it sees (q - z) · InputStep for the codes q and zero points z
    /// of <see cref="InputGrid"/> (the grid's scale for a single-scale grid fed by a <c>Quantize</c> transform; 1 /
    /// (2^bits - 1) for the per-feature grid the trainer fits, which normalizes each feature to [-1, 1]); 0 without an
    /// input grid.
    /// </summary>
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
    public int FeatureCount => InputShape?.Size ?? Layers[0].Inputs;

    /// <summary>Gets the bytes of all parameters as stored.</summary>
    public long ParameterBytes => Convolutions.Sum(c => c.ParameterBytes) + Layers.Sum(l => l.ParameterBytes);

    /// <summary>Gets the bytes the same network takes with float32 weights and biases.</summary>
    public long FloatParameterBytes => Convolutions.Select(c => c.Filters).Concat(Layers).Sum(l => 4L * (l.Inputs * (long)l.Outputs + l.Outputs));

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

        Plan.Row(features, output);
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
        ScoringPlan plan = Plan;
        if (blocks <= 1)
        {
            for (int i = 0; i < rows; i++)
            {
                plan.Row(features.Slice(i * d, d), outputs.Slice(i * o, o));
            }

            return;
        }

        fixed (float* pf = features, po = outputs)
        {
            nint fp = (nint)pf, op = (nint)po;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = blocks }, b =>
            {
                int first = (int)((long)rows * b / blocks), last = (int)((long)rows * (b + 1) / blocks);
                for (int i = first; i < last; i++)
                {
                    plan.Row(new ReadOnlySpan<float>((float*)fp + (long)i * d, d), new Span<float>((float*)op + (long)i * o, o));
                }
            });
        }
    }

    /// <summary>How rows are scored (see <see cref="ScoringPlan"/>), built on first use.</summary>
    private ScoringPlan Plan => _plan ??= new ScoringPlan(this);

    /// <summary>Gets the number of raw outputs per row (classes for multiclass, else 1).</summary>
    public int OutputCount => Layers[^1].Outputs;

    /// <summary>Below this many rows per thread a batch stays on the calling thread.</summary>
    private const int RowsPerThread = 512;
}
