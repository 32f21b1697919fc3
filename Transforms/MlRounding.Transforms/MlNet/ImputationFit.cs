using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding;

/// <summary>
/// Fits an <see cref="ImputationModel"/> in two passes over a column: the means and gaps of each slot, then for each
/// slot with gaps a ridge regression on the other slots (centered at their means, a missing or infinite predictor at 0),
/// over the rows where that slot is finite, solved by Cholesky factorization of its normal equations.
/// </summary>
internal static class ImputationFit
{
    /// <summary>
    /// The most doubles the normal equations may take (regressed slots x (slots + 1)²: 2 MB, e.g. 63 slots that all have
    /// gaps, or 8 gappy slots among 180), which also bounds the work per row; a wider column is imputed with its means.
    /// </summary>
    internal const int MaximumNormalEquations = 1 << 18;

    public static ImputationModel Fit(IDataView data, DataViewSchema.Column column, int slots, double ridge)
    {
        var (means, gaps) = MeansAndGaps(data, column, slots);
        int[] regressed = Enumerable.Range(0, slots).Where(j => gaps[j]).ToArray();
        if (slots == 1 || (long)regressed.Length * (slots + 1) * (slots + 1) > MaximumNormalEquations)
        {
            regressed = Array.Empty<int>(); // nothing to regress on, or too wide: the means
        }

        float[] floatMeans = means.Select(m => (float)m).ToArray();
        var intercepts = (float[])floatMeans.Clone();
        var weights = new float[regressed.Length * slots];
        double[][] normal = NormalEquations(data, column, means, regressed);
        for (int r = 0; r < regressed.Length; r++)
        {
            int j = regressed[r];
            double[]? beta = Solve(normal[r], slots + 1, j, ridge);
            if (beta is null)
            {
                continue; // no row with the slot present (or a system that is not positive definite): its mean alone
            }

            intercepts[j] = (float)(means[j] + beta[0]);
            for (int i = 1; i < beta.Length; i++)
            {
                int k = i <= j ? i - 1 : i; // the predictors skip slot j itself
                weights[(r * slots) + k] = (float)beta[i];
            }
        }

        return new ImputationModel(floatMeans, intercepts, regressed, weights);
    }

    /// <summary>Each slot's mean over its finite values (0 without any) and whether it had a NaN.</summary>
    private static (double[] Means, bool[] Gaps) MeansAndGaps(IDataView data, DataViewSchema.Column column, int slots)
    {
        var sums = new double[slots];
        var counts = new long[slots];
        var gaps = new bool[slots];
        float[] dense = new float[slots];
        ForEachRow(data, column, dense, () =>
        {
            for (int k = 0; k < slots; k++)
            {
                float v = dense[k];
                if (float.IsFinite(v))
                {
                    (sums[k], counts[k]) = (sums[k] + v, counts[k] + 1);
                }

                gaps[k] |= float.IsNaN(v);
            }
        });
        return (sums.Select((s, k) => counts[k] > 0 ? s / counts[k] : 0).ToArray(), gaps);
    }

    /// <summary>
    /// For each regressed slot j, the upper triangle of Σ u uᵀ over the rows where slot j is finite, u = [1, c₀ .. c_{p-1}]
    /// with c the centered values (0 where not finite); slot j's own column holds its centered target.
    /// </summary>
    private static double[][] NormalEquations(IDataView data, DataViewSchema.Column column, double[] means, int[] regressed)
    {
        int p = means.Length, n = p + 1;
        double[][] sums = regressed.Select(_ => new double[n * n]).ToArray();
        if (regressed.Length == 0)
        {
            return sums;
        }

        float[] dense = new float[p];
        double[] u = new double[n];
        ForEachRow(data, column, dense, () =>
        {
            u[0] = 1;
            for (int k = 0; k < p; k++)
            {
                u[k + 1] = float.IsFinite(dense[k]) ? dense[k] - means[k] : 0;
            }

            for (int r = 0; r < regressed.Length; r++)
            {
                if (float.IsFinite(dense[regressed[r]]))
                {
                    AddOuter(sums[r], u);
                }
            }
        });
        return sums;
    }

    private static void AddOuter(double[] sum, double[] u)
    {
        int n = u.Length;
        for (int a = 0; a < n; a++)
        {
            double ua = u[a];
            if (ua == 0)
            {
                continue;
            }

            Span<double> row = sum.AsSpan(a * n, n);
            for (int b = a; b < n; b++)
            {
                row[b] += ua * u[b];
            }
        }
    }

    /// <summary>
    /// Solves the ridge regression of target slot <paramref name="target"/> on the intercept and the other slots from the
    /// upper-triangular sums (order n = slots + 1); the penalty is <paramref name="ridge"/> times each predictor's own sum
    /// of squares (scale-free), plus a tiny floor so a constant predictor gets weight 0. Null without a row.
    /// </summary>
    private static double[]? Solve(double[] sums, int n, int target, double ridge)
    {
        int t = target + 1;
        if (sums[0] < 1)
        {
            return null;
        }

        int[] predictors = Enumerable.Range(0, n).Where(k => k != t).ToArray();
        int m = predictors.Length;
        var a = new double[m * m];
        var b = new double[m];
        for (int i = 0; i < m; i++)
        {
            for (int k = 0; k < m; k++)
            {
                a[(i * m) + k] = Upper(sums, n, predictors[i], predictors[k]);
            }

            b[i] = Upper(sums, n, predictors[i], t);
            a[(i * m) + i] += i == 0 ? 0 : (ridge * a[(i * m) + i]) + (1e-9 * (1 + a[(i * m) + i]));
        }

        return Cholesky.Solve(a, b, m);
    }

    private static double Upper(double[] sums, int n, int i, int k) => i <= k ? sums[(i * n) + k] : sums[(k * n) + i];

    private static void ForEachRow(IDataView data, DataViewSchema.Column column, float[] dense, Action row)
    {
        using DataViewRowCursor cursor = data.GetRowCursor(new[] { column });
        ValueGetter<VBuffer<float>> get = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext())
        {
            get(ref buffer);
            buffer.CopyTo(dense);
            row();
        }
    }
}
