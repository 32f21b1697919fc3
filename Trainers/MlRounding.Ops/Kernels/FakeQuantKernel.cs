using System.Numerics;
using System.Runtime.Intrinsics;

namespace MlRounding.Kernels;

/// <summary>
/// One-pass affine fake quantization, the vectorized specialization of <see cref="RoundingRules.FakeQuantize{T}"/>:
/// out = (clamp(round(x * inv) + z, qmin, qmax) - z) * scale, and a 1-bit mask (bit i of byte i/8) set where
/// round(x * inv) + z lies inside [qmin, qmax]. NaN inputs give NaN outputs with a clear mask bit. Multiplying by
/// inv = 1/scale (rather than dividing) matches LibTorch bit for bit. float32 (one vector per mask byte) and float64
/// (two) share the code; the tails call the scalar rule.
/// </summary>
internal static unsafe class FakeQuantKernel
{
    private static readonly Vector256<int> Bits32 = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
    private static readonly Vector256<long> Bits64 = Vector256.Create(1L, 2, 4, 8);

    public static void Forward<T>(T* x, T* y, byte* mask, long count, T scale, T zero, T qmin, T qmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T inv = T.One / scale;
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var (vinv, vs, vz, vmin, vmax) = (Vector256.Create(inv), Vector256.Create(scale), Vector256.Create(zero), Vector256.Create(qmin), Vector256.Create(qmax));
            for (; i <= count - 8; i += 8)
            {
                int bits = 0;
                for (int part = 0; part < 8; part += Vector256<T>.Count)
                {
                    var v = Vector256.Load(x + i + part);
                    var q = RoundingRules.RoundHalfToEven(v * vinv) + vz;
                    var inside = Vector256.GreaterThanOrEqual(q, vmin) & Vector256.LessThanOrEqual(q, vmax);
                    var result = (Vector256.MinNative(Vector256.MaxNative(q, vmin), vmax) - vz) * vs;
                    var nan = ~Vector256.Equals(v, v);
                    Vector256.Store(Vector256.ConditionalSelect(nan, v, result), y + i + part);
                    bits |= (int)inside.ExtractMostSignificantBits() << part;
                }

                mask[i >> 3] = (byte)bits;
            }
        }

        for (; i < count; i += 8)
        {
            int bits = 0;
            long end = Math.Min(i + 8, count);
            for (long j = i; j < end; j++)
            {
                y[j] = RoundingRules.FakeQuantize(x[j], inv, scale, zero, qmin, qmax, out bool inside);
                bits |= inside ? 1 << (int)(j - i) : 0;
            }

            mask[i >> 3] = (byte)bits;
        }
    }

    /// <summary>dx = dy * bit, as LibTorch computes it (so a negative dy outside the range gives -0, and NaN stays NaN).</summary>
    public static void Backward<T>(T* dy, byte* mask, T* dx, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= count - 8; i += 8)
            {
                int bits = mask[i >> 3];
                for (int part = 0; part < 8; part += Vector256<T>.Count)
                {
                    Vector256.Store(Vector256.Load(dy + i + part) * (Lanes<T>(bits >> part) & Vector256<T>.One), dx + i + part);
                }
            }
        }

        for (; i < count; i++)
        {
            dx[i] = dy[i] * T.CreateTruncating(mask[i >> 3] >> (int)(i & 7) & 1);
        }
    }

    /// <summary>All ones in lane k where bit k of <paramref name="bits"/> is set.</summary>
    private static Vector256<T> Lanes<T>(int bits) => typeof(T) == typeof(float)
        ? Vector256.Equals(Vector256.Create(bits) & Bits32, Bits32).As<int, T>()
        : Vector256.Equals(Vector256.Create((long)bits) & Bits64, Bits64).As<long, T>();
}
