using System.Globalization;
using MathNet.Numerics.Distributions;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>
/// Which numeric columns with gaps get a missing-value indicator feature: those whose gaps are associated with the label
/// in the training rows at the <see cref="Level"/> level (classes: the chi-square test of independence between
/// "missing" and the class; regression: the test of the correlation between "missing" and the label). Where cells go
/// missing at random, an indicator can only fit chance: on iris with a tenth of the cells blanked, 9 of the 14 training
/// rows missing sepal width were virginica, the network learned "missing means virginica", and two versicolors lost
/// (docs/benchmarks.md). Every missing cell is imputed from the row's other numbers either way (ImputeMissingValues).
/// </summary>
internal static class GapIndicators
{
    /// <summary>The significance level below which a column's gaps count as telling something about the label.</summary>
    public const double Level = 0.01;

    /// <summary>
    /// <paramref name="schema"/> with indicators only for the columns whose gaps are associated with the label in
    /// <paramref name="train"/>; the rows of <paramref name="relayout"/> (read with <paramref name="schema"/>) get their
    /// indicator values to match. A note for each column whose indicator is dropped.
    /// </summary>
    public static TableSchema Informative(TableSchema schema, QatTask task, IReadOnlyList<TableRow> train, Action<string> notes, params IEnumerable<TableRow>[] relayout)
    {
        if (schema.MissingIndicators.Length == 0)
        {
            return schema;
        }

        string[] numeric = schema.NumericFeatures;
        var kept = new List<string>();
        foreach (string name in schema.MissingIndicators)
        {
            int slot = Array.IndexOf(numeric, name);
            double p = PValue(train.Select(r => float.IsNaN(r.Numeric[slot])).ToArray(), train, task, schema.TextLabel);
            if (p < Level)
            {
                kept.Add(name);
            }
            else
            {
                notes($"note: column '{name}' has missing cells, imputed from the other numbers; no missing-value indicator: in the training rows its gaps show no association with the label (p = {p.ToString("0.###", CultureInfo.InvariantCulture)}; one is added below {Level.ToString(CultureInfo.InvariantCulture)}).");
            }
        }

        int[] slots = kept.Select(n => Array.IndexOf(numeric, n)).ToArray();
        foreach (TableRow row in relayout.SelectMany(rows => rows))
        {
            row.Gappy = slots.Select(s => row.Numeric[s]).ToArray();
        }

        return schema with { MissingIndicators = kept.ToArray() };
    }

    /// <summary>The p-value of the association of <paramref name="gap"/> with the rows' labels (1 when either group is empty).</summary>
    internal static double PValue(bool[] gap, IReadOnlyList<TableRow> rows, QatTask task, bool textLabel)
    {
        int missing = gap.Count(g => g);
        if (missing == 0 || missing == gap.Length)
        {
            return 1;
        }

        return task == QatTask.Regression
            ? CorrelationPValue(gap, rows.Select(r => (double)r.Label).ToArray())
            : ChiSquarePValue(gap, missing, rows.Select(r => textLabel ? r.LabelText : r.Label.ToString(CultureInfo.InvariantCulture)).ToArray());
    }

    /// <summary>Pearson's chi-square test of independence of the 2 x k table "missing" by class.</summary>
    private static double ChiSquarePValue(bool[] gap, int missing, string[] classes)
    {
        var table = new Dictionary<string, (double Missing, double Present)>(StringComparer.Ordinal);
        for (int i = 0; i < gap.Length; i++)
        {
            var (m, p) = table.GetValueOrDefault(classes[i]);
            table[classes[i]] = gap[i] ? (m + 1, p) : (m, p + 1);
        }

        double n = gap.Length, missingShare = missing / n, statistic = 0;
        foreach (var (m, p) in table.Values)
        {
            double expectedMissing = (m + p) * missingShare, expectedPresent = (m + p) - expectedMissing;
            statistic += ((m - expectedMissing) * (m - expectedMissing) / expectedMissing) + ((p - expectedPresent) * (p - expectedPresent) / expectedPresent);
        }

        return table.Count < 2 ? 1 : 1 - ChiSquared.CDF(table.Count - 1, statistic);
    }

    /// <summary>The two-sided test of the correlation of "missing" (0/1) with the label: t = r √((n - 2) / (1 - r²)).</summary>
    private static double CorrelationPValue(bool[] gap, double[] labels)
    {
        double r = MathNet.Numerics.Statistics.Correlation.Pearson(gap.Select(g => g ? 1.0 : 0.0), labels);
        if (double.IsNaN(r))
        {
            return 1; // a constant label
        }

        int df = gap.Length - 2;
        if (df < 1 || Math.Abs(r) >= 1)
        {
            return df < 1 ? 1 : 0;
        }

        double t = Math.Abs(r) * Math.Sqrt(df / (1 - (r * r)));
        return 2 * (1 - StudentT.CDF(0, 1, df, t));
    }
}
