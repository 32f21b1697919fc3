// Shared source: compiled into MlRounding.Ops, MlRounding.Transforms, MlRounding.Trainers and the mlround tool (linked by
// their projects), not into MlRounding.Core, for the reason given in Check.cs. This file is the one definition of each
// rounding rule the library computes in more than one place; every vectorized loop is a specialization of one of these
// functions, tested lane for lane against it (RoundingRulesTests), and every scalar loop calls it.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MlRounding;

/// <summary>
/// The scalar definitions of the library's rounding rules: the two midpoint rules, affine fake quantization (LibTorch's
/// form) and the train/validation split. Learned step size quantization has its own definition, <see cref="LsqGrid{T}"/>.
/// </summary>
internal static class RoundingRules
{
    /// <summary>
    /// Round half away from zero, written t + (|u - t| &gt;= 1/2 ? sign(u) : 0) with t = trunc(u): exact for every
    /// finite u (u - t is exact), NaN stays NaN, infinities stay; -0.4 gives -0 + 0 = +0. This is how every side
    /// computes it (the ops, the transforms' grids, the ONNX export's nodes), so that they agree bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T RoundHalfAwayFromZero<T>(T u) where T : IFloatingPointIeee754<T>
    {
        T t = T.Truncate(u);
        return t + (T.Abs(u - t) >= T.CreateTruncating(0.5) ? T.CreateTruncating(T.Sign(u)) : T.Zero);
    }

    /// <summary>Rounds with the midpoint rule: half to even (IEEE 754's default, <c>torch.round</c>, ONNX <c>Round</c>) or half away from zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Round<T>(T u, MidpointRounding midpoint) where T : IFloatingPointIeee754<T> =>
        midpoint == MidpointRounding.ToEven ? T.Round(u) : RoundHalfAwayFromZero(u);

    /// <summary>The vector form of <see cref="RoundHalfAwayFromZero{T}(T)"/>, lane for lane (float32 or float64 lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> RoundHalfAwayFromZero<T>(Vector256<T> u)
    {
        Vector256<T> t = Truncate(u);
        Vector256<T> far = Vector256.GreaterThanOrEqual(Vector256.Abs(u - t), Vector256.Create(Half<T>()));
        Vector256<T> sign = Vector256.CopySign(Vector256<T>.One, u);
        return t + Vector256.ConditionalSelect(far, sign, Vector256<T>.Zero);
    }

    /// <summary>Round half to even of float32 or float64 lanes (the vector form of <c>T.Round</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> RoundHalfToEven<T>(Vector256<T> u) => typeof(T) == typeof(float)
        ? Vector256.Round(u.AsSingle()).As<float, T>()
        : Vector256.Round(u.AsDouble()).As<double, T>();

    private static Vector256<T> Truncate<T>(Vector256<T> u) => typeof(T) == typeof(float)
        ? Vector256.Truncate(u.AsSingle()).As<float, T>()
        : Vector256.Truncate(u.AsDouble()).As<double, T>();

    private static T Half<T>() => typeof(T) == typeof(float) ? (T)(object)0.5f : (T)(object)0.5;

    /// <summary>
    /// Affine fake quantization of one value, LibTorch's form: the code q = round(x · inverse) + zero (half to even;
    /// <paramref name="inverse"/> is 1 / scale rounded to T, as LibTorch computes it), whether it lies in [min, max],
    /// and the value (clamp(q, min, max) - zero) · scale; NaN stays NaN (and is outside), infinities clamp to the ends.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FakeQuantize<T>(T x, T inverse, T scale, T zero, T min, T max, out bool inside) where T : IFloatingPointIeee754<T>
    {
        T q = T.Round(x * inverse) + zero;
        inside = q >= min && q <= max;
        return T.IsNaN(x) ? x : (T.Clamp(q, min, max) - zero) * scale;
    }

    /// <summary>The integer code of <see cref="FakeQuantize{T}"/>: clamp(round(x · inverse) + zero, min, max); NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T AffineCode<T>(T x, T inverse, T zero, T min, T max) where T : IFloatingPointIeee754<T> =>
        T.IsNaN(x) ? x : T.Clamp(T.Round(x * inverse) + zero, min, max);

    /// <summary>
    /// The number of rows a train/validation (or train/test) split holds out: <paramref name="fraction"/> of the rows,
    /// rounded down, at least one. The trainer's validation rows in memory and the command line's test rows follow it
    /// (streamed rows cannot: see QuantizationAwareTrainer).
    /// </summary>
    public static int HeldOutRows(int rows, double fraction) => Math.Max(1, (int)(rows * fraction));

    /// <summary>
    /// The order of a seeded split: the row indices 0..rows-1 shuffled by <see cref="Random"/>(seed); the first
    /// <see cref="HeldOutRows"/> of them are held out.
    /// </summary>
    public static int[] ShuffledRows(int rows, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows).OrderBy(_ => random.Next()).ToArray();
    }
}
