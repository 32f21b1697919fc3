namespace MlRounding;

/// <summary>
/// How a <see cref="QuantizedMlp"/> scores a row, decided once per model: for each layer, what its input is (float
/// values, byte codes, or wider codes), the weights laid out for the integer kernels, and each output's combined scale.
/// </summary>
/// <remarks>
/// The arithmetic, one row at a time, the same on every machine:
/// <list type="bullet">
/// <item>Input: with an input grid, the codes q = clamp(round(x · (1/s)) + z, qmin, qmax) of each feature (a row with a
/// NaN scores NaN: codes cannot carry it); the first layer then takes q - z, worth the model's input step each. Otherwise
/// the features themselves (after an extra rounding layer at position 0, if any).</item>
/// <item>A layer on codes: acc = Σ (q - z) · code, exact (32-bit integer kernels when the codes fit in a byte and the sum
/// cannot overflow, else 64-bit); y = (float)acc · (weight step · code step) + bias, in float32.</item>
/// <item>A layer on float values: Σ w · x in float64 in a fixed order (<see cref="ScoringKernels"/>), rounded to float32
/// (float weights) or multiplied by the weight step in float64 and rounded (integer weights); then + bias.</item>
/// <item>Hidden layers: ReLU, then with an activation grid the codes clamp(round(y / step), 0, 2^bits - 1); the last
/// layer: y · output scale + output shift.</item>
/// <item>An extra rounding layer rounds values: codes become their values (code · step) first.</item>
/// </list>
/// </remarks>
internal sealed partial class ScoringPlan
{
    private readonly QuantizedMlp _model;
    private readonly LayerPlan[] _plans;
    private readonly int _width;

    public ScoringPlan(QuantizedMlp model)
    {
        _model = model;
        var layers = model.Layers;
        var blocks = model.Convolutions;
        _width = new[] { model.FeatureCount, layers[0].Inputs, layers.Max(l => l.Outputs) }.Concat(blocks.Select(b => Math.Max(b.Filters.Inputs, b.Filters.Outputs))).Max();
        _plans = new LayerPlan[layers.Count];
        bool[] roundingAt = new bool[layers.Count + 1];
        foreach (var (position, _) in model.Roundings)
        {
            roundingAt[position] = true;
        }

        _blocks = new LayerPlan[blocks.Count];
        _mapSizes = MapSizes.Of(blocks);
        for (int b = 0; b < blocks.Count; b++)
        {
            _blocks[b] = b == 0 ? InputPlan(model, blocks[0].Filters.Inputs, k => k / (blocks[0].KernelSize * blocks[0].KernelSize) * blocks[0].Input.Plane) : CodesPlan(blocks[b - 1].Filters);
            Prepare(_blocks[b], blocks[b].Filters);
            PrepareInPlace(blocks[b], _blocks[b]);
        }

        for (int l = 0; l < layers.Count; l++)
        {
            var plan = l > 0 ? (roundingAt[l] ? new LayerPlan() : CodesPlan(layers[l - 1]))
                : blocks.Count > 0 ? CodesPlan(blocks[^1].Filters)
                : roundingAt[0] ? new LayerPlan { RoundingBefore = true }
                : InputPlan(model, layers[0].Inputs, k => k);
            plan.RoundingAfter = roundingAt[l + 1];
            Prepare(plan, layers[l]);
            _plans[l] = plan;
        }

        _input = blocks.Count > 0 ? InputPlan(model, model.FeatureCount, k => k) : _plans[0];
    }

    /// <summary>The plan that quantizes the features (the first block's or layer's, or the features' own for a convolutional network).</summary>
    private readonly LayerPlan _input;

    /// <summary>The sizes of the convolutions' buffers.</summary>
    private readonly MapSizes _mapSizes;

    /// <summary>The plans of the convolution blocks' filters.</summary>
    private readonly LayerPlan[] _blocks;

