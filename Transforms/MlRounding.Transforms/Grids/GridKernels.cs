using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlRounding;

/// <summary>
/// AVX loops for dense float32 vectors, computing exactly what the scalar grid code (and the ops library) computes,
/// lane by lane: the same operations in the same order, NaN and overflow handled by selects. Tails run the scalar code.
/// </summary>
internal static class GridKernels
{
    public static bool Enabled => Vector256.IsHardwareAccelerated;

    private static Vector256<float> IsFinite(Vector256<float> v) => Vector256.Equals(v - v, Vector256<float>.Zero);

    private static Vector256<float> RoundAway(Vector256<float> u) => RoundingRules.RoundHalfAwayFromZero(u);

    /// <summary>Decimal grid: y = round(x * p) / p (or round(x / p) * p), x where the scaled value overflows.</summary>
    /// <returns>The number of leading elements done; the caller finishes the tail.</returns>
    public static int Decimals(ReadOnlySpan<float> src, Span<float> dst, float p, bool multiply, bool awayFromZero)
    {
        ref float s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        var vp = Vector256.Create(p);
        int i = 0;
        for (; i <= src.Length - 8; i += 8)
        {
            var x = Vector256.LoadUnsafe(ref s, (nuint)i);
            var u = multiply ? x * vp : x / vp;
            var r = awayFromZero ? RoundAway(u) : Vector256.Round(u);
            var y = multiply ? r / vp : r * vp;
            var keep = Vector256.AndNot(IsFinite(x), IsFinite(u));
            Vector256.ConditionalSelect(keep, x, y).StoreUnsafe(ref d, (nuint)i);
        }

        return i;
    }

    /// <summary>Step grid: y = round((x - o) / s) s + o, x where the scaled value overflows.</summary>
    /// <returns>The number of leading elements done.</returns>
    public static int Step(ReadOnlySpan<float> src, Span<float> dst, float step, float offset, bool awayFromZero)
    {
        ref float s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        var vs = Vector256.Create(step);
        var vo = Vector256.Create(offset);
        int i = 0;
        for (; i <= src.Length - 8; i += 8)
        {
            var x = Vector256.LoadUnsafe(ref s, (nuint)i);
            var u = (x - vo) / vs;
            var y = (awayFromZero ? RoundAway(u) : Vector256.Round(u)) * vs + vo;
            var keep = Vector256.AndNot(IsFinite(x), IsFinite(u));
            Vector256.ConditionalSelect(keep, x, y).StoreUnsafe(ref d, (nuint)i);
        }

        return i;
    }

    /// <summary>Affine grid with per-element parameters (broadcast or per slot): value (clamp(round(x inv) + z) - z) s, or the code.</summary>
    /// <returns>The number of leading elements done.</returns>
    public static int Affine(ReadOnlySpan<float> src, Span<float> dst, ReadOnlySpan<float> inverse, ReadOnlySpan<float> scale, ReadOnlySpan<float> zero, float min, float max, bool codes)
    {
        bool perSlot = inverse.Length > 1;
        ref float s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        ref float ri = ref MemoryMarshal.GetReference(inverse);
        ref float rs = ref MemoryMarshal.GetReference(scale);
        ref float rz = ref MemoryMarshal.GetReference(zero);
        var vmin = Vector256.Create(min);
        var vmax = Vector256.Create(max);
        var inv = Vector256.Create(inverse[0]);
        var sc = Vector256.Create(scale[0]);
        var z = Vector256.Create(zero[0]);
        int i = 0;
        for (; i <= src.Length - 8; i += 8)
        {
            if (perSlot)
            {
                inv = Vector256.LoadUnsafe(ref ri, (nuint)i);
                sc = Vector256.LoadUnsafe(ref rs, (nuint)i);
                z = Vector256.LoadUnsafe(ref rz, (nuint)i);
            }

            var x = Vector256.LoadUnsafe(ref s, (nuint)i);
            var q = Vector256.Round(x * inv) + z;
            var c = Vector256.MinNative(Vector256.MaxNative(q, vmin), vmax);
            var y = codes ? c : (c - z) * sc;
            var nan = ~Vector256.Equals(x, x);
            Vector256.ConditionalSelect(nan, x, y).StoreUnsafe(ref d, (nuint)i);
        }

        return i;
    }
}
