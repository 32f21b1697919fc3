namespace MlRounding;

/// <summary>
/// The convolution blocks of a <see cref="ScoringPlan"/>: each output position's patch is gathered (im2col, one patch at a
/// time) into the buffer the block's filters read, exactly as a dense layer's input, and scored by the same arithmetic
/// (<see cref="Dense"/>: the integer kernels on codes, float64 dot products on values); then pooling, ReLU and the
/// activation codes, channel-planar, into the next block or the first dense layer.
/// </summary>
internal sealed partial class ScoringPlan
{
    /// <summary>Runs the blocks on the features <see cref="Input"/> has put in place, leaving the last block's output where the first dense layer reads it.</summary>
    private void Convolve(Scratch s)
    {
        var blocks = _model.Convolutions;
        Maps m = Maps.For(blocks);
        LoadInput(s, m.In, blocks[0].Input.Size);
        for (int b = 0; b < blocks.Count; b++)
        {
            QuantizedConvolution block = blocks[b];
            LayerPlan plan = _blocks[b];
            int patch = block.Filters.Inputs, outputs = block.Filters.Outputs;
            if (plan.Input == Codes.Bytes)
            {
                s.Bytes.AsSpan(patch, (plan.Packed?.Stride ?? patch) - patch).Clear(); // the kernels read whole padded rows
            }

            for (int y = 0; y < block.Input.Height; y++)
            {
                for (int x = 0; x < block.Input.Width; x++)
                {
                    Gather(block, plan, m.In, y, x, s);
                    Dense(block.Filters, plan, s.H.AsSpan(0, patch), s, m.Y.AsSpan((y * block.Input.Width + x) * outputs, outputs));
                }
            }

            PoolAndActivate(block, m.Y, m.Out);
            (m.In, m.Out) = (m.Out, m.In);
        }

        Store(_plans[0], m.In.AsSpan(0, blocks[^1].Output.Size), s);
    }

    /// <summary>The features as the first block reads them: input codes (bytes or ints) or float values, as floats.</summary>
    private void LoadInput(Scratch s, float[] map, int size)
    {
        for (int k = 0; k < size; k++)
        {
            map[k] = _input.Input == Codes.Bytes ? s.Bytes[k] : s.H[k]; // ints: Input left the codes in H too
        }
    }

    /// <summary>The patch around (y, x) into the buffer the filters read; outside the image, the channel's zero (the code of value 0).</summary>
    private static void Gather(QuantizedConvolution block, LayerPlan plan, float[] map, int y, int x, Scratch s)
    {
        int k = block.KernelSize, half = k / 2, height = block.Input.Height, width = block.Input.Width, plane = block.Input.Plane;
        int p = 0;
        for (int c = 0; c < block.Input.Channels; c++)
        {
            float zero = plan.ZeroOf(p);
            for (int dy = 0; dy < k; dy++)
            {
                int yy = y + dy - half;
                for (int dx = 0; dx < k; dx++, p++)
                {
                    int xx = x + dx - half;
                    float v = yy >= 0 && yy < height && xx >= 0 && xx < width ? map[c * plane + yy * width + xx] : zero;
                    switch (plan.Input)
                    {
                        case Codes.Bytes:
                            s.Bytes[p] = (byte)v;
                            break;
                        case Codes.Ints:
                            s.Ints[p] = (int)v;
                            break;
                        default:
                            s.H[p] = v;
                            break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The maximum over each pooling window of every channel's outputs (position-major in <paramref name="y"/>), then
    /// ReLU and the activation code (or the ReLU'd value), channel-planar into <paramref name="output"/>. Both functions do
    /// not decrease, so pooling first gives the codes of pooling last.
    /// </summary>
    private static void PoolAndActivate(QuantizedConvolution block, float[] y, float[] output)
    {
        QuantizedLayer filters = block.Filters;
        int channels = filters.Outputs, pool = block.PoolSize, width = block.Input.Width;
        var grid = LsqGrid<float>.Divided(filters.ActivationStep, 0, filters.ActivationMax);
        ImageShape shape = block.Output;
        for (int c = 0; c < channels; c++)
        {
            for (int py = 0; py < shape.Height; py++)
            {
                for (int px = 0; px < shape.Width; px++)
                {
                    float m = float.NegativeInfinity;
                    for (int dy = 0; dy < pool; dy++)
                    {
                        for (int dx = 0; dx < pool; dx++)
                        {
                            m = Math.Max(m, y[(((py * pool) + dy) * width + (px * pool) + dx) * channels + c]);
                        }
                    }

                    output[c * shape.Plane + py * shape.Width + px] = filters.ActivationBits == 32 ? Math.Max(m, 0) : grid.ClampedCode(m, relu: true);
                }
            }
        }
    }

    /// <summary>Values (codes or floats) into the buffer a layer with <paramref name="plan"/> reads: bytes (zeros up to the kernel's row), ints, or <see cref="Scratch.H"/>.</summary>
    private static void Store(LayerPlan plan, ReadOnlySpan<float> values, Scratch s)
    {
        switch (plan.Input)
        {
            case Codes.Bytes:
                for (int k = 0; k < values.Length; k++)
                {
                    s.Bytes[k] = (byte)values[k];
                }

                s.Bytes.AsSpan(values.Length, (plan.Packed?.Stride ?? values.Length) - values.Length).Clear();
                break;
            case Codes.Ints:
                ToInts(values, s.Ints);
                break;
            default:
                values.CopyTo(s.H);
                break;
        }
    }

    /// <summary>The feature maps of one thread's convolutions, grown to the largest network it has scored.</summary>
    private sealed class Maps
    {
        [ThreadStatic]
        private static Maps? _current;

        private Maps(int map, int outputs)
        {
            In = new float[map];
            Out = new float[map];
            Y = new float[outputs];
        }

        /// <summary>Gets or sets the map a block reads.</summary>
        public float[] In { get; set; }

        /// <summary>Gets or sets the map a block writes.</summary>
        public float[] Out { get; set; }

        /// <summary>Gets every position's outputs before pooling, position-major.</summary>
        public float[] Y { get; }

        public static Maps For(IReadOnlyList<QuantizedConvolution> blocks)
        {
            int map = blocks.Max(b => Math.Max(b.Input.Size, b.Output.Size));
            int outputs = blocks.Max(b => b.Input.Plane * b.Filters.Outputs);
            return _current is { } m && m.In.Length >= map && m.Y.Length >= outputs ? m : _current = new Maps(map, outputs);
        }
    }
}