    /// <summary>
    /// A plan whose inputs are the model's input codes (or float features without an input grid): the reciprocal scale
    /// and zero point of input k are the grid's at feature <paramref name="featureOf"/>(k) (a convolution's patch entry
    /// takes its channel's).
    /// </summary>
    private static LayerPlan InputPlan(QuantizedMlp model, int inputs, Func<int, int> featureOf)
    {
        var plan = new LayerPlan();
        if (model.InputGrid is { } grid)
        {
            plan.Input = grid.Range.Min >= 0 && grid.Range.Max <= byte.MaxValue ? Codes.Bytes : Codes.Ints;
            plan.CodeStep = model.InputStep;
            plan.CodeMax = Math.Max(Math.Abs(grid.Range.Min), Math.Abs(grid.Range.Max));
            // Per input (a single-scale grid repeats its one set): 1/s rounded to float32 and z, as AffineGrid computes the codes.
            plan.Inverse = Enumerable.Range(0, inputs).Select(k => 1f / (float)grid.Scales[grid.Scales.Count == 1 ? 0 : featureOf(k)]).ToArray();
            plan.Zeros = Enumerable.Range(0, inputs).Select(k => (int)grid.ZeroPoints[grid.ZeroPoints.Count == 1 ? 0 : featureOf(k)]).ToArray();
            plan.ZeroFloats = Array.ConvertAll(plan.Zeros, z => (float)z);
        }

        return plan;
    }

    /// <summary>A plan whose inputs are the activation codes of <paramref name="previous"/> (float values when its activation is float).</summary>
    private static LayerPlan CodesPlan(QuantizedLayer previous)
    {
        var plan = new LayerPlan();
        if (previous.ActivationBits != 32)
        {
            plan.Input = previous.ActivationMax <= byte.MaxValue ? Codes.Bytes : Codes.Ints;
            plan.CodeStep = previous.ActivationStep;
            plan.CodeMax = previous.ActivationMax;
        }

        return plan;
    }

    /// <summary>The integer kernel's weights, the combined scales and the zero-point corrections of a layer on codes.</summary>
    private static void Prepare(LayerPlan plan, QuantizedLayer layer)
    {
        if (plan.Input != Codes.None && !layer.HasFloatWeights)
        {
            plan.Packed = new PackedLayer(layer);
            plan.Kernel = plan.Input == Codes.Bytes && plan.Packed.Fits(plan.CodeMax);
            plan.Scale = Enumerable.Range(0, layer.Outputs).Select(j => WeightStep(layer, j) * plan.CodeStep).ToArray();
            plan.Correction = plan.Zeros.All(z => z == 0) ? Array.Empty<int>() : Corrections(layer, plan.Zeros);
        }
    }

    /// <summary>What a layer's input is: float values, codes in bytes (<see cref="Scratch.Bytes"/>), or wider codes (<see cref="Scratch.Ints"/>).</summary>
    private enum Codes
    {
        None,
        Bytes,
        Ints,
    }

    /// <summary>The outputs of one row (see the remarks for the arithmetic).</summary>
    public void Row(ReadOnlySpan<float> features, Span<float> output)
    {
        Scratch s = Scratch.For(_width);
        var layers = _model.Layers;
        if (!Input(features, s))
        {
            output.Fill(float.NaN); // integer codes cannot carry a NaN: a row with a missing value scores NaN, as the float path does
            return;
        }

        if (_blocks.Length > 0)
        {
            Convolve(s);
        }

        Span<float> h = s.H.AsSpan(0, layers[0].Inputs);
        for (int l = 0; l < layers.Count; l++)
        {
            QuantizedLayer layer = layers[l];
            LayerPlan plan = _plans[l];
            Span<float> y = (l % 2 == 0 ? s.Y : s.H).AsSpan(0, layer.Outputs);
            Dense(layer, plan, h, s, y);
            if (l + 1 == layers.Count)
            {
                ScaleOutput(y);
            }
            else
            {
                Activate(layer, _plans[l + 1], s, y);
            }

            if (plan.RoundingAfter)
            {
                RoundAt(l + 1, y);
            }

            h = y;
        }

        h.CopyTo(output);
    }

