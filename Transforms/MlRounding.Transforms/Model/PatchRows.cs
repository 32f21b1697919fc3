namespace MlRounding;

/// <summary>
/// A convolution block's filters laid out for its input map stored channel-last with a border (<see cref="Fill"/>): in
/// that map the k · C codes of one kernel row of a patch are contiguous, so a patch is k runs read in place, with no
/// gathering. Each filter row holds, per kernel row dy, the codes of (dx, c) in that order, padded with zeros to
/// <see cref="Segment"/> (a multiple of 32, so the 256-bit kernels read whole chunks; the codes past a run belong to the
/// next position and meet zero weights). The sums are the same integers as the patch kernels', so the same bits.
/// </summary>
internal sealed class PatchRows
{
    public PatchRows(QuantizedConvolution block)
    {
        QuantizedLayer filters = block.Filters;
        (K, Channels, Rows) = (block.KernelSize, block.Input.Channels, filters.Outputs);
        Segment = ((K * Channels) + 31) / 32 * 32;
        Codes = new sbyte[Rows * K * Segment];
        int[] codes = filters.Codes;
        int max = 0;
        for (int j = 0; j < Rows; j++)
        {
            for (int c = 0; c < Channels; c++)
            {
                for (int dy = 0; dy < K; dy++)
                {
                    for (int dx = 0; dx < K; dx++)
                    {
                        int w = codes[(j * filters.Inputs) + (((c * K) + dy) * K) + dx];
                        Codes[(((j * K) + dy) * Segment) + (dx * Channels) + c] = (sbyte)w;
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
    public int Rows { get; }

    /// <summary>Gets the padded length of one kernel row's codes.</summary>
    public int Segment { get; }

    /// <summary>Gets the codes, filter by filter, kernel row by kernel row.</summary>
    public sbyte[] Codes { get; }

    /// <summary>Gets a value indicating whether every |code| ≤ 63 (the AVX2 pair kernel's condition, as <see cref="PackedLayer.SmallCodes"/>).</summary>
    public bool SmallCodes { get; }

    /// <summary>The bytes of the channel-last map of an input of <paramref name="shape"/>, with its border and the padding the last patch's chunks read.</summary>
    public int MapBytes(ImageShape shape) => ((shape.Height + K - 1) * (shape.Width + K - 1) * Channels) + Segment;

    /// <summary>
    /// The channel-planar byte codes <paramref name="planar"/> of an input of <paramref name="shape"/> into
    /// <paramref name="map"/>, channel-last, inside a border of each channel's code of value 0, padded width W + k - 1.
    /// <paramref name="patchZeros"/> holds the zero code of every patch entry in the filters' (c, dy, dx) order, as a
    /// layer plan does (empty: all 0).
    /// </summary>
    public void Fill(ReadOnlySpan<byte> planar, ImageShape shape, ReadOnlySpan<int> patchZeros, Span<byte> map)
    {
        int half = K / 2, pw = shape.Width + K - 1, ph = shape.Height + K - 1;
        Span<byte> zeros = stackalloc byte[Channels];
        for (int c = 0; c < Channels; c++)
        {
            zeros[c] = patchZeros.IsEmpty ? (byte)0 : (byte)patchZeros[c * K * K];
        }

        for (int p = 0; p < pw * ph; p++)
        {
            zeros.CopyTo(map.Slice(p * Channels, Channels));
        }

        map.Slice(pw * ph * Channels, Segment).Clear();
        for (int c = 0; c < Channels; c++)
        {
            for (int y = 0; y < shape.Height; y++)
            {
                ReadOnlySpan<byte> row = planar.Slice((c * shape.Plane) + (y * shape.Width), shape.Width);
                int at = ((((y + half) * pw) + half) * Channels) + c;
                for (int x = 0; x < row.Length; x++)
                {
                    map[at + (x * Channels)] = row[x];
                }
            }
        }
    }
}
