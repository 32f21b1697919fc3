namespace MlRounding;

/// <summary>
/// The versioned binary form of a <see cref="QuantizedMlp"/> (the payload of the model parameters inside ML.NET model
/// files). Every count is checked against its limit and against the bytes left before anything is allocated; a bad file
/// raises <see cref="ModelFormatException"/> saying what was wrong.
/// </summary>
/// <remarks>
/// Format version 3 (a network with convolution blocks; a dense network is written as version 2, byte for byte as
/// before), little-endian:
/// <list type="bullet">
/// <item>int32 version (2); byte task (0 regression, 1 binary, 2 multiclass); int32 classes (1..65536); int32 layers (1..64)</item>
/// <item>per layer: int32 inputs, int32 outputs (1..2^20 each, product at most 2^28); int32 weight bits (1..8 or 32);
/// int64 smallest code; then for 32 bits inputs·outputs float32 weights, else int32 byte count (= ceil(inputs·outputs·bits/8))
/// and the packed codes; int32 step count (1 or outputs) and the float32 steps; outputs float32 biases;
/// int32 activation bits (2..16, or 32 for none); float32 activation step; int64 largest activation code</item>
/// <item>int32 extra rounding layers (0..16); per rounding layer: int32 boundary (0..layers), the grid
/// (<see cref="RoundingGrid.Write(BinaryWriter)"/>: byte kind, then its fields)</item>
/// <item>byte input grid: 0 float input; 1 the features are quantized to the affine grid that follows, written as
/// <see cref="RoundingGrid.Write(BinaryWriter)"/> (byte kind 3, int32 bits, int64 qmin, int64 qmax, int32 n, n float64
/// scales, n int64 zero points), and the first layer sees (q - z) · scale (a single-scale grid); 2 the grid (one scale, or
/// one per feature), then float32 input step: the first layer sees (q - z) · step</item>
/// <item>float32 output scale (positive), float32 output shift: the last layer's output is output · scale + shift</item>
/// <item>version 3 only: int32 convolution blocks (1..16); per block: int32 channels, int32 height, int32 width of its
/// input (1..4096 each), int32 kernel side (odd, 1..15), int32 pool side (1 or 2), then its filters as a layer (above)</item>
/// </list>
/// <para>Version 2 is version 3 without the blocks.</para>
/// <para>Version 1 (the 1.0 development builds up to 2026-12-01) stored a float32 input step instead of the input grid
/// (0 for float input): the codes round(x / step), unbounded. It is read as the affine grid with that scale, zero point
/// 0 and codes in [-2^24, 2^24], which gives the same codes for features from a <c>Quantize</c> transform, the only
/// features that had an input step. Nothing else changed.</para>
/// </remarks>
internal static class QuantizedMlpFormat
{
    /// <summary>The format version written.</summary>
    public const int CurrentVersion = 3;

    /// <summary>The version of a network without convolution blocks (older readers read it).</summary>
    private const int DenseVersion = 2;

    /// <summary>Writes <paramref name="model"/>.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The bytes.</returns>
    public static byte[] Write(QuantizedMlp model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write(model.Convolutions.Count > 0 ? CurrentVersion : DenseVersion);
            w.Write((byte)model.Task);
            w.Write(model.Classes);
            w.Write(model.Layers.Count);
            foreach (var l in model.Layers)
            {
                WriteLayer(w, l);
            }

            w.Write(model.Roundings.Count);
            foreach (var (position, grid) in model.Roundings)
            {
                w.Write(position);
                grid.Write(w);
            }

            WriteInputGrid(w, model);
            w.Write(model.OutputScale);
            w.Write(model.OutputShift);
            if (model.Convolutions.Count > 0)
            {
                WriteConvolutions(w, model.Convolutions);
            }
        }

