using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// The trained weights and quantization parameters of a <see cref="QuantizedMlp"/> as a safetensors file (written and
/// read by TorchSharp.PyBridge), so that PyTorch users can load them with <c>safetensors.torch.load_file</c>. Tensors,
/// per layer i (0-based): <c>layers.i.weight_codes</c> (int8 [out, in], the integer weights; 1-bit weights are −1/+1) and
/// <c>layers.i.weight_scale</c> (float32 [out] or [1]; the weight is codes · scale per output row), or
/// <c>layers.i.weight</c> (float32 [out, in]) for float layers; <c>layers.i.bias</c> (float32 [out]);
/// <c>layers.i.weight_bits</c>, <c>layers.i.weight_code_min</c>, <c>layers.i.activation_bits</c>,
/// <c>layers.i.activation_max</c> (int64 scalars) and <c>layers.i.activation_scale</c> (float32 scalar; the ReLU output
/// is clamp(round(y / scale), 0, activation_max) · scale). Model: <c>task</c> (0 regression, 1 binary, 2 multiclass),
/// <c>classes</c> (int64), <c>output_scale</c>, <c>output_shift</c> (float32; output = y · scale + shift); the input grid
/// <c>input_scale</c> (float32 [1] or one per feature; [0] for float input), <c>input_zero_point</c> (int64, as many),
/// <c>input_code_min</c>, <c>input_code_max</c>, <c>input_bits</c> (int64) and <c>input_step</c> (float32): the first
/// layer sees (clamp(round(x / scale) + zero_point, min, max) - zero_point) · input_step.
/// Convolution blocks, per block i: the same tensors under <c>convolutions.i.</c>, the codes or weights shaped as
/// PyTorch's <c>Conv2d</c> weight (int8 or float32 [out, in, k, k]), and <c>convolutions.i.input_shape</c> (int64
/// [channels, height, width]), <c>convolutions.i.kernel_size</c>, <c>convolutions.i.pool_size</c> (int64 scalars).
/// Models with extra rounding layers are not supported (their grids are not tensors).
/// </summary>
public static class QuantizedMlpSafetensors
{
    /// <summary>Writes the network's tensors to a safetensors file (a temporary name, then moved into place).</summary>
    /// <param name="network">The trained network.</param>
    /// <param name="path">The .safetensors file.</param>
    /// <exception cref="NotSupportedException">The network has extra rounding layers.</exception>
    public static void SaveSafetensors(this QuantizedMlp network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (network.Roundings.Count > 0)
        {
            throw new NotSupportedException("A network with extra rounding layers (QatOptions.RoundingLayers) cannot be saved as safetensors: its grids are not tensors. Export it to ONNX instead.");
        }

        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>
        {
            ["task"] = tensor((long)network.Task),
            ["classes"] = tensor((long)network.Classes),
            ["input_scale"] = tensor(network.InputGrid?.Scales.Select(v => (float)v).ToArray() ?? new[] { 0f }),
            ["input_zero_point"] = tensor(network.InputGrid?.ZeroPoints.ToArray() ?? new[] { 0L }),
            ["input_step"] = tensor(network.InputStep),
            ["input_code_min"] = tensor(network.InputGrid?.Range.Min ?? 0L),
            ["input_code_max"] = tensor(network.InputGrid?.Range.Max ?? 0L),
            ["input_bits"] = tensor((long)(network.InputGrid?.Bits ?? 32)),
            ["output_scale"] = tensor(network.OutputScale),
            ["output_shift"] = tensor(network.OutputShift),
        };
        for (int i = 0; i < network.Layers.Count; i++)
        {
            QuantizedLayer l = network.Layers[i];
            AddLayer(state, $"layers.{i}.", l, l.Outputs, l.Inputs);
        }

        for (int i = 0; i < network.Convolutions.Count; i++)
        {
            QuantizedConvolution c = network.Convolutions[i];
            string p = $"convolutions.{i}.";
            AddLayer(state, p, c.Filters, c.Filters.Outputs, c.Input.Channels, c.KernelSize, c.KernelSize);
            state[p + "input_shape"] = tensor(new long[] { c.Input.Channels, c.Input.Height, c.Input.Width });
            state[p + "kernel_size"] = tensor((long)c.KernelSize);
            state[p + "pool_size"] = tensor((long)c.PoolSize);
        }

        using var written = new MemoryStream();
        Safetensors.SaveStateDict(written, state, leaveOpen: true);
        byte[] file = SafetensorsHeader.Aligned(written.ToArray());
        AtomicFile.Write(path, (Stream stream) => stream.Write(file));
    }

