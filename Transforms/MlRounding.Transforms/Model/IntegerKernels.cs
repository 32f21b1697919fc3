using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MlRounding;

/// <summary>
/// The integer dot products of the scorer: unsigned 8-bit activation codes against signed weight codes of at most 8
/// bits, accumulated in 32-bit integers. Integer sums are exact, so every instruction set gives the same result:
/// AVX-VNNI (<c>vpdpbusd</c>, 32 products per instruction), AVX2 (<c>vpmaddubsw</c> + <c>vpmaddwd</c> for codes up to
/// 7 bits, <c>vpmaddwd</c> on 16-bit weights for 8-bit codes), <see cref="Vector128"/> (arm64 and other platforms) and a
/// scalar loop. The caller guarantees that no sum can overflow (<see cref="PackedLayer.Fits"/>).
/// </summary>
internal static partial class IntegerKernels
{
    /// <summary>The instruction sets, fastest last.</summary>
    internal enum Isa
    {
        Scalar,
        Vector128,
        Avx2,
        AvxVnni,
    }

    /// <summary>Gets the fastest instruction set of this machine.</summary>
    internal static Isa Best { get; } =
        AvxVnni.IsSupported ? Isa.AvxVnni
        : Avx2.IsSupported ? Isa.Avx2
        : Vector128.IsHardwareAccelerated ? Isa.Vector128
        : Isa.Scalar;

    /// <summary>Gets or sets the instruction set in use (tests force each one the machine has; they all give the same sums).</summary>
    internal static Isa Use => _forced ?? Best; // one thread-static read per layer, not per output

    [ThreadStatic]
    private static Isa? _forced;

    /// <summary>Makes <see cref="Dot"/> use <paramref name="isa"/> on the calling thread until the returned scope is disposed (tests compare every instruction set; other threads keep <see cref="Best"/>).</summary>
    internal static IDisposable Force(Isa isa)
    {
        Isa? previous = _forced;
        _forced = isa;
        return new Restore(previous);
    }

    /// <summary>Puts the calling thread's previous choice back when disposed.</summary>
    private sealed class Restore(Isa? previous) : IDisposable
    {
        public void Dispose() => _forced = previous;
    }

    /// <summary>
    /// acc[j] = Σ_k x[k] · w[j, k] for every row j of <paramref name="layer"/>. <paramref name="x"/> holds
    /// <see cref="PackedLayer.Stride"/> codes (the inputs, then zeros).
    /// </summary>
    public static void Dot(ReadOnlySpan<byte> x, PackedLayer layer, Span<int> acc)
    {
        switch (Use)
        {
            case Isa.AvxVnni when AvxVnni.IsSupported:
                DotVnni(x, layer.Codes, layer.Stride, acc);
                break;
            case Isa.Avx2 when Avx2.IsSupported && layer.SmallCodes:
                DotAvx2(x, layer.Codes, layer.Stride, acc);
                break;
            case Isa.Avx2 when Avx2.IsSupported:
                DotAvx2Wide(x, layer.WideCodes, layer.Stride, acc);
                break;
            case Isa.Vector128 or Isa.Avx2 or Isa.AvxVnni when Vector128.IsHardwareAccelerated:
                DotVector128(x, layer.Codes, layer.Stride, acc);
                break;
            default:
                DotScalar(x, layer.Codes, layer.Stride, acc);
                break;
        }
    }

    /// <summary>One step of a 256-bit dot product: acc + the products of 32 input codes (u8) and 32 weight codes (s8), summed to s32 lanes.</summary>
    private interface IMultiplyAdd
    {
        static abstract Vector256<int> Add(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> w);
    }

    /// <summary>u8 · s8 summed to s32 in one instruction (<c>vpdpbusd</c>).</summary>
    private readonly struct Vnni : IMultiplyAdd
    {
        public static Vector256<int> Add(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> w) => AvxVnni.MultiplyWideningAndAdd(acc, x, w);
    }

