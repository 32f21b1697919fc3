using MathNet.Numerics;

namespace MlRounding.Trainers;

/// <summary>
/// The input screen of wide, noisy tables: which inputs show an association with the label on their own. Each input gets
/// an F test (one-way analysis of variance over the classes for classification; for regression the test of its
/// correlation with the label, F = r² (n - 2) / (1 - r²)), and the Benjamini-Hochberg procedure keeps the inputs whose
/// association holds at a false discovery rate of <see cref="FalseDiscoveryRate"/>. A screen applies only when it keeps
/// at least one input and at most half of them: a table whose inputs mostly carry signal is left as it is. The trainer
/// then trains on the kept inputs beside the full network and keeps the better on the validation rows, so an input that
/// matters only together with others (which no univariate test sees) is not lost (<see cref="QatOptions.ScreenInputs"/>).
/// Measured in docs/benchmarks.md ("Wide tables: the input screen").
/// </summary>
internal static class InputScreening
{
    /// <summary>The false discovery rate of the Benjamini-Hochberg procedure.</summary>
    internal const double FalseDiscoveryRate = 0.05;

    /// <summary>
    /// The inputs of <paramref name="rows"/> to keep, in increasing order, or null when the screen does not apply (no
    /// input, or more than half of them, passes).
    /// </summary>
    public static int[]? Keep(QatData rows, QatTask task, int classes)
    {
        double[] p = Enumerable.Range(0, rows.FeatureCount).Select(j => PValue(rows, j, task, classes)).ToArray();
        int[] kept = BenjaminiHochberg(p, FalseDiscoveryRate);
        return kept.Length > 0 && 2 * kept.Length <= rows.FeatureCount ? kept : null;
    }

    /// <summary>The p-value of input <paramref name="j"/>'s F test against the label.</summary>
    internal static double PValue(QatData rows, int j, QatTask task, int classes) =>
        task == QatTask.Regression ? CorrelationPValue(rows, j) : AnovaPValue(rows, j, task == QatTask.BinaryClassification ? 2 : classes);

    /// <summary>The inputs the Benjamini-Hochberg procedure keeps at <paramref name="rate"/>: the k smallest p-values, k the largest with p₍ₖ₎ ≤ k·rate/m.</summary>
    internal static int[] BenjaminiHochberg(double[] p, double rate)
    {
        int[] order = Enumerable.Range(0, p.Length).OrderBy(j => p[j]).ThenBy(j => j).ToArray();
        int count = 0;
        for (int k = 1; k <= order.Length; k++)
        {
            if (p[order[k - 1]] <= k * rate / p.Length)
            {
                count = k;
            }
        }

        return order[..count].Order().ToArray();
    }

    /// <summary>P(F(d1, d2) ≥ f), 1 where the statistic is not a finite non-negative number or a degree of freedom is not positive.</summary>
    internal static double FTail(double f, double d1, double d2) =>
        double.IsFinite(f) && f >= 0 && d1 > 0 && d2 > 0 ? SpecialFunctions.BetaRegularized(d2 / 2, d1 / 2, d2 / (d2 + (d1 * f))) : 1;

    /// <summary>The p-value of one-way analysis of variance of input <paramref name="j"/> over the classes (two passes: class means, then squares about them).</summary>
    private static double AnovaPValue(QatData rows, int j, int classes)
    {
        var means = new double[classes];
        var counts = new long[classes];
        double mean = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            double x = rows.Features[(i * rows.FeatureCount) + j];
            int c = (int)rows.Labels[i];
            means[c] += x;
            counts[c]++;
            mean += x;
        }

        mean /= rows.Count;
        for (int c = 0; c < classes; c++)
        {
            means[c] = counts[c] > 0 ? means[c] / counts[c] : 0;
        }

        double within = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            double d = rows.Features[(i * rows.FeatureCount) + j] - means[(int)rows.Labels[i]];
            within += d * d;
        }

        double between = Enumerable.Range(0, classes).Sum(c => counts[c] * (means[c] - mean) * (means[c] - mean));
        double d1 = counts.Count(n => n > 0) - 1, d2 = rows.Count - (d1 + 1);
        return within > 0 ? FTail(between / d1 / (within / d2), d1, d2) : between > 0 ? 0 : 1; // no spread within the classes: the input separates them
    }

    /// <summary>The p-value of the correlation of input <paramref name="j"/> with the label.</summary>
    private static double CorrelationPValue(QatData rows, int j)
    {
        int n = rows.Count;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++)
        {
            mx += rows.Features[(i * rows.FeatureCount) + j];
            my += rows.Labels[i];
        }

        (mx, my) = (mx / n, my / n);
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = rows.Features[(i * rows.FeatureCount) + j] - mx, dy = rows.Labels[i] - my;
            (sxy, sxx, syy) = (sxy + (dx * dy), sxx + (dx * dx), syy + (dy * dy));
        }

        if (!(sxx > 0 && syy > 0))
        {
            return 1;
        }

        double r2 = Math.Min(1, sxy * sxy / (sxx * syy));
        return r2 >= 1 ? 0 : FTail(r2 * (n - 2) / (1 - r2), 1, n - 2);
    }
}