    /// <summary>A layer's tensors under the prefix <paramref name="p"/>: weights (codes and scales, or floats) shaped <paramref name="dims"/>, bias, bits and activation grid.</summary>
    private static void AddLayer(Dictionary<string, Tensor> state, string p, QuantizedLayer l, params long[] dims)
    {
        if (l.HasFloatWeights)
        {
            state[p + "weight"] = tensor(l.FloatWeights.ToArray(), dims);
        }
        else
        {
            state[p + "weight_codes"] = tensor(l.WeightCodes.Select(c => (sbyte)c).ToArray(), dims);
            state[p + "weight_scale"] = tensor(l.WeightSteps.ToArray());
        }

        state[p + "bias"] = tensor(l.Bias.ToArray());
        state[p + "weight_bits"] = tensor((long)l.WeightBits);
        state[p + "weight_code_min"] = tensor(SmallestCode(l.WeightBits));
        state[p + "activation_bits"] = tensor((long)l.ActivationBits);
        state[p + "activation_scale"] = tensor(l.ActivationStep);
        state[p + "activation_max"] = tensor(l.ActivationMax);
    }

    /// <summary>Reads a network written by <see cref="SaveSafetensors"/> (or by PyTorch in the same layout).</summary>
    /// <param name="path">The .safetensors file.</param>
    /// <returns>The network; it scores exactly as the one saved.</returns>
    /// <exception cref="ModelFormatException">
    /// The file breaks the safetensors container's rules (header length, JSON, dtypes, offsets), or a tensor is missing,
    /// has the wrong type or shape, or holds a value the network rejects.
    /// </exception>
    public static QuantizedMlp LoadSafetensors(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Load(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads a network from the bytes of a safetensors file (<paramref name="path"/> names it in messages).</summary>
    internal static QuantizedMlp Load(byte[] bytes, string path)
    {
        SafetensorsHeader.Check(bytes, path); // before PyBridge parses anything
        using var scope = NewDisposeScope();
        var state = new StateReader(Safetensors.LoadStateDict(new MemoryStream(bytes, writable: false)), path);
        try
        {
            var layers = new List<QuantizedLayer>();
            for (int i = 0; state.Has($"layers.{i}.bias"); i++)
            {
                layers.Add(state.Layer($"layers.{i}."));
            }

            if (layers.Count == 0)
            {
                throw new ModelFormatException($"'{path}' holds no layers (expected tensors layers.0.bias, ...).");
            }

            var blocks = new List<QuantizedConvolution>();
            for (int i = 0; state.Has($"convolutions.{i}.bias"); i++)
            {
                blocks.Add(state.Convolution($"convolutions.{i}."));
            }

            AffineGrid? inputGrid = state.InputGrid();
            var (task, classes) = ((QatTask)state.Long("task"), (int)state.Long("classes"));
            return blocks.Count > 0
                ? new QuantizedMlp(task, classes, blocks, layers, inputGrid, state.Float("input_step"), state.Float("output_scale"), state.Float("output_shift"))
                : new QuantizedMlp(task, classes, layers, null, inputGrid, state.Float("input_step"), state.Float("output_scale"), state.Float("output_shift"));
        }
        catch (ArgumentException e)
        {
            // A tensor holds a value the network rejects (a code outside its bit width, a step that is not positive...).
            throw new ModelFormatException($"'{path}': {e.Message}", e);
        }
    }

    /// <summary>Typed reads of a state dictionary, each failing with a <see cref="ModelFormatException"/> that names the file and the tensor.</summary>
    private sealed class StateReader(Dictionary<string, Tensor> state, string path)
    {
        public bool Has(string name) => state.ContainsKey(name);

        public Tensor Get(string name, ScalarType type)
        {
            if (!state.TryGetValue(name, out Tensor? t))
            {
                throw new ModelFormatException($"'{path}': tensor '{name}' is missing.");
            }

            return t.dtype == type ? t : throw new ModelFormatException($"'{path}': tensor '{name}' is {t.dtype}, expected {type}.");
        }

        public long Long(string name) => Scalar(name, ScalarType.Int64).item<long>();

        public float Float(string name) => Scalar(name, ScalarType.Float32).item<float>();

        public float[] Floats(string name, long count)
        {
            Tensor t = Get(name, ScalarType.Float32);
            return t.numel() == count ? t.data<float>().ToArray() : throw new ModelFormatException($"'{path}': tensor '{name}' has {t.numel()} values, expected {count}.");
        }

        private Tensor Scalar(string name, ScalarType type)
        {
            Tensor t = Get(name, type);
            return t.numel() == 1 ? t : throw new ModelFormatException($"'{path}': tensor '{name}' has {t.numel()} values, expected 1.");
        }

        /// <summary>The layer whose tensors' names start with <paramref name="p"/> (float weights, or codes and steps).</summary>
        public QuantizedLayer Layer(string p)
        {
            float[] bias = Get(p + "bias", ScalarType.Float32).data<float>().ToArray();
            int bits = (int)Long(p + "weight_bits");
            int activationBits = (int)Long(p + "activation_bits");
            float activationStep = Float(p + "activation_scale");
            int outputs = bias.Length;
            if (bits == 32)
            {
                Tensor w = Get(p + "weight", ScalarType.Float32);
                int inputs = (int)(w.numel() / Math.Max(1, outputs));
                return new QuantizedLayer(inputs, outputs, Floats(p + "weight", (long)inputs * outputs), bias, activationBits, activationStep);
            }

            if (Long(p + "weight_code_min") != SmallestCode(bits))
            {
                throw new ModelFormatException($"'{path}': tensor '{p}weight_code_min' is {Long(p + "weight_code_min")}, expected {SmallestCode(bits)} for {bits}-bit weights.");
            }

            int[] codes = Get(p + "weight_codes", ScalarType.Int8).data<sbyte>().ToArray().Select(c => (int)c).ToArray();
            float[] steps = Get(p + "weight_scale", ScalarType.Float32).data<float>().ToArray();
            return new QuantizedLayer(codes.Length / Math.Max(1, outputs), outputs, bits, codes, steps, bias, activationBits, activationStep);
        }

        /// <summary>The convolution block whose tensors' names start with <paramref name="p"/>: its input shape, kernel and pool sizes, and filters.</summary>
        public QuantizedConvolution Convolution(string p)
        {
            long[] shape = Get(p + "input_shape", ScalarType.Int64).data<long>().ToArray();
            if (shape.Length != 3 || shape.Any(v => v < 1 || v > 4096))
            {
                throw new ModelFormatException($"'{path}': tensor '{p}input_shape' must hold channels, height and width, each 1 to 4096.");
            }

            var input = new ImageShape((int)shape[0], (int)shape[1], (int)shape[2]);
            return new QuantizedConvolution(input, (int)Long(p + "kernel_size"), Layer(p), (int)Long(p + "pool_size"));
        }

        /// <summary>The input grid, or null where the file stores a single scale 0 (float input).</summary>
        public AffineGrid? InputGrid()
        {
            float[] inputScales = Get("input_scale", ScalarType.Float32).data<float>().ToArray();
            long[] inputZeros = Get("input_zero_point", ScalarType.Int64).data<long>().ToArray();
            return inputScales is [0] ? null
                : new AffineGrid((int)Long("input_bits"), new QuantizationRange(Long("input_code_min"), Long("input_code_max")), inputScales.Select(v => (double)v).ToArray(), inputZeros);
        }
    }

    /// <summary>The smallest weight code of a b-bit layer: -1 for 1 bit (codes ±1), else -(2^(b-1) - 1).</summary>
    private static long SmallestCode(int bits) => bits == 1 ? -1 : -((1L << (bits - 1)) - 1);
}