        return stream.ToArray();
    }

    /// <summary>Reads a model written by <see cref="Write"/>.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ModelFormatException">The bytes are not a valid model of a version this library reads.</exception>
    public static QuantizedMlp Read(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
            int version = ReadVersion(r);
            byte task = r.ReadByte();
            if (task > 2)
            {
                throw new ModelFormatException($"Invalid task {task}.");
            }

            int classes = Range(r.ReadInt32(), 1, QuantizedMlp.MaxClasses, "class count");
            int count = Range(r.ReadInt32(), 1, QuantizedMlp.MaxLayers, "layer count");
            var layers = new List<QuantizedLayer>(count);
            for (int i = 0; i < count; i++)
            {
                layers.Add(ReadLayer(r, $"Layer {i}"));
            }

            var roundings = ReadRoundings(r, count);
            var (inputGrid, inputStep) = version == 1 ? (LegacyInputGrid(r.ReadSingle()), 0f) : ReadInputGrid(r);
            float outputScale = r.ReadSingle(), outputShift = r.ReadSingle();
            var blocks = version >= 3 ? ReadConvolutions(r) : null;
            if (r.BaseStream.Position != r.BaseStream.Length)
            {
                throw new ModelFormatException($"{r.BaseStream.Length - r.BaseStream.Position} unexpected bytes after the last layer.");
            }

            if (blocks is not null && roundings.Count > 0)
            {
                throw new ModelFormatException("A convolutional network has no extra rounding layers.");
            }

            return blocks is null // the constructors check the rest
                ? new QuantizedMlp((QatTask)task, classes, layers, roundings, inputGrid, inputStep, outputScale, outputShift)
                : new QuantizedMlp((QatTask)task, classes, blocks, layers, inputGrid, inputStep, outputScale, outputShift);
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFormatException("The network entry of the model is truncated.", e);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException("The network entry of the model holds an invalid value: " + e.Message, e);
        }
    }

    private static void WriteLayer(BinaryWriter w, QuantizedLayer l)
    {
        w.Write(l.Inputs);
        w.Write(l.Outputs);
        w.Write(l.WeightBits);
        w.Write(l.CodeMin);
        if (l.HasFloatWeights)
        {
            ModelPayload.WriteFloats(w, l.Weights);
        }
        else
        {
            w.Write(l.PackedWeights.Length);
            w.Write(l.PackedWeights);
        }

        w.Write(l.WeightSteps.Length);
        ModelPayload.WriteFloats(w, l.Steps);
        ModelPayload.WriteFloats(w, l.Biases);
        w.Write(l.ActivationBits);
        w.Write(l.ActivationStep);
        w.Write(l.ActivationMax);
    }

    private static void WriteConvolutions(BinaryWriter w, IReadOnlyList<QuantizedConvolution> blocks)
    {
        w.Write(blocks.Count);
        foreach (var b in blocks)
        {
            w.Write(b.Input.Channels);
            w.Write(b.Input.Height);
            w.Write(b.Input.Width);
            w.Write(b.KernelSize);
            w.Write(b.PoolSize);
            WriteLayer(w, b.Filters);
        }
    }

    private static List<QuantizedConvolution> ReadConvolutions(BinaryReader r)
    {
        int count = Range(r.ReadInt32(), 1, QuantizedMlp.MaxConvolutions, "convolution block count");
        var blocks = new List<QuantizedConvolution>(count);
        for (int i = 0; i < count; i++)
        {
            int channels = Range(r.ReadInt32(), 1, ImageShape.MaxSide, "channel count");
            int height = Range(r.ReadInt32(), 1, ImageShape.MaxSide, "image height");
            int width = Range(r.ReadInt32(), 1, ImageShape.MaxSide, "image width");
            int kernel = Range(r.ReadInt32(), 1, QuantizedConvolution.MaxKernel, "kernel side");
            int pool = Range(r.ReadInt32(), 1, 2, "pool side");
            var shape = new ImageShape(channels, height, width); // checks the size
            blocks.Add(new QuantizedConvolution(shape, kernel, ReadLayer(r, $"Convolution block {i}"), pool));
        }

        return blocks;
    }

    // Flag 0: float input; 1: a single-scale grid whose scale is the step; 2: the grid, then the step.
    private static void WriteInputGrid(BinaryWriter w, QuantizedMlp model)
    {
        if (model.InputGrid is null)
        {
            w.Write((byte)0);
        }
        else if (model.InputGrid.SlotCount == 0 && model.InputStep == (float)model.InputGrid.Scales[0])
        {
            w.Write((byte)1);
            model.InputGrid.Write(w);
        }
        else
        {
            w.Write((byte)2);
            model.InputGrid.Write(w);
            w.Write(model.InputStep);
        }
    }

    private static int ReadVersion(BinaryReader r)
    {
        int version = r.ReadInt32();
        if (version > CurrentVersion)
        {
            throw new ModelFormatException($"The model was saved by a newer MlRounding (network format {version}); this version reads format {CurrentVersion} and older. Update MlRounding.");
        }

        return version >= 1 ? version : throw new ModelFormatException($"Invalid network format version {version}.");
    }

    private static QuantizedLayer ReadLayer(BinaryReader r, string i)
    {
        int inputs = Range(r.ReadInt32(), 1, QuantizedLayer.MaxUnits, "inputs");
        int outputs = Range(r.ReadInt32(), 1, QuantizedLayer.MaxUnits, "outputs");
        if ((long)inputs * outputs > QuantizedLayer.MaxWeights)
        {
            throw new ModelFormatException($"{i} has {(long)inputs * outputs} weights, more than 2^28.");
        }

        int bits = ReadWeightBits(r, i);
        float[]? floatWeights = bits == 32 ? Floats(r, inputs * outputs) : null;
        byte[] packed = bits == 32 ? Array.Empty<byte>() : ReadPackedCodes(r, i, inputs * outputs, bits);
        int steps = r.ReadInt32();
        if (steps != 1 && steps != outputs)
        {
            throw new ModelFormatException($"{i}: {steps} weight steps, expected 1 or {outputs}.");
        }

        float[] stepValues = Floats(r, steps);
        float[] bias = Floats(r, outputs);
        int activationBits = r.ReadInt32();
        float activationStep = r.ReadSingle();
        long activationMax = r.ReadInt64();
        if (activationBits is >= 2 and <= 16 && activationMax != (1L << activationBits) - 1)
        {
            throw new ModelFormatException($"{i}: largest activation code {activationMax}, expected {(1L << activationBits) - 1} for {activationBits} bits.");
        }

        return floatWeights is not null
            ? QuantizedLayer.FromFloat(inputs, outputs, floatWeights, bias, activationBits, activationStep)
            : QuantizedLayer.FromPacked(inputs, outputs, bits, packed, stepValues, bias, activationBits, activationStep);
    }

    // The weight bits and the smallest code that goes with them (0 for binary and float weights, -qmax otherwise).
    private static int ReadWeightBits(BinaryReader r, string i)
    {
        int bits = r.ReadInt32();
        if (!(bits == 32 || bits is >= 1 and <= 8))
        {
            throw new ModelFormatException($"Invalid weight bits {bits}.");
        }

        long codeMin = r.ReadInt64();
        long expectedMin = bits is 1 or 32 ? 0 : -QuantizedLayer.CodeMax(bits);
        return codeMin == expectedMin ? bits : throw new ModelFormatException($"{i}: smallest code {codeMin}, expected {expectedMin} for {bits}-bit weights.");
    }

    private static byte[] ReadPackedCodes(BinaryReader r, string i, int weights, int bits)
    {
        int length = r.ReadInt32();
        long expected = ((long)weights * bits + 7) / 8;
        if (length != expected)
        {
            throw new ModelFormatException($"{i}: {length} bytes of codes, expected {expected}.");
        }

        Left(r, length);
        return r.ReadBytes(length);
    }

    private static List<(int, RoundingGrid)> ReadRoundings(BinaryReader r, int layers)
    {
        int count = Range(r.ReadInt32(), 0, QuantizedMlp.MaxRoundings, "rounding layer count");
        var roundings = new List<(int, RoundingGrid)>(count);
        for (int i = 0; i < count; i++)
        {
            int position = Range(r.ReadInt32(), 0, layers, "rounding layer position");
            roundings.Add((position, RoundingGrid.Read(r)));
        }

        return roundings;
    }

    private static (AffineGrid? Grid, float Step) ReadInputGrid(BinaryReader r)
    {
        byte flag = r.ReadByte();
        if (flag > 2)
        {
            throw new ModelFormatException($"Invalid input grid flag {flag}.");
        }

        if (flag == 0)
        {
            return (null, 0);
        }

        var grid = RoundingGrid.Read(r) as AffineGrid ?? throw new ModelFormatException("The network's input grid is not an affine grid.");
        return (grid, flag == 2 ? r.ReadSingle() : 0);
    }

    /// <summary>A version-1 input step as the affine grid that gives the same codes (see the format remarks).</summary>
    private static AffineGrid? LegacyInputGrid(float step) =>
        step == 0 ? null
        : step > 0 && float.IsFinite(step) ? new AffineGrid(16, new QuantizationRange(-RoundingLimits.MaxCode, RoundingLimits.MaxCode), new[] { (double)step }, new[] { 0L })
        : throw new ModelFormatException($"Invalid input step {step}.");

    private static int Range(int value, int min, int max, string what) =>
        value >= min && value <= max ? value : throw new ModelFormatException($"Invalid {what} {value} (expected {min} to {max}).");

    private static void Left(BinaryReader r, long bytes)
    {
        long left = r.BaseStream.Length - r.BaseStream.Position;
        if (bytes > left)
        {
            throw new ModelFormatException($"The network entry of the model is truncated: {bytes} bytes needed, {left} left.");
        }
    }

    private static float[] Floats(BinaryReader r, int count) => ModelPayload.ReadFloats(r, count, "network");
}
