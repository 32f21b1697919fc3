namespace MlRounding;

/// <summary>Solves a symmetric positive definite system by Cholesky factorization (the normal equations of <see cref="ImputationFit"/>).</summary>
internal static class Cholesky
{
    /// <summary>
    /// Solves <c>A x = b</c> for the symmetric positive definite <paramref name="a"/> (row-major, order <paramref name="n"/>,
    /// overwritten by its factor); null when <paramref name="a"/> is not positive definite.
    /// </summary>
    public static double[]? Solve(double[] a, double[] b, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double d = a[(j * n) + j];
            for (int k = 0; k < j; k++)
            {
                d -= a[(j * n) + k] * a[(j * n) + k];
            }

            if (!(d > 0))
            {
                return null;
            }

            double l = Math.Sqrt(d);
            a[(j * n) + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[(i * n) + j];
                for (int k = 0; k < j; k++)
                {
                    s -= a[(i * n) + k] * a[(j * n) + k];
                }

                a[(i * n) + j] = s / l;
            }
        }

        var x = (double[])b.Clone();
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < i; k++)
            {
                x[i] -= a[(i * n) + k] * x[k];
            }

            x[i] /= a[(i * n) + i];
        }

        for (int i = n - 1; i >= 0; i--)
        {
            for (int k = i + 1; k < n; k++)
            {
                x[i] -= a[(k * n) + i] * x[k];
            }

            x[i] /= a[(i * n) + i];
        }

        return x;
    }
}