    /// <summary>
    /// Puts the features where the first layer reads them: their input codes in bytes or ints, or their float values
    /// (rounded first by an extra rounding layer at the input) in <see cref="Scratch.H"/>. False when a row quantized to
    /// codes has a NaN.
    /// </summary>
    private bool Input(ReadOnlySpan<float> features, Scratch s)
    {
        LayerPlan first = _input;
        if (first.Input == Codes.Bytes)
        {
            AffineGrid grid = _model.InputGrid!;
            if (!CodeKernels.Quantize(features, s.Bytes, first.Inverse, first.ZeroFloats, grid.Range.Min, grid.Range.Max))
            {
                return false;
            }

            s.Bytes.AsSpan(features.Length).Clear(); // the kernels read whole padded rows
            return true;
        }

        Span<float> h = s.H.AsSpan(0, features.Length);
        features.CopyTo(h);
        if (first.RoundingBefore)
        {
            RoundAt(0, h);
        }
        else if (first.Input == Codes.Ints)
        {
            if (HasNaN(h))
            {
                return false;
            }

            _model.InputGrid!.Codes(h, h);
            ToInts(h, s.Ints);
        }

        return true;
    }

    /// <summary>A layer's outputs before its activation: the byte kernel, the wide integer dot product, or float64 dot products.</summary>
    private void Dense(QuantizedLayer layer, LayerPlan plan, Span<float> h, Scratch s, Span<float> y)
    {
        if (plan.Kernel)
        {
            Span<int> acc = s.Acc.AsSpan(0, layer.Outputs);
            IntegerKernels.Dot(s.Bytes, plan.Packed!, acc);
            CodeKernels.ScaleBias(acc, plan.Correction, plan.Scale, layer.Biases, y);
        }
        else if (plan.Input != Codes.None && !layer.HasFloatWeights)
        {
            WideDot(layer, plan, s, y);
        }
        else
        {
            ReadOnlySpan<double> x = Doubles(h, plan, s);
            double[] weights = layer.WeightsAsDouble;
            int n = layer.Inputs;
            for (int j = 0; j < layer.Outputs; j++)
            {
                double dot = ScoringKernels.Dot(weights.AsSpan(j * n, n), x);
                y[j] = (layer.HasFloatWeights ? (float)dot : (float)(dot * WeightStep(layer, j))) + layer.Biases[j];
            }
        }
    }

    /// <summary>The last layer's output times the output scale plus the shift (regression's standardised targets).</summary>
    private void ScaleOutput(Span<float> y)
    {
        if (_model.OutputScale != 1 || _model.OutputShift != 0)
        {
            for (int j = 0; j < y.Length; j++)
            {
                y[j] = y[j] * _model.OutputScale + _model.OutputShift;
            }
        }
    }

    /// <summary>ReLU, and the activation codes into the buffer the next layer reads (or their values, before an extra rounding layer).</summary>
    private static void Activate(QuantizedLayer layer, LayerPlan next, Scratch s, Span<float> y)
    {
        if (next.Input == Codes.Bytes)
        {
            CodeKernels.ReluCodes(y, s.Bytes, layer.ActivationStep, layer.ActivationMax);
            s.Bytes.AsSpan(y.Length, next.Packed?.Stride - y.Length ?? 0).Clear();
            return;
        }

        if (layer.ActivationBits == 32)
        {
            for (int j = 0; j < y.Length; j++)
            {
                y[j] = Math.Max(y[j], 0);
            }

            return;
        }

        var grid = LsqGrid<float>.Divided(layer.ActivationStep, 0, layer.ActivationMax); // ReLU and the trainer's activation quantizer, one pass
        for (int j = 0; j < y.Length; j++)
        {
            y[j] = grid.ClampedCode(y[j], relu: true);
        }

        if (next.Input == Codes.Ints)
        {
            ToInts(y, s.Ints);
            return;
        }

        for (int j = 0; j < y.Length; j++)
        {
            y[j] *= layer.ActivationStep; // an extra rounding layer follows: it rounds the codes' values (zero point 0 after a ReLU)
        }
    }