    /// <summary>u8 · s8 pairs summed to s16 (<c>vpmaddubsw</c>, exact while |w| ≤ 63), then to s32 (<c>vpmaddwd</c> by 1).</summary>
    private readonly struct Avx2Pairs : IMultiplyAdd
    {
        public static Vector256<int> Add(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> w) =>
            Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w), Vector256.Create((short)1)));
    }

    private static void DotVnni(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> w, int stride, Span<int> acc) => Dot256<Vnni>(x, w, stride, acc);

    private static void DotAvx2(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> w, int stride, Span<int> acc) => Dot256<Avx2Pairs>(x, w, stride, acc);

    /// <summary>Four rows at a time (the input codes are loaded once for four rows), then the remaining rows one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // never tier-0 code: the intrinsics would be calls
    private static void Dot256<TStep>(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> w, int stride, Span<int> acc)
        where TStep : struct, IMultiplyAdd
    {
        ref byte rx = ref MemoryMarshal.GetReference(x);
        ref sbyte rw = ref MemoryMarshal.GetReference(w);
        int rows = acc.Length, j = 0;
        for (; j + 4 <= rows; j += 4)
        {
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            nuint r0 = (nuint)(j * stride), r1 = r0 + (nuint)stride, r2 = r1 + (nuint)stride, r3 = r2 + (nuint)stride;
            for (nuint k = 0; k < (nuint)stride; k += 32)
            {
                Vector256<byte> xv = Vector256.LoadUnsafe(ref rx, k);
                a0 = TStep.Add(a0, xv, Vector256.LoadUnsafe(ref rw, r0 + k));
                a1 = TStep.Add(a1, xv, Vector256.LoadUnsafe(ref rw, r1 + k));
                a2 = TStep.Add(a2, xv, Vector256.LoadUnsafe(ref rw, r2 + k));
                a3 = TStep.Add(a3, xv, Vector256.LoadUnsafe(ref rw, r3 + k));
            }

            (acc[j], acc[j + 1], acc[j + 2], acc[j + 3]) = (Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
        }

        for (; j < rows; j++)
        {
            Vector256<int> a = default;
            nuint r = (nuint)(j * stride);
            for (nuint k = 0; k < (nuint)stride; k += 32)
            {
                a = TStep.Add(a, Vector256.LoadUnsafe(ref rx, k), Vector256.LoadUnsafe(ref rw, r + k));
            }

            acc[j] = Vector256.Sum(a);
        }
    }

    /// <summary>8-bit weight codes on AVX2 without VNNI: codes widened to s16 once (<see cref="PackedLayer.WideCodes"/>), <c>vpmaddwd</c>.</summary>
    private static void DotAvx2Wide(ReadOnlySpan<byte> x, ReadOnlySpan<short> w, int stride, Span<int> acc)
    {
        ref byte rx = ref MemoryMarshal.GetReference(x);
        ref short rw = ref MemoryMarshal.GetReference(w);
        int rows = acc.Length;
        for (int j = 0; j < rows; j++)
        {
            Vector256<int> a = default, b = default;
            nuint r = (nuint)(j * stride);
            for (nuint k = 0; k < (nuint)stride; k += 32)
            {
                Vector256<short> lo = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref rx, k));
                Vector256<short> hi = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref rx, k + 16));
                a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(lo, Vector256.LoadUnsafe(ref rw, r + k)));
                b = Avx2.Add(b, Avx2.MultiplyAddAdjacent(hi, Vector256.LoadUnsafe(ref rw, r + k + 16)));
            }

            acc[j] = Vector256.Sum(a + b);
        }
    }

    /// <summary>Portable: u8 and s8 widened to s16 (their product fits: 255 · 127 &lt; 2^15), products widened to s32 and summed.</summary>
    private static void DotVector128(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> w, int stride, Span<int> acc)
    {
        ref byte rx = ref MemoryMarshal.GetReference(x);
        ref sbyte rw = ref MemoryMarshal.GetReference(w);
        for (int j = 0; j < acc.Length; j++)
        {
            Vector128<int> a = default;
            nuint r = (nuint)(j * stride);
            for (nuint k = 0; k < (nuint)stride; k += 16)
            {
                var (xl, xh) = Vector128.Widen(Vector128.LoadUnsafe(ref rx, k));
                var (wl, wh) = Vector128.Widen(Vector128.LoadUnsafe(ref rw, r + k));
                var (p0, p1) = Vector128.Widen(xl.AsInt16() * wl);
                var (p2, p3) = Vector128.Widen(xh.AsInt16() * wh);
                a += (p0 + p1) + (p2 + p3);
            }

            acc[j] = Vector128.Sum(a);
        }
    }

    private static void DotScalar(ReadOnlySpan<byte> x, ReadOnlySpan<sbyte> w, int stride, Span<int> acc)
    {
        for (int j = 0; j < acc.Length; j++)
        {
            int sum = 0;
            ReadOnlySpan<sbyte> row = w.Slice(j * stride, stride);
            for (int k = 0; k < stride; k++)
            {
                sum += x[k] * row[k];
            }

            acc[j] = sum;
        }
    }
}

/// <summary>
/// A layer's weight codes laid out for <see cref="IntegerKernels"/>: one row per output, each padded with zeros to
/// <see cref="Stride"/> (a multiple of 32), as signed bytes (and as 16-bit integers where AVX2 without VNNI needs them),
/// with the sum of each row for the zero-point correction Σ (q - z) w = Σ q w - z Σ w.
/// </summary>
internal sealed class PackedLayer
{
    private short[]? _wide;

    public PackedLayer(QuantizedLayer layer)
    {
        Rows = layer.Outputs;
        Inputs = layer.Inputs;
        Stride = (layer.Inputs + 31) / 32 * 32;
        Codes = new sbyte[Rows * Stride];
        RowSums = new int[Rows];
        int[] codes = layer.Codes;
        int max = 0;
        for (int j = 0; j < Rows; j++)
        {
            int sum = 0;
            for (int k = 0; k < Inputs; k++)
            {
                int c = codes[j * Inputs + k];
                Codes[j * Stride + k] = (sbyte)c;
                sum += c;
                max = Math.Max(max, Math.Abs(c));
            }

            RowSums[j] = sum;
        }

        MaxCode = max;
        SmallCodes = max <= 63;
    }

    /// <summary>Gets the number of outputs.</summary>
    public int Rows { get; }

    /// <summary>Gets the number of inputs.</summary>
    public int Inputs { get; }

    /// <summary>Gets the length of a padded row.</summary>
    public int Stride { get; }

    /// <summary>Gets the codes, row-major, each row padded to <see cref="Stride"/>.</summary>
    public sbyte[] Codes { get; }

    /// <summary>Gets Σ_k w[j, k] per row.</summary>
    public int[] RowSums { get; }

    /// <summary>Gets the largest code magnitude.</summary>
    public int MaxCode { get; }

    /// <summary>Gets a value indicating whether every |code| ≤ 63, so <c>vpmaddubsw</c>'s 16-bit pair sums cannot saturate.</summary>
    public bool SmallCodes { get; }

    /// <summary>Gets the codes as 16-bit integers (built on first use).</summary>
    public short[] WideCodes => _wide ??= Array.ConvertAll(Codes, c => (short)c);

    /// <summary>Whether the 32-bit sums of inputs up to <paramref name="maxInput"/> (and the zero-point correction) cannot overflow.</summary>
    public bool Fits(long maxInput) => (long)Inputs * MaxCode * Math.Max(maxInput, 1) * 2 < int.MaxValue;
}
