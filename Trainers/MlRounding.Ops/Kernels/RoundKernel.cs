using System.Runtime.Intrinsics;

namespace MlRounding.Kernels;

/// <summary>Round half to even over contiguous memory, vectorized (the IEEE 754 default rounding mode).</summary>
internal static unsafe class RoundKernel
{
    public static void Round(float* src, float* dst, long count)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256.Store(Vector256.Round(Vector256.Load(src + i)), dst + i);
            }
        }

        for (; i < count; i++)
        {
            dst[i] = MathF.Round(src[i]);
        }
    }

    public static void Round(double* src, double* dst, long count)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= count - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                Vector256.Store(Vector256.Round(Vector256.Load(src + i)), dst + i);
            }
        }

        for (; i < count; i++)
        {
            dst[i] = Math.Round(src[i]);
        }
    }
}