    /// <summary>Codes wider than a byte (16-bit activations, wide input grids, sums that could overflow 32 bits): exact 64-bit dot products.</summary>
    private static void WideDot(QuantizedLayer layer, LayerPlan plan, Scratch s, Span<float> y)
    {
        int n = layer.Inputs;
        int[] codes = layer.Codes;
        for (int j = 0; j < layer.Outputs; j++)
        {
            long acc = 0;
            for (int k = 0; k < n; k++)
            {
                long q = (plan.Input == Codes.Bytes ? s.Bytes[k] : s.Ints[k]) - (long)plan.ZeroOf(k);
                acc += q * codes[j * n + k];
            }

            y[j] = (float)acc * (WeightStep(layer, j) * plan.CodeStep) + layer.Biases[j];
        }
    }

    /// <summary>Σ_k z_k · w[j, k] per output: what the zero points add to an integer sum over the codes q (the kernel sums q · w).</summary>
    private static int[] Corrections(QuantizedLayer layer, int[] zeros)
    {
        int n = layer.Inputs;
        var correction = new int[layer.Outputs];
        for (int j = 0; j < correction.Length; j++)
        {
            long sum = 0;
            for (int k = 0; k < n; k++)
            {
                sum += (long)zeros[k] * layer.Codes[j * n + k];
            }

            correction[j] = checked((int)sum);
        }

        return correction;
    }

    private static float WeightStep(QuantizedLayer layer, int j) => layer.Steps.Length == 1 ? layer.Steps[0] : layer.Steps[j];

    /// <summary>The layer input as float64: the values, or (code - zero point) · step computed in float32 first.</summary>
    private static ReadOnlySpan<double> Doubles(ReadOnlySpan<float> h, LayerPlan plan, Scratch s)
    {
        int n = h.Length;
        Span<double> d = s.Doubles.AsSpan(0, n);
        for (int k = 0; k < n; k++)
        {
            d[k] = plan.Input switch
            {
                Codes.None => h[k],
                Codes.Bytes => (s.Bytes[k] - plan.ZeroOf(k)) * plan.CodeStep,
                _ => (s.Ints[k] - plan.ZeroOf(k)) * plan.CodeStep,
            };
        }

        return d;
    }

    private static void ToInts(ReadOnlySpan<float> codes, Span<int> ints)
    {
        for (int k = 0; k < codes.Length; k++)
        {
            ints[k] = (int)codes[k];
        }
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

    private void RoundAt(int position, Span<float> values)
    {
        foreach (var (p, grid) in _model.Roundings)
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

    /// <summary>One layer's part of the plan.</summary>
    private sealed class LayerPlan
    {
        public Codes Input;
        public float CodeStep = 1;
        public int[] Zeros = Array.Empty<int>();
        public float[] ZeroFloats = Array.Empty<float>();
        public float[] Inverse = Array.Empty<float>();
        public long CodeMax;
        public bool RoundingBefore;
        public bool RoundingAfter;
        public bool Kernel;
        public PackedLayer? Packed;
        public PatchRows? Rows; // a block's filters for patches read in place (ScoringPlan.InPlace)
        public float[] TiledScale = Array.Empty<float>(); // Scale, Biases and Correction repeated for a row of pooled positions (ScoringPlan.InPlace)
        public float[] TiledBias = Array.Empty<float>();
        public int[] TiledCorrection = Array.Empty<int>();
        public float[] Scale = Array.Empty<float>();
        public int[] Correction = Array.Empty<int>();

        /// <summary>The zero point of input k (0 after a ReLU).</summary>
        public int ZeroOf(int k) => Zeros.Length == 0 ? 0 : Zeros[k];
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
