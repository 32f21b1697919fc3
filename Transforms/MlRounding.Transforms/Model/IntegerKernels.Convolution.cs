using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MlRounding;

/// <summary>The convolution kernel of the scorer: patches read in place, filters in the lanes.</summary>
internal static partial class IntegerKernels
{
    /// <summary>
    /// One row of a convolution block's sums, its patches read in place from a channel-last map (<see cref="PatchRows"/>):
    /// acc[p · rows.Stride + j] = Σ_dy Σ_i map[start + dy · rowStride + p · C + i] · w[j, dy, i] for every filter j and
    /// every position p below <paramref name="positions"/> rounded up to even (two positions at a time, so
    /// <paramref name="acc"/> holds that many; lanes past the last filter get 0). Each four codes of a run are broadcast
    /// and meet 8 filters in one multiply-add. Only the 256-bit kernels (AVX-VNNI, and AVX2 when every |code| ≤ 63) take
    /// this path (<see cref="TakesRuns"/>, asked once per block); false means the caller gathers the patches instead.
    /// </summary>
    /// <exception cref="ArgumentException">The map or the accumulators are too short for the row.</exception>
    public static bool ConvolveRow(ReadOnlySpan<byte> map, int start, int rowStride, int positions, PatchRows rows, Span<int> acc)
    {
        int even = (positions + 1) & ~1;
        if (acc.Length < even * rows.Stride || start < 0 || map.Length < start + ((rows.K - 1) * rowStride) + ((even - 1) * rows.Channels) + (rows.Quads * 4))
        {
            throw new ArgumentException("the map or the accumulators are too short for the row.");
        }

        switch (Use)
        {
            case Isa.AvxVnni when AvxVnni.IsSupported:
                ConvolveRow256<Vnni>(map, start, rowStride, even, rows, acc);
                return true;
            case Isa.Avx2 when Avx2.IsSupported && rows.SmallCodes:
                ConvolveRow256<Avx2Pairs>(map, start, rowStride, even, rows, acc);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Whether <see cref="ConvolveRow"/> computes <paramref name="rows"/>' sums on the calling thread's instruction set.</summary>
    public static bool TakesRuns(PatchRows rows) => Use switch
    {
        Isa.AvxVnni => AvxVnni.IsSupported,
        Isa.Avx2 => Avx2.IsSupported && rows.SmallCodes,
        _ => false,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // never tier-0 code: the intrinsics would be calls
    private static void ConvolveRow256<TStep>(ReadOnlySpan<byte> map, int start, int rowStride, int even, PatchRows rows, Span<int> acc)
        where TStep : struct, IMultiplyAdd
    {
        ref byte rm = ref Unsafe.Add(ref MemoryMarshal.GetReference(map), start);
        ref sbyte rw = ref MemoryMarshal.GetArrayDataReference(rows.Codes);
        ref int ra = ref MemoryMarshal.GetReference(acc);
        var shape = new RunShape(rows.K, rows.Quads, rows.Groups, rows.Channels, rowStride, rows.Stride);
        int p = 0;
        if (rows.Groups % 2 == 0 && Avx512F.IsSupported)
        {
            // Filters in multiples of 16 on a machine with 32 vector registers (EVEX): up to 16 accumulators, each weight
            // vector loaded once for four positions (with 16 registers they would spill, so there two positions at a time).
            for (; p + 4 <= even; p += 4)
            {
                ref byte x = ref Unsafe.Add(ref rm, p * rows.Channels);
                ref int a = ref Unsafe.Add(ref ra, p * rows.Stride);
                int g = 0;
                for (; g + 4 <= rows.Groups; g += 4)
                {
                    FourPositions<TStep, FourGroups>(ref x, ref Unsafe.Add(ref rw, g * 32), ref Unsafe.Add(ref a, g * PatchRows.Lanes), shape);
                }

                if (g < rows.Groups)
                {
                    FourPositions<TStep, TwoGroups>(ref x, ref Unsafe.Add(ref rw, g * 32), ref Unsafe.Add(ref a, g * PatchRows.Lanes), shape);
                }
            }
        }

        for (; p < even; p += 2)
        {
            ref byte x = ref Unsafe.Add(ref rm, p * rows.Channels);
            ref int a = ref Unsafe.Add(ref ra, p * rows.Stride);
            int g = 0;
            for (; g + 4 <= rows.Groups; g += 4)
            {
                TwoPositions<TStep, FourGroups>(ref x, ref Unsafe.Add(ref rw, g * 32), ref Unsafe.Add(ref a, g * PatchRows.Lanes), shape);
            }

            if (g + 2 <= rows.Groups)
            {
                TwoPositions<TStep, TwoGroups>(ref x, ref Unsafe.Add(ref rw, g * 32), ref Unsafe.Add(ref a, g * PatchRows.Lanes), shape);
                g += 2;
            }

            if (g < rows.Groups)
            {
                TwoPositions<TStep, OneGroup>(ref x, ref Unsafe.Add(ref rw, g * 32), ref Unsafe.Add(ref a, g * PatchRows.Lanes), shape);
            }
        }
    }

    /// <summary>
    /// The sums of two neighbouring positions (<paramref name="x"/> and C bytes on) against <typeparamref name="TGroups"/>
    /// filter groups from <paramref name="w"/>, in registers until the end: per kernel row and quad, two broadcasts and
    /// up to four weight vectors, each used twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // never tier-0 code: the intrinsics would be calls
    private static void TwoPositions<TStep, TGroups>(ref byte x, ref sbyte w, ref int a, RunShape s)
        where TStep : struct, IMultiplyAdd
        where TGroups : struct, IGroupCount
    {
        int n = TGroups.Count, quadBytes = s.Groups * 32;
        Vector256<int> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<int> a10 = default, a11 = default, a12 = default, a13 = default;
        for (int dy = 0; dy < s.K; dy++)
        {
            ref byte r0 = ref Unsafe.Add(ref x, dy * s.RowStride);
            ref byte r1 = ref Unsafe.Add(ref r0, s.Channels);
            ref sbyte wr = ref Unsafe.Add(ref w, dy * s.Quads * quadBytes);
            for (int q = 0; q < s.Quads; q++)
            {
                Vector256<byte> v0 = Broadcast(ref r0, q), v1 = Broadcast(ref r1, q);
                ref sbyte wq = ref Unsafe.Add(ref wr, q * quadBytes);
                Vector256<sbyte> w0 = Vector256.LoadUnsafe(ref wq);
                (a00, a10) = (TStep.Add(a00, v0, w0), TStep.Add(a10, v1, w0));
                if (n > 1)
                {
                    Vector256<sbyte> w1 = Vector256.LoadUnsafe(ref wq, 32);
                    (a01, a11) = (TStep.Add(a01, v0, w1), TStep.Add(a11, v1, w1));
                }

                if (n > 2)
                {
                    Vector256<sbyte> w2 = Vector256.LoadUnsafe(ref wq, 64), w3 = Vector256.LoadUnsafe(ref wq, 96);
                    (a02, a12) = (TStep.Add(a02, v0, w2), TStep.Add(a12, v1, w2));
                    (a03, a13) = (TStep.Add(a03, v0, w3), TStep.Add(a13, v1, w3));
                }
            }
        }

        ref int b = ref Unsafe.Add(ref a, s.Stride);
        a00.StoreUnsafe(ref a);
        a10.StoreUnsafe(ref b);
        if (n > 1)
        {
            a01.StoreUnsafe(ref a, 8);
            a11.StoreUnsafe(ref b, 8);
        }

        if (n > 2)
        {
            a02.StoreUnsafe(ref a, 16);
            a12.StoreUnsafe(ref b, 16);
            a03.StoreUnsafe(ref a, 24);
            a13.StoreUnsafe(ref b, 24);
        }
    }

    /// <summary>
    /// The sums of four neighbouring positions against <typeparamref name="TGroups"/> (two or four) filter groups, as
    /// <see cref="TwoPositions{TStep, TGroups}"/>: per kernel row and quad, each weight vector loaded once for the four.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // never tier-0 code: the intrinsics would be calls
    private static void FourPositions<TStep, TGroups>(ref byte x, ref sbyte w, ref int a, RunShape s)
        where TStep : struct, IMultiplyAdd
        where TGroups : struct, IGroupCount
    {
        int n = TGroups.Count, quadBytes = s.Groups * 32;
        Vector256<int> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<int> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<int> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<int> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int dy = 0; dy < s.K; dy++)
        {
            ref byte r0 = ref Unsafe.Add(ref x, dy * s.RowStride);
            ref byte r1 = ref Unsafe.Add(ref r0, s.Channels);
            ref byte r2 = ref Unsafe.Add(ref r1, s.Channels);
            ref byte r3 = ref Unsafe.Add(ref r2, s.Channels);
            ref sbyte wr = ref Unsafe.Add(ref w, dy * s.Quads * quadBytes);
            for (int q = 0; q < s.Quads; q++)
            {
                ref sbyte wq = ref Unsafe.Add(ref wr, q * quadBytes);
                Vector256<sbyte> w0 = Vector256.LoadUnsafe(ref wq), w1 = Vector256.LoadUnsafe(ref wq, 32);
                Vector256<sbyte> w2 = n > 2 ? Vector256.LoadUnsafe(ref wq, 64) : default, w3 = n > 2 ? Vector256.LoadUnsafe(ref wq, 96) : default;
                Vector256<byte> v0 = Broadcast(ref r0, q), v1 = Broadcast(ref r1, q), v2 = Broadcast(ref r2, q), v3 = Broadcast(ref r3, q);
                (a00, a01, a10, a11) = (TStep.Add(a00, v0, w0), TStep.Add(a01, v0, w1), TStep.Add(a10, v1, w0), TStep.Add(a11, v1, w1));
                (a20, a21, a30, a31) = (TStep.Add(a20, v2, w0), TStep.Add(a21, v2, w1), TStep.Add(a30, v3, w0), TStep.Add(a31, v3, w1));
                if (n > 2)
                {
                    (a02, a03, a12, a13) = (TStep.Add(a02, v0, w2), TStep.Add(a03, v0, w3), TStep.Add(a12, v1, w2), TStep.Add(a13, v1, w3));
                    (a22, a23, a32, a33) = (TStep.Add(a22, v2, w2), TStep.Add(a23, v2, w3), TStep.Add(a32, v3, w2), TStep.Add(a33, v3, w3));
                }
            }
        }

        Store(ref a, n, a00, a01, a02, a03);
        Store(ref Unsafe.Add(ref a, s.Stride), n, a10, a11, a12, a13);
        Store(ref Unsafe.Add(ref a, 2 * s.Stride), n, a20, a21, a22, a23);
        Store(ref Unsafe.Add(ref a, 3 * s.Stride), n, a30, a31, a32, a33);
    }

    /// <summary>The four codes of quad <paramref name="q"/> of a run, in every 32-bit lane.</summary>
    private static Vector256<byte> Broadcast(ref byte run, int q) => Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref run, q * 4))).AsByte();

    /// <summary>One position's sums of <paramref name="n"/> (two or four) filter groups, in order.</summary>
    private static void Store(ref int a, int n, Vector256<int> g0, Vector256<int> g1, Vector256<int> g2, Vector256<int> g3)
    {
        g0.StoreUnsafe(ref a);
        g1.StoreUnsafe(ref a, 8);
        if (n > 2)
        {
            g2.StoreUnsafe(ref a, 16);
            g3.StoreUnsafe(ref a, 24);
        }
    }

    /// <summary>The sizes <see cref="TwoPositions{TStep, TGroups}"/> walks by.</summary>
    private readonly record struct RunShape(int K, int Quads, int Groups, int Channels, int RowStride, int Stride);

    /// <summary>How many filter groups one call of <see cref="TwoPositions{TStep, TGroups}"/> takes (1, 2 or 4; a constant per instantiation).</summary>
    private interface IGroupCount
    {
        static abstract int Count { get; }
    }

    private readonly struct OneGroup : IGroupCount
    {
        public static int Count => 1;
    }

    private readonly struct TwoGroups : IGroupCount
    {
        public static int Count => 2;
    }

    private readonly struct FourGroups : IGroupCount
    {
        public static int Count => 4;
    }
}
