using System.Numerics;
using System.Runtime.Intrinsics;

namespace MlRounding.Kernels;

/// <summary>
/// One-pass affine fake quantization: out = (clamp(round(x * inv) + z, qmin, qmax) - z) * scale, and a 1-bit
/// mask (bit i of byte i/8) set where round(x * inv) + z lies inside [qmin, qmax]. NaN inputs give NaN outputs
/// with a clear mask bit. Multiplying by inv = 1/scale (rather than dividing) matches LibTorch bit for bit.
/// </summary>
internal static unsafe class FakeQuantKernel
{
    public static void Forward(float* x, float* y, byte* mask, long count, float scale, float zero, float qmin, float qmax)
    {
        float inv = 1f / scale;
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vinv = Vector256.Create(inv);
            var vs = Vector256.Create(scale);
            var vz = Vector256.Create(zero);
            var vmin = Vector256.Create(qmin);
            var vmax = Vector256.Create(qmax);
            for (; i <= count - 8; i += 8)
            {
                var v = Vector256.Load(x + i);
                var q = Vector256.Round(v * vinv) + vz;
                var inside = Vector256.GreaterThanOrEqual(q, vmin) & Vector256.LessThanOrEqual(q, vmax);
                var clamped = Vector256.MinNative(Vector256.MaxNative(q, vmin), vmax);
                var result = (clamped - vz) * vs;
                var nan = ~Vector256.Equals(v, v);
                Vector256.Store(Vector256.ConditionalSelect(nan, v, result), y + i);
                mask[i >> 3] = (byte)inside.ExtractMostSignificantBits();
            }
        }

        ScalarTail(x, y, mask, i, count, inv, scale, zero, qmin, qmax);
    }

    public static void Forward(double* x, double* y, byte* mask, long count, double scale, double zero, double qmin, double qmax)
    {
        double inv = 1.0 / scale;
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vinv = Vector256.Create(inv);
            var vs = Vector256.Create(scale);
            var vz = Vector256.Create(zero);
            var vmin = Vector256.Create(qmin);
            var vmax = Vector256.Create(qmax);
            for (; i <= count - 8; i += 8)
            {
                int bits = 0;
                for (int half = 0; half < 2; half++)
                {
                    var v = Vector256.Load(x + i + 4 * half);
                    var q = Vector256.Round(v * vinv) + vz;
                    var inside = Vector256.GreaterThanOrEqual(q, vmin) & Vector256.LessThanOrEqual(q, vmax);
                    var clamped = Vector256.MinNative(Vector256.MaxNative(q, vmin), vmax);
                    var result = (clamped - vz) * vs;
                    var nan = ~Vector256.Equals(v, v);
                    Vector256.Store(Vector256.ConditionalSelect(nan, v, result), y + i + 4 * half);
                    bits |= (int)inside.ExtractMostSignificantBits() << (4 * half);
                }

                mask[i >> 3] = (byte)bits;
            }
        }

        ScalarTail(x, y, mask, i, count, inv, scale, zero, qmin, qmax);
    }

    /// <summary>The same computation one element at a time, from <paramref name="start"/> (a multiple of 8) to the end.</summary>
    private static void ScalarTail<T>(T* x, T* y, byte* mask, long start, long count, T inv, T scale, T zero, T qmin, T qmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (long i = start; i < count; i += 8)
        {
            int bits = 0;
            long end = Math.Min(i + 8, count);
            for (long j = i; j < end; j++)
            {
                T v = x[j];
                T q = T.Round(v * inv) + zero;
                if (q >= qmin && q <= qmax)
                {
                    bits |= 1 << (int)(j - i);
                }

                y[j] = T.IsNaN(v) ? v : (T.Clamp(q, qmin, qmax) - zero) * scale;
            }

            mask[i >> 3] = (byte)bits;
        }
    }

    /// <summary>dx = dy * bit, as LibTorch computes it (so a negative dy outside the range gives -0, and NaN stays NaN).</summary>
    public static void Backward(float* dy, byte* mask, float* dx, long count)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
            var one = Vector256.Create(1f);
            for (; i <= count - 8; i += 8)
            {
                var bits = Vector256.Create((int)mask[i >> 3]);
                var select = Vector256.Equals(bits & lanes, lanes).AsSingle();
                Vector256.Store(Vector256.Load(dy + i) * (select & one), dx + i);
            }
        }

        for (; i < count; i++)
        {
            dx[i] = dy[i] * (mask[i >> 3] >> (int)(i & 7) & 1);
        }
    }

    /// <summary>dx = dy * bit, as LibTorch computes it.</summary>
    public static void Backward(double* dy, byte* mask, double* dx, long count)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lanesLow = Vector256.Create(1L, 2, 4, 8);
            var lanesHigh = Vector256.Create(16L, 32, 64, 128);
            var one = Vector256.Create(1.0);
            for (; i <= count - 8; i += 8)
            {
                var bits = Vector256.Create((long)mask[i >> 3]);
                var low = Vector256.Equals(bits & lanesLow, lanesLow).AsDouble();
                var high = Vector256.Equals(bits & lanesHigh, lanesHigh).AsDouble();
                Vector256.Store(Vector256.Load(dy + i) * (low & one), dx + i);
                Vector256.Store(Vector256.Load(dy + i + 4) * (high & one), dx + i + 4);
            }
        }

        for (; i < count; i++)
        {
            dx[i] = dy[i] * (mask[i >> 3] >> (int)(i & 7) & 1);
        }
    }
}
