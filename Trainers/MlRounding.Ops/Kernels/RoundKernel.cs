using System.Numerics;
using System.Runtime.Intrinsics;

namespace MlRounding.Kernels;

/// <summary>
/// The two midpoint rules over contiguous memory, vectorized: half to even (the IEEE 754 default rounding mode) and
/// half away from zero (<see cref="RoundingRules.RoundHalfAwayFromZero{T}(T)"/>, whose vector form the lanes use).
/// float32 and float64 share the code; the tails are the scalar rules.
/// </summary>
internal static unsafe class RoundKernel
{
    public static void Round<T>(T* src, T* dst, long count, MidpointRounding midpoint = MidpointRounding.ToEven)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool even = midpoint == MidpointRounding.ToEven;
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var u = Vector256.Load(src + i);
                Vector256.Store(even ? RoundingRules.RoundHalfToEven(u) : RoundingRules.RoundHalfAwayFromZero(u), dst + i);
            }
        }

        for (; i < count; i++)
        {
            dst[i] = RoundingRules.Round(src[i], midpoint);
        }
    }
}
