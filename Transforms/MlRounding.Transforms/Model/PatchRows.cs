namespace MlRounding;

/// <summary>
/// A convolution block's filters laid out for its input map stored channel-last with a border (<see cref="Fill"/>): in
/// that map the k · C codes of one kernel row of a patch are contiguous, so a patch is k runs read in place, with no
/// gathering. Each run is read four codes at a time, and those four codes, broadcast, meet 8 filters at once: the codes
/// hold, per kernel row dy and group q of four run entries (the run's (dx, c) order, zeros past its end), 8 filters × 4
/// codes (32 bytes, one 256-bit vector), filter group by filter group (zeros past the last filter). So the sums come out
/// with the filters in the lanes (<see cref="IntegerKernels.ConvolveRow"/>), no horizontal sums. The codes a group reads
/// past its run belong to the next position and meet zero weights. The sums are the same integers as the patch
/// kernels', so the same bits.
/// </summary>
internal sealed class PatchRows
{
    /// <summary>Filters per group: the 32-bit lanes of a 256-bit vector.</summary>
    public const int Lanes = 8;

    public PatchRows(QuantizedConvolution block)
    {
        QuantizedLayer filters = block.Filters;
        (K, Channels, Filters) = (block.KernelSize, block.Input.Channels, filters.Outputs);
        Quads = ((K * Channels) + 3) / 4;
        Groups = (Filters + Lanes - 1) / Lanes;
        Codes = new sbyte[K * Quads * Groups * Lanes * 4];
        int[] codes = filters.Codes;
        int max = 0;
        for (int j = 0; j < Filters; j++)
        {
            for (int c = 0; c < Channels; c++)
            {
                for (int dy = 0; dy < K; dy++)
                {
                    for (int dx = 0; dx < K; dx++)
                    {
                        int w = codes[(j * filters.Inputs) + (((c * K) + dy) * K) + dx];
                        int entry = (dx * Channels) + c; // the run's order
                        Codes[CodeIndex(dy, entry / 4, j / Lanes) + ((j % Lanes) * 4) + (entry % 4)] = (sbyte)w;
                        max = Math.Max(max, Math.Abs(w));
                    }
                }
            }
        }

        SmallCodes = max <= 63;
    }

    /// <summary>Gets the kernel size k.</summary>
    public int K { get; }

    /// <summary>Gets the input channels C.</summary>
    public int Channels { get; }

    /// <summary>Gets the number of filters.</summary>
    public int Filters { get; }

    /// <summary>Gets the groups of four entries of one kernel row's run (k · C entries, rounded up).</summary>
    public int Quads { get; }

    /// <summary>Gets the groups of <see cref="Lanes"/> filters (rounded up).</summary>
    public int Groups { get; }

    /// <summary>Gets the accumulators of one position: <see cref="Groups"/> · <see cref="Lanes"/>.</summary>
    public int Stride => StrideOf(Filters);

    /// <summary>Gets the codes: kernel row, quad, filter group, then 8 filters × 4 codes.</summary>
    public sbyte[] Codes { get; }

    /// <summary>Gets a value indicating whether every |code| ≤ 63 (the AVX2 pair kernel's condition, as <see cref="PackedLayer.SmallCodes"/>).</summary>
    public bool SmallCodes { get; }

    /// <summary>The index in <see cref="Codes"/> of the 32 codes of kernel row <paramref name="dy"/>, quad <paramref name="q"/>, filter group <paramref name="g"/>.</summary>
    public int CodeIndex(int dy, int q, int g) => (((dy * Quads) + q) * Groups + g) * Lanes * 4;

    /// <summary>
    /// The bytes of the channel-last map of an input of <paramref name="shape"/>, with its border and the padding that the
    /// last row's reads run into (one position past the last, and a run's last quad).
    /// </summary>
    public int MapBytes(ImageShape shape) => MapBytesOf(shape, K);

    /// <summary>The accumulators of one position for <paramref name="filters"/> filters (whole groups).</summary>
    public static int StrideOf(int filters) => (filters + Lanes - 1) / Lanes * Lanes;

    /// <summary>As <see cref="MapBytes"/>, for an input of <paramref name="shape"/> under a kernel of size <paramref name="k"/>.</summary>
    public static int MapBytesOf(ImageShape shape, int k) =>
        ((shape.Height + k - 1) * (shape.Width + k - 1) * shape.Channels) + shape.Channels + ((((k * shape.Channels) + 3) / 4) * 4);

    /// <summary>
    /// The byte codes <paramref name="input"/> of an input of <paramref name="shape"/> (channel-planar, or channel-last
    /// with <paramref name="channelLast"/>) into <paramref name="map"/>, channel-last, inside a border of each channel's
    /// code of value 0, padded width W + k - 1. <paramref name="patchZeros"/> holds the zero code of every patch entry in
    /// the filters' (c, dy, dx) order, as a layer plan does (empty: all 0).
    /// </summary>
    public void Fill(ReadOnlySpan<byte> input, ImageShape shape, ReadOnlySpan<int> patchZeros, Span<byte> map, bool channelLast = false)
    {
        int half = K / 2, pw = shape.Width + K - 1, ph = shape.Height + K - 1, rowBytes = shape.Width * Channels;
        Border(patchZeros, map[..(pw * ph * Channels)]);
        map[(pw * ph * Channels)..MapBytes(shape)].Clear();
        for (int y = 0; y < shape.Height; y++)
        {
            Span<byte> target = map.Slice((((y + half) * pw) + half) * Channels, rowBytes);
            if (channelLast || Channels == 1)
            {
                input.Slice(y * rowBytes, rowBytes).CopyTo(target);
                continue;
            }

            for (int c = 0; c < Channels; c++)
            {
                ReadOnlySpan<byte> row = input.Slice((c * shape.Plane) + (y * shape.Width), shape.Width);
                for (int x = 0; x < row.Length; x++)
                {
                    target[(x * Channels) + c] = row[x];
                }
            }
        }
    }

    /// <summary>Every position of <paramref name="map"/> set to the channels' zero codes (one fill when they are all equal).</summary>
    private void Border(ReadOnlySpan<int> patchZeros, Span<byte> map)
    {
        Span<byte> zeros = stackalloc byte[Channels];
        for (int c = 0; c < Channels; c++)
        {
            zeros[c] = patchZeros.IsEmpty ? (byte)0 : (byte)patchZeros[c * K * K];
        }

        if (!zeros.ContainsAnyExcept(zeros[0]))
        {
            map.Fill(zeros[0]);
            return;
        }

        for (int p = 0; p < map.Length; p += Channels)
        {
            zeros.CopyTo(map.Slice(p, Channels));
        }
    }
}
