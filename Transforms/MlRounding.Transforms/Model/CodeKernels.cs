using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlRounding;

/// <summary>
/// The element-wise steps of the scorer around its dot products, vectorized lane by lane with exactly the scalar
/// operations (the same float32 operations in the same order, so every vector width gives the same bits): features to
/// input codes, accumulators to outputs, ReLU outputs to activation codes.
/// </summary>
internal static class CodeKernels
{
    /// <summary>
    /// q = clamp(round(x · inverse) + zero, min, max) as bytes, with each feature's own inverse scale and zero point (the
    /// codes of an affine grid, as <see cref="AffineGrid"/> computes them); false if some x is NaN (then
    /// <paramref name="q"/> is not meaningful).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // never tier-0 code: the intrinsics would be calls
    public static bool Quantize(ReadOnlySpan<float> x, Span<byte> q, ReadOnlySpan<float> inverse, ReadOnlySpan<float> zero, float min, float max)
    {
        ref float ri = ref MemoryMarshal.GetReference(inverse);
        ref float rz = ref MemoryMarshal.GetReference(zero);
        ref float rx = ref MemoryMarshal.GetReference(x);
        int i = 0;
        bool nan = false;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> lo = Vector256.Create(min), hi = Vector256.Create(max);
            Vector256<float> seen = Vector256<float>.Zero;
            ref byte rq = ref MemoryMarshal.GetReference(q);
            for (; i <= x.Length - 32; i += 32)
            {
                Vector256<float> v0 = Vector256.LoadUnsafe(ref rx, (nuint)i), v1 = Vector256.LoadUnsafe(ref rx, (nuint)(i + 8));
                Vector256<float> v2 = Vector256.LoadUnsafe(ref rx, (nuint)(i + 16)), v3 = Vector256.LoadUnsafe(ref rx, (nuint)(i + 24));
                seen |= ~Vector256.Equals(v0, v0) | ~Vector256.Equals(v1, v1) | ~Vector256.Equals(v2, v2) | ~Vector256.Equals(v3, v3);
                Store(
                    InputCode(v0, Vector256.LoadUnsafe(ref ri, (nuint)i), Vector256.LoadUnsafe(ref rz, (nuint)i), lo, hi),
                    InputCode(v1, Vector256.LoadUnsafe(ref ri, (nuint)(i + 8)), Vector256.LoadUnsafe(ref rz, (nuint)(i + 8)), lo, hi),
                    InputCode(v2, Vector256.LoadUnsafe(ref ri, (nuint)(i + 16)), Vector256.LoadUnsafe(ref rz, (nuint)(i + 16)), lo, hi),
                    InputCode(v3, Vector256.LoadUnsafe(ref ri, (nuint)(i + 24)), Vector256.LoadUnsafe(ref rz, (nuint)(i + 24)), lo, hi),
                    ref rq, i);
            }

            nan = seen != Vector256<float>.Zero;
        }

        for (; i < x.Length; i++)
        {
            float v = x[i];
            nan |= float.IsNaN(v);
            q[i] = (byte)RoundingRules.AffineCode(v, inverse[i], zero[i], min, max);
        }

