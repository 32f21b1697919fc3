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
        Maps m = Maps.For(_mapSizes);
        LoadInput(s, m, blocks[0].Input.Size);
        bool channelLast = false; // the byte map a block reads: channel-planar, or channel-last from a block computed in place
        for (int b = 0; b < blocks.Count; b++)
        {
            QuantizedConvolution block = blocks[b];
            LayerPlan plan = _blocks[b];
            int patch = block.Filters.Inputs;
            bool inPlace = TakesRuns(plan);
            bool bytesOut = (b + 1 < blocks.Count ? _blocks[b + 1] : _plans[0]).Input == Codes.Bytes;
            bool nextChannelLast = inPlace && bytesOut && b + 1 < blocks.Count && TakesRuns(_blocks[b + 1]);
            if (inPlace)
            {
                InPlace(block, plan, plan.Rows!, m, channelLast);
                Activate(block, m, planar: false, bytesOut, nextChannelLast);
            }
            else
            {
                bool direct = plan.Kernel && patch <= DirectConvolution.MaxPatch;
                if (direct)
                {
                    DirectConvolution.Run(block, plan.Zeros, plan.Scale, plan.Correction, m.BytesIn, m.Y, m.Padded, m.Acc);
                }
                else
                {
                    if (plan.Input == Codes.Bytes)
                    {
                        s.Bytes.AsSpan(patch, (plan.Packed?.Stride ?? patch) - patch).Clear(); // the kernels read whole padded rows
                    }

                    Patches(block, plan, m, s);
                }

                Pool(block, m, planar: direct);
                Activate(block, m, planar: direct, bytesOut, channelLast: false);
            }

            channelLast = nextChannelLast;
            (m.In, m.Out, m.BytesIn, m.BytesOut) = (m.Out, m.In, m.BytesOut, m.BytesIn);
        }

        int size = blocks[^1].Output.Size;
        if (_plans[0].Input == Codes.Bytes)
        {
            m.BytesIn.AsSpan(0, size).CopyTo(s.Bytes);
            s.Bytes.AsSpan(size, (_plans[0].Packed?.Stride ?? size) - size).Clear();
        }
        else
        {
            Store(_plans[0], m.In.AsSpan(0, size), s);
        }
    }

    /// <summary>Each output position's patch gathered and scored as a dense layer's input row, position-major into <see cref="Maps.Y"/>.</summary>
    private void Patches(QuantizedConvolution block, LayerPlan plan, Maps m, Scratch s)
    {
        int patch = block.Filters.Inputs, outputs = block.Filters.Outputs;
        for (int y = 0; y < block.Input.Height; y++)
        {
            for (int x = 0; x < block.Input.Width; x++)
            {
                if (plan.Input == Codes.Bytes)
                {
                    GatherBytes(block, plan, m.BytesIn, y, x, s.Bytes);
                }
                else
                {
                    Gather(block, plan, m.In, y, x, s);
                }

                Dense(block.Filters, plan, s.H.AsSpan(0, patch), s, m.Y.AsSpan((y * block.Input.Width + x) * outputs, outputs));
            }
        }
    }

    /// <summary>The features as the first block reads them: input codes in bytes, or codes (ints) or float values as floats.</summary>
    private void LoadInput(Scratch s, Maps m, int size)
    {
        if (_input.Input == Codes.Bytes)
        {
            s.Bytes.AsSpan(0, size).CopyTo(m.BytesIn);
            return;
        }

        s.H.AsSpan(0, size).CopyTo(m.In); // ints: Input left the codes in H too
    }

    /// <summary>
    /// The patch around (y, x) of a byte map into <paramref name="patch"/>, channel by channel and row by row (each row of
    /// the kernel one copy where it lies inside the image); outside the image, the channel's code of value 0 (its input
    /// grid's zero point, or 0 after a ReLU).
    /// </summary>
    private static void GatherBytes(QuantizedConvolution block, LayerPlan plan, byte[] map, int y, int x, byte[] patch)
    {
        int k = block.KernelSize, half = k / 2, height = block.Input.Height, width = block.Input.Width, plane = block.Input.Plane;
        bool inside = x >= half && x + half < width;
        int p = 0;
        for (int c = 0; c < block.Input.Channels; c++)
        {
            byte zero = (byte)plan.ZeroOf(p);
            for (int dy = 0; dy < k; dy++, p += k)
            {
                int yy = y + dy - half;
                if (yy < 0 || yy >= height)
                {
                    patch.AsSpan(p, k).Fill(zero);
                }
                else if (inside)
                {
                    int from = c * plane + yy * width + x - half;
                    for (int dx = 0; dx < k; dx++)
                    {
                        patch[p + dx] = map[from + dx]; // a few bytes: a loop is cheaper than Memmove's call
                    }
                }
                else
                {
                    for (int dx = 0; dx < k; dx++)
                    {
                        int xx = x + dx - half;
                        patch[p + dx] = xx >= 0 && xx < width ? map[c * plane + yy * width + xx] : zero;
                    }
                }
            }
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
    /// The maximum over each pooling window of every channel's outputs <see cref="Maps.Y"/>, channel-planar
    /// (<paramref name="planar"/>, from <see cref="DirectConvolution"/>) or position-major (from the patches), into
    /// <see cref="Maps.Pooled"/> in the same order.
    /// </summary>
    private static void Pool(QuantizedConvolution block, Maps maps, bool planar)
    {
        Span<float> maxima = maps.Pooled.AsSpan(0, block.Output.Size);
        if (planar)
        {
            PoolPlanar(block, maps.Y, maxima, maps.RowMaxima);
        }
        else
        {
            PoolPositionMajor(block, maps.Y, maxima);
        }
    }

    /// <summary>
    /// ReLU and the activation code (<see cref="CodeKernels.ReluCodes"/>, the scalar rule lane by lane) or the ReLU'd value
    /// of the pooled outputs <see cref="Maps.Pooled"/> (channel-planar with <paramref name="planar"/>, else position-major):
    /// channel-planar into <see cref="Maps.Out"/>, or as byte codes into <see cref="Maps.BytesOut"/> with
    /// <paramref name="bytesOut"/>, there position-major (channel-last) with <paramref name="channelLast"/>, for a next
    /// block computed in place. Both functions do not decrease, so pooling first gives the codes of pooling last.
    /// </summary>
    private static void Activate(QuantizedConvolution block, Maps maps, bool planar, bool bytesOut, bool channelLast)
    {
        float[] output = maps.Out;
        byte[]? bytes = bytesOut ? maps.BytesOut : null;
        QuantizedLayer filters = block.Filters;
        int channels = filters.Outputs;
        ImageShape shape = block.Output;
        Span<float> maxima = maps.Pooled.AsSpan(0, shape.Size);

        // maxima[c · positions + p] when planar, else maxima[p · channels + c]: (p, c) walks it in the output's order.
        int positions = shape.Plane;
        int At(int p, int c) => planar ? (c * positions) + p : (p * channels) + c;
        if (filters.ActivationBits == 32 || filters.ActivationMax > byte.MaxValue)
        {
            var grid = LsqGrid<float>.Divided(filters.ActivationStep, 0, filters.ActivationMax);
            for (int c = 0; c < channels; c++)
            {
                for (int p = 0; p < positions; p++)
                {
                    float m = maxima[At(p, c)];
                    output[(c * positions) + p] = filters.ActivationBits == 32 ? Math.Max(m, 0) : grid.ClampedCode(m, relu: true);
                }
            }

            return;
        }

        bool inOrder = (planar || channelLast) && bytes is not null;
        Span<byte> q = inOrder ? bytes.AsSpan(0, shape.Size) : maps.PooledCodes.AsSpan(0, shape.Size);
        CodeKernels.ReluCodes(maxima, q, filters.ActivationStep, filters.ActivationMax);
        if (inOrder)
        {
            return; // the codes are already in place
        }

        for (int c = 0; c < channels; c++)
        {
            if (bytes is not null)
            {
                Span<byte> plane = bytes.AsSpan(c * positions, positions); // position-major codes (planar ones returned above)
                for (int p = 0; p < plane.Length; p++)
                {
                    plane[p] = q[(p * channels) + c];
                }

                continue;
            }

            for (int p = 0; p < positions; p++)
            {
                output[(c * positions) + p] = q[At(p, c)];
            }
        }
    }

    /// <summary>
    /// Window maxima of channel-planar outputs, channel-planar: per output row, the element-wise maximum of the window's
    /// input rows (<see cref="System.Numerics.Tensors.TensorPrimitives.Max(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>,
    /// Math.Max's rule lane by lane), then of each window's columns.
    /// </summary>
    private static void PoolPlanar(QuantizedConvolution block, float[] y, Span<float> maxima, float[] rowMaxima)
    {
        int pool = block.PoolSize, width = block.Input.Width, plane = block.Input.Plane;
        ImageShape shape = block.Output;
        Span<float> rows = rowMaxima.AsSpan(0, width);
        for (int c = 0; c < block.Filters.Outputs; c++)
        {
            for (int py = 0; py < shape.Height; py++)
            {
                int first = (c * plane) + (py * pool * width);
                y.AsSpan(first, width).CopyTo(rows);
                for (int dy = 1; dy < pool; dy++)
                {
                    System.Numerics.Tensors.TensorPrimitives.Max(rows, y.AsSpan(first + (dy * width), width), rows);
                }

                Span<float> target = maxima.Slice((c * shape.Plane) + (py * shape.Width), shape.Width);
                for (int px = 0; px < shape.Width; px++)
                {
                    float m = rows[px * pool];
                    for (int dx = 1; dx < pool; dx++)
                    {
                        m = Math.Max(m, rows[(px * pool) + dx]);
                    }

                    target[px] = m;
                }
            }
        }
    }

    /// <summary>Window maxima of position-major outputs (a position's channels contiguous: element-wise maxima of whole rows of channels), position-major.</summary>
    private static void PoolPositionMajor(QuantizedConvolution block, float[] y, Span<float> maxima)
    {
        int channels = block.Filters.Outputs, pool = block.PoolSize, width = block.Input.Width;
        ImageShape shape = block.Output;
        for (int py = 0; py < shape.Height; py++)
        {
            for (int px = 0; px < shape.Width; px++)
            {
                Span<float> m = maxima.Slice(((py * shape.Width) + px) * channels, channels);
                for (int w = 0; w < pool * pool; w++)
                {
                    ReadOnlySpan<float> row = y.AsSpan(((((py * pool) + (w / pool)) * width) + (px * pool) + (w % pool)) * channels, channels);
                    if (w == 0)
                    {
                        row.CopyTo(m);
                    }
                    else
                    {
                        System.Numerics.Tensors.TensorPrimitives.Max(m, row, m); // Math.Max's rule, lane by lane
                    }
                }
            }
        }
    }

    /// <summary>Values (wide codes or floats) into the buffer a layer with <paramref name="plan"/> reads: ints, or <see cref="Scratch.H"/> (byte codes go from the byte map, in <see cref="Convolve"/>).</summary>
    private static void Store(LayerPlan plan, ReadOnlySpan<float> values, Scratch s)
    {
        if (plan.Input == Codes.Ints)
        {
            ToInts(values, s.Ints);
        }
        else
        {
            values.CopyTo(s.H);
        }
    }

    /// <summary>The buffer sizes a network's blocks need, worked out once per plan.</summary>
    /// <param name="Map">Values of the largest feature map.</param>
    /// <param name="Outputs">Values of the largest block output before pooling (positions · channels).</param>
    /// <param name="Padded">Ints of the largest padded input of <see cref="DirectConvolution"/>.</param>
    /// <param name="Run">Ints of the longest accumulator run: of <see cref="DirectConvolution"/> (one output channel over the padded width) or of one row of positions in place.</param>
    /// <param name="ChannelLast">Bytes of the largest channel-last input of <see cref="PatchRows"/>.</param>
    private sealed record MapSizes(int Map, int Outputs, int Padded, int Run, int ChannelLast)
    {
        public static MapSizes Of(IReadOnlyList<QuantizedConvolution> blocks) => blocks.Count == 0 ? new(0, 0, 0, 0, 0) : new(
            blocks.Max(b => Math.Max(b.Input.Size, b.Output.Size)),
            blocks.Max(b => b.Input.Plane * b.Filters.Outputs),
            blocks.Max(b => b.Input.Channels * (b.Input.Height + b.KernelSize - 1) * (b.Input.Width + b.KernelSize - 1)),
            blocks.Max(b => Math.Max(b.Input.Height * (b.Input.Width + b.KernelSize - 1), InPlaceInts(b))),
            blocks.Max(b => PatchRows.MapBytesOf(b.Input, b.KernelSize)));
    }

    /// <summary>The feature maps of one thread's convolutions, grown to the largest network it has scored.</summary>
    private sealed class Maps
    {
        [ThreadStatic]
        private static Maps? _current;

        private Maps(int map, int outputs, int padded, int run, int channelLast)
        {
            ChannelLast = new byte[channelLast];
            Padded = new int[padded];
            Acc = new int[run];
            In = new float[map];
            Out = new float[map];
            BytesIn = new byte[map];
            BytesOut = new byte[map];
            Y = new float[outputs];
            Pooled = new float[map];
            PooledCodes = new byte[map];
            RowMaxima = new float[map];
        }

        /// <summary>Gets one row of window maxima (a block's input width at most).</summary>
        public float[] RowMaxima { get; }

        /// <summary>Gets the pooled outputs of a block, position-major, before the activation.</summary>
        public float[] Pooled { get; }

        /// <summary>Gets their activation codes, position-major.</summary>
        public byte[] PooledCodes { get; }

        /// <summary>Gets the channel-last input of <see cref="PatchRows"/>.</summary>
        public byte[] ChannelLast { get; }

        /// <summary>Gets the padded input planes of <see cref="DirectConvolution"/>.</summary>
        public int[] Padded { get; }

        /// <summary>Gets the accumulators of <see cref="DirectConvolution"/> (one output channel over the padded width) or of one row of positions in place.</summary>
        public int[] Acc { get; }

        /// <summary>Gets or sets the byte map a block reads (codes that fit in a byte).</summary>
        public byte[] BytesIn { get; set; }

        /// <summary>Gets or sets the byte map a block writes.</summary>
        public byte[] BytesOut { get; set; }

        /// <summary>Gets or sets the map a block reads.</summary>
        public float[] In { get; set; }

        /// <summary>Gets or sets the map a block writes.</summary>
        public float[] Out { get; set; }

        /// <summary>Gets every position's outputs before pooling, position-major.</summary>
        public float[] Y { get; }

        /// <summary>The buffers of the calling thread, grown where <paramref name="sizes"/> needs more (no allocation once grown).</summary>
        public static Maps For(MapSizes sizes) =>
            _current is { } m && m.In.Length >= sizes.Map && m.Y.Length >= sizes.Outputs && m.Padded.Length >= sizes.Padded && m.Acc.Length >= sizes.Run && m.ChannelLast.Length >= sizes.ChannelLast ? m
                : _current = new Maps(sizes.Map, sizes.Outputs, sizes.Padded, sizes.Run, sizes.ChannelLast);
    }
}
