namespace MlRounding.Cli;

/// <summary>The held-out rows of <c>train</c> and <c>compare</c>: a seeded random fraction.</summary>
internal static class Holdout
{
    /// <summary>Splits <paramref name="rows"/>: a seeded random <paramref name="fraction"/> (at least one row) is held out.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in (0, 1).</exception>
    public static (List<T> Train, List<T> Test) Split<T>(IReadOnlyList<T> rows, double fraction, int seed)
    {
        if (!(fraction > 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException("test-fraction", "--test-fraction must be in (0, 1).");
        }

        int[] order = RoundingRules.ShuffledRows(rows.Count, seed); // the trainer's validation split follows the same rule
        int held = RoundingRules.HeldOutRows(rows.Count, fraction);
        return (order[held..].Select(i => rows[i]).ToList(), order[..held].Select(i => rows[i]).ToList());
    }
}