        return !nan;
    }

    // The lanes of RoundingRules.AffineCode (a NaN lane gives some code; the caller reports the row as NaN).
    private static Vector256<int> InputCode(Vector256<float> v, Vector256<float> inverse, Vector256<float> zero, Vector256<float> min, Vector256<float> max) =>
        Vector256.ConvertToInt32(Vector256.MinNative(Vector256.MaxNative(Vector256.Round(v * inverse) + zero, min), max));

    // The lanes of LsqGrid.ClampedCode with ReLU (the divided form, the trainer's activation quantizer).
    private static Vector256<int> ReluCode(Vector256<float> y, Vector256<float> step, Vector256<float> max) =>
        Vector256.ConvertToInt32(Vector256.MinNative(Vector256.MaxNative(Vector256.Round(Vector256.Max(y, Vector256<float>.Zero) / step), Vector256<float>.Zero), max));

    /// <summary>32 codes in [0, 255] (four vectors of int32, in order) stored as bytes from <paramref name="at"/>.</summary>
    private static void Store(Vector256<int> a, Vector256<int> b, Vector256<int> c, Vector256<int> d, ref byte destination, int at) =>
        Vector256.Narrow(Vector256.Narrow(a, b), Vector256.Narrow(c, d)).AsByte().StoreUnsafe(ref destination, (nuint)at);

    /// <summary>y = (float)(acc - correction) · scale + bias, per output (no fused multiply-add: the product is rounded first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // never tier-0 code: the intrinsics would be calls
    public static void ScaleBias(ReadOnlySpan<int> acc, ReadOnlySpan<int> correction, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref int ra = ref MemoryMarshal.GetReference(acc);
            ref int rc = ref MemoryMarshal.GetReference(correction);
            ref float rs = ref MemoryMarshal.GetReference(scale);
            ref float rb = ref MemoryMarshal.GetReference(bias);
            ref float ry = ref MemoryMarshal.GetReference(y);
            bool corrected = !correction.IsEmpty;
            for (; i <= y.Length - 8; i += 8)
            {
                Vector256<int> a = Vector256.LoadUnsafe(ref ra, (nuint)i);
                if (corrected)
                {
                    a -= Vector256.LoadUnsafe(ref rc, (nuint)i);
                }

                Vector256<float> product = Vector256.ConvertToSingle(a) * Vector256.LoadUnsafe(ref rs, (nuint)i);
                (product + Vector256.LoadUnsafe(ref rb, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
            }
        }

        for (; i < y.Length; i++)
        {
            int a = correction.IsEmpty ? acc[i] : acc[i] - correction[i];
            float product = a * scale[i];
            y[i] = product + bias[i];
        }
    }

    /// <summary>The same for one output channel over a run of positions: one correction, scale and bias for all.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // never tier-0 code: the intrinsics would be calls
    public static void ScaleBias(ReadOnlySpan<int> acc, int correction, float scale, float bias, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref int ra = ref MemoryMarshal.GetReference(acc);
            ref float ry = ref MemoryMarshal.GetReference(y);
            Vector256<int> vc = Vector256.Create(correction);
            Vector256<float> vs = Vector256.Create(scale), vb = Vector256.Create(bias);
            for (; i <= y.Length - 8; i += 8)
            {
                Vector256<float> product = Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref ra, (nuint)i) - vc) * vs;
                (product + vb).StoreUnsafe(ref ry, (nuint)i);
            }
        }

        for (; i < y.Length; i++)
        {
            float product = (acc[i] - correction) * scale;
            y[i] = product + bias;
        }
    }

    /// <summary>Activation codes of a hidden layer: clamp(round(max(y, 0) / step), 0, max) as bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // never tier-0 code: the intrinsics would be calls
    public static void ReluCodes(ReadOnlySpan<float> y, Span<byte> codes, float step, float max)
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vs = Vector256.Create(step), hi = Vector256.Create(max);
            ref byte rc = ref MemoryMarshal.GetReference(codes);
            for (; i <= y.Length - 32; i += 32)
            {
                Store(
                    ReluCode(Vector256.LoadUnsafe(ref ry, (nuint)i), vs, hi), ReluCode(Vector256.LoadUnsafe(ref ry, (nuint)(i + 8)), vs, hi),
                    ReluCode(Vector256.LoadUnsafe(ref ry, (nuint)(i + 16)), vs, hi), ReluCode(Vector256.LoadUnsafe(ref ry, (nuint)(i + 24)), vs, hi),
                    ref rc, i);
            }
        }

        var grid = LsqGrid<float>.Divided(step, 0, max);
        for (; i < y.Length; i++)
        {
            codes[i] = (byte)grid.ClampedCode(y[i], relu: true);
        }
    }
}
