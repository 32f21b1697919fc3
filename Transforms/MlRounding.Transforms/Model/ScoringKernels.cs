using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlRounding;

/// <summary>
/// Dot products of the scorer whose result does not depend on the machine: the order of floating-point additions is
/// fixed here, not by the SIMD width, so x64 (AVX2), arm64 (AdvSimd) and the scalar fallback give the same bits.
/// </summary>
internal static class ScoringKernels
{

    /// <summary>
    /// Σ a[k] b[k] in float64, in one fixed order: four running sums, sum l taking k ≡ l (mod 4) for the first
    /// 4⌊n/4⌋ elements in increasing k, combined as (s0 + s1) + (s2 + s3), then the remaining elements added one by one.
    /// Each product of the scorer (a float32 value times an integer code of at most 16 bits, or two float32 values) is
    /// exact in float64, so a fused multiply-add and a multiply followed by an add give the same bits.
    /// </summary>
    /// <param name="a">The first vector.</param>
    /// <param name="b">The second vector, as long.</param>
    /// <param name="vectorBits">The widest vectors to use: 256, 128 or 0 (scalar); they all give the same bits (tests pass each).
    /// A parameter, not a setting: a static or thread-static read on every call cost the float scorer 30 % (benchmarked).</param>
    /// <returns>The sum.</returns>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int vectorBits = 256)
    {
        int n = a.Length, quads = n & ~3, k = 0;
        double s0, s1, s2, s3;
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref MemoryMarshal.GetReference(b);
        if (vectorBits >= 256 && Vector256.IsHardwareAccelerated && quads > 0)
        {
            Vector256<double> acc = Vector256<double>.Zero;
            for (; k < quads; k += 4)
            {
                acc += Vector256.LoadUnsafe(ref ra, (nuint)k) * Vector256.LoadUnsafe(ref rb, (nuint)k);
            }

            (s0, s1, s2, s3) = (acc[0], acc[1], acc[2], acc[3]);
        }
        else if (vectorBits >= 128 && Vector128.IsHardwareAccelerated && quads > 0)
        {
            Vector128<double> low = Vector128<double>.Zero, high = Vector128<double>.Zero;
            for (; k < quads; k += 4)
            {
                low += Vector128.LoadUnsafe(ref ra, (nuint)k) * Vector128.LoadUnsafe(ref rb, (nuint)k);
                high += Vector128.LoadUnsafe(ref ra, (nuint)(k + 2)) * Vector128.LoadUnsafe(ref rb, (nuint)(k + 2));
            }

            (s0, s1, s2, s3) = (low[0], low[1], high[0], high[1]);
        }
        else
        {
            s0 = s1 = s2 = s3 = 0;
            for (; k < quads; k += 4)
            {
                s0 += a[k] * b[k];
                s1 += a[k + 1] * b[k + 1];
                s2 += a[k + 2] * b[k + 2];
                s3 += a[k + 3] * b[k + 3];
            }
        }

        double sum = (s0 + s1) + (s2 + s3);
        for (; k < n; k++)
        {
            sum += a[k] * b[k];
        }

        return sum;
    }
}
