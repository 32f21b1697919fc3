using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// The weight codes of a bit width as a lattice: codes Min, Min + Spacing, ..., Min + Levels · Spacing. Symmetric narrow
/// b-bit codes (b = 2..8) are [-(2^(b-1) - 1), 2^(b-1) - 1] with spacing 1 (the quantizers' range); 1-bit codes are -1 and
/// +1, spacing 2. Learned rounding chooses, for each weight, the lattice point below or above it.
/// </summary>
/// <param name="Min">The smallest code.</param>
/// <param name="Spacing">The distance between neighbouring codes.</param>
/// <param name="Levels">The number of steps from the smallest code to the largest.</param>
internal readonly record struct CodeLattice(long Min, long Spacing, long Levels)
{
    /// <summary>The lattice of <paramref name="bits"/>-bit weight codes (1..8).</summary>
    public static CodeLattice For(int bits)
    {
        if (bits == 1)
        {
            return new CodeLattice(-1, 2, 1);
        }

        QuantizationRange range = QuantizationRange.FromBits(bits, signed: true, narrowRange: true);
        return new CodeLattice(range.Min, 1, range.Max - range.Min);
    }

    /// <summary>Gets the largest code.</summary>
    public long Max => Min + (Spacing * Levels);

    /// <summary>Where values in code units lie on the lattice: (v - Min) / Spacing, so that lattice points are integers.</summary>
    public Tensor Position(Tensor v) => v.Minus(Min).Over(Spacing);

    /// <summary>The code of lattice index <paramref name="index"/>, clamped to the lattice: Min + Spacing · clamp(index, 0, Levels).</summary>
    public Tensor Code(Tensor index) => index.ClampTo(0, Levels).Times(Spacing).Plus(Min);

    /// <summary>
    /// The nearest codes of values in code units, as the quantization-aware trainer's export rounds: half to even on the
    /// 2..8-bit lattices, and for 1-bit codes +1 where v &gt;= 0 (0 included), else -1.
    /// </summary>
    public Tensor Nearest(Tensor v) => Spacing == 1 ? Code(Position(v).round()) : Code(v.AtLeast(0).to_type(v.dtype));
}
