using System.Numerics;

namespace MlRounding.Tests.MlNet;

/// <summary>
/// An independent scalar reference of the documented rounding of each grid, in the column's element type, written from
/// the README's rules with the BCL's rounding (not the library's code): decimals, step and affine grids.
/// </summary>
internal static class GridReference
{
    /// <summary>Rounds with the midpoint rule; a result of zero under AwayFromZero is +0 (as documented: t + 0 with t = ±0).</summary>
    private static T Round<T>(T u, MidpointRounding midpoint) where T : IFloatingPointIeee754<T>
    {
        if (midpoint == MidpointRounding.ToEven)
        {
            return T.Round(u, MidpointRounding.ToEven);
        }

        T r = T.Round(u, MidpointRounding.AwayFromZero);
        return T.IsZero(r) ? T.Zero : r;
    }

    public static T Decimals<T>(T x, int decimals, MidpointRounding midpoint) where T : IFloatingPointIeee754<T>
    {
        T p = T.CreateChecked(Math.Pow(10, Math.Abs(decimals)));
        T u = decimals >= 0 ? x * p : x / p;
        T r = Round(u, midpoint);
        T y = decimals >= 0 ? r / p : r * p;
        return T.IsFinite(x) && !T.IsFinite(u) ? x : y;
    }

    public static T Step<T>(T x, double step, double offset, MidpointRounding midpoint) where T : IFloatingPointIeee754<T>
    {
        T s = T.CreateChecked(step), o = T.CreateChecked(offset);
        T u = (x - o) / s;
        T y = Round(u, midpoint) * s + o;
        return T.IsFinite(x) && !T.IsFinite(u) ? x : y;
    }

    /// <summary>(clamp(round(x · (1/s)) + z, qmin, qmax) - z) · s with 1/s rounded to T first; NaN stays NaN.</summary>
    public static T Affine<T>(T x, double scale, long zero, long qmin, long qmax) where T : IFloatingPointIeee754<T>
    {
        if (T.IsNaN(x))
        {
            return x;
        }

        T s = T.CreateChecked(scale), z = T.CreateChecked(zero);
        T q = T.Round(x * (T.One / s)) + z;
        T c = T.Clamp(q, T.CreateChecked(qmin), T.CreateChecked(qmax));
        return (c - z) * s;
    }

    /// <summary>Applies <paramref name="f"/> to every value of a column read as doubles, in the column's own type (float or double).</summary>
    public static List<double[]> Apply(List<double[]> rows, bool isFloat, Func<float, float> f32, Func<double, double> f64) =>
        rows.Select(r => r.Select(v => isFloat ? f32((float)v) : f64(v)).ToArray()).ToList();
}
