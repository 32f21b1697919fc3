namespace MlRounding.Cli;

/// <summary>The held-out rows of <c>train</c> and <c>compare</c>: a seeded random fraction.</summary>
internal static class Holdout
{
    /// <summary>Splits <paramref name="rows"/>: a seeded random <paramref name="fraction"/> (at least one row) is held out.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in (0, 1).</exception>
    public static (List<T> Train, List<T> Test) Split<T>(IReadOnlyList<T> rows, double fraction, int seed)
    {
        CheckFraction(fraction);

        int[] order = RoundingRules.ShuffledRows(rows.Count, seed); // the trainer's validation split follows the same rule
        int held = RoundingRules.HeldOutRows(rows.Count, fraction);
        return (order[held..].Select(i => rows[i]).ToList(), order[..held].Select(i => rows[i]).ToList());
    }

    /// <summary>
    /// Whether the row at <paramref name="index"/> of a streamed file is held out: a seeded hash of the index below
    /// <paramref name="fraction"/>, so about that fraction of the rows, the same ones on every pass (a stream cannot be
    /// permuted as <see cref="Split{T}"/> permutes rows in memory).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in (0, 1).</exception>
    public static bool IsHeld(int index, double fraction, int seed)
    {
        CheckFraction(fraction);

        // SplitMix64's finalizer over (seed, index): 53 uniform bits.
        ulong z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53)) < fraction;
    }

    /// <summary>Fails naming --test-fraction unless <paramref name="fraction"/> is in (0, 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in (0, 1).</exception>
    public static void CheckFraction(double fraction)
    {
        if (!(fraction > 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException("test-fraction", "--test-fraction must be in (0, 1).");
        }
    }
}
