namespace MlRounding;

/// <summary>The integer grid [Min, Max] of a quantizer.</summary>
/// <param name="Min">Smallest integer code (qmin).</param>
/// <param name="Max">Largest integer code (qmax).</param>
public readonly record struct QuantizationRange(long Min, long Max)
{
    /// <summary>Smallest accepted number of bits.</summary>
    public const int MinBits = 2;

    /// <summary>Largest accepted number of bits.</summary>
    public const int MaxBits = 16;

    /// <summary>
    /// The grid of a <paramref name="bits"/>-bit quantizer: signed [-2^(b-1), 2^(b-1) - 1] or unsigned [0, 2^b - 1];
    /// narrow range drops the lowest code (signed [-(2^(b-1) - 1), 2^(b-1) - 1], unsigned [1, 2^b - 1]), as
    /// TensorFlow's <c>narrow_range</c> does, so a signed grid is symmetric about zero.
    /// </summary>
    /// <param name="bits">Number of bits, 2 to 16.</param>
    /// <param name="signed">Signed (symmetric quantization) or unsigned (asymmetric) codes.</param>
    /// <param name="narrowRange">Drop the lowest code.</param>
    /// <returns>The grid.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is outside [2, 16].</exception>
    public static QuantizationRange FromBits(int bits, bool signed, bool narrowRange = false)
    {
        if (bits < MinBits || bits > MaxBits)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"bits must be in [{MinBits}, {MaxBits}].");
        }

        long min = signed ? -(1L << (bits - 1)) : 0;
        long max = signed ? (1L << (bits - 1)) - 1 : (1L << bits) - 1;
        return new QuantizationRange(narrowRange ? min + 1 : min, max);
    }
}
