namespace MlRounding;

/// <summary>
/// Packs integer codes of a b-bit grid [min, min + 2^b - 1] into bytes, b bits each (code - min, least significant bit
/// first): 4-bit codes take half a byte, 2-bit codes a quarter, 1-bit codes one bit.
/// </summary>
internal static class PackedCodes
{
    /// <summary>Packs <paramref name="codes"/>.</summary>
    /// <param name="codes">The codes, each in [min, min + 2^bits - 1].</param>
    /// <param name="bits">Bits per code, 1 to 16.</param>
    /// <param name="min">The smallest code.</param>
    /// <returns>ceil(n · bits / 8) bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">bits is out of range or a code is outside the grid.</exception>
    public static byte[] Pack(ReadOnlySpan<int> codes, int bits, long min)
    {
        if (bits < 1 || bits > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be in [1, 16].");
        }

        long span = 1L << bits;
        var packed = new byte[(codes.Length * (long)bits + 7) / 8];
        long bit = 0;
        foreach (int code in codes)
        {
            long value = code - min;
            if (value < 0 || value >= span)
            {
                throw new ArgumentOutOfRangeException(nameof(codes), code, $"code {code} is outside [{min}, {min + span - 1}].");
            }

            for (int k = 0; k < bits; k++, bit++)
            {
                if ((value >> k & 1) != 0)
                {
                    packed[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                }
            }
        }

        return packed;
    }

    /// <summary>Unpacks <paramref name="count"/> codes.</summary>
    /// <param name="packed">The packed bytes.</param>
    /// <param name="count">Number of codes.</param>
    /// <param name="bits">Bits per code, 1 to 16.</param>
    /// <param name="min">The smallest code.</param>
    /// <returns>The codes.</returns>
    /// <exception cref="ArgumentException">There are too few bytes.</exception>
    public static int[] Unpack(ReadOnlySpan<byte> packed, int count, int bits, long min)
    {
        if (bits < 1 || bits > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be in [1, 16].");
        }

        if (packed.Length < (count * (long)bits + 7) / 8)
        {
            throw new ArgumentException($"{packed.Length} bytes cannot hold {count} codes of {bits} bits.", nameof(packed));
        }

        var codes = new int[count];
        long bit = 0;
        for (int i = 0; i < count; i++)
        {
            int value = 0;
            for (int k = 0; k < bits; k++, bit++)
            {
                value |= (packed[(int)(bit >> 3)] >> (int)(bit & 7) & 1) << k;
            }

            codes[i] = (int)(value + min);
        }

        return codes;
    }
}
