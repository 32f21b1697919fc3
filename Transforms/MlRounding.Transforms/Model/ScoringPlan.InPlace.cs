using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlRounding;

/// <summary>
/// The convolution blocks a <see cref="ScoringPlan"/> computes in place: the block's byte input copied once into a
/// channel-last map with a border (<see cref="PatchRows.Fill"/>), each row of positions summed by
/// <see cref="IntegerKernels.ConvolveRow"/> (filters in the lanes), the pooling windows' maxima taken on those integer
/// sums, and only the pooled sums scaled. Every filter's scale is positive (<see cref="TakesRuns(LayerPlan)"/>), so
/// y = (float)(acc - correction) · scale + bias does not decrease with acc: the maximum of the sums gives the same float
/// as the maximum of the outputs, bit for bit, on a quarter of the scaling work.
/// </summary>
internal sealed partial class ScoringPlan
{
    /// <summary>Whether the block of <paramref name="plan"/> is computed in place on the calling thread's instruction set.</summary>
    private static bool TakesRuns(LayerPlan plan) => plan.Rows is { } rows && IntegerKernels.TakesRuns(rows);

    /// <summary>
    /// Readies <paramref name="plan"/> for the in-place path when its block's filters allow it (byte codes, every scale
    /// positive): the patch layout (<see cref="LayerPlan.Rows"/>), and the filters' scales, biases and corrections
    /// repeated for a row of pooled positions, so that one
    /// <see cref="CodeKernels.ScaleBias(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> scales a whole row.
    /// Otherwise <see cref="LayerPlan.Rows"/> stays null and the block takes the gather path.
    /// </summary>
    private static void PrepareInPlace(QuantizedConvolution block, LayerPlan plan)
    {
        if (!plan.Kernel || plan.Scale.Length != block.Filters.Outputs || !plan.Scale.All(s => s > 0 && float.IsFinite(s)))
        {
            return;
        }

        int positions = block.Output.Width;
        plan.TiledScale = Tiled(plan.Scale, positions);
        plan.TiledBias = Tiled(block.Filters.Biases, positions);
        plan.TiledCorrection = Tiled(plan.Correction, positions);
        plan.Rows = new PatchRows(block);
    }

    private static T[] Tiled<T>(T[] values, int times) => Enumerable.Repeat(values, times).SelectMany(v => v).ToArray();

    /// <summary>The ints <see cref="InPlace"/> needs of <see cref="Maps.Acc"/>: two rows of positions and a row of pooled windows.</summary>
    private static int InPlaceInts(QuantizedConvolution block)
    {
        int stride = PatchRows.StrideOf(block.Filters.Outputs);
        return (2 * ((block.Input.Width + 1) & ~1) * stride) + (block.Output.Width * block.Filters.Outputs) + PatchRows.Lanes;
    }

    /// <summary>
    /// The block's pooled outputs, position-major into <see cref="Maps.Pooled"/>, from its byte input
    /// <see cref="Maps.BytesIn"/> (channel-last with <paramref name="channelLast"/>, else channel-planar): per output row,
    /// the sums of the window's input rows and their element-wise maximum, then per window the maximum over its columns,
    /// scaled and biased (<see cref="CodeKernels.ScaleBias(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>).
    /// </summary>
    private static void InPlace(QuantizedConvolution block, LayerPlan plan, PatchRows rows, Maps m, bool channelLast)
    {
        int k = block.KernelSize, width = block.Input.Width, outputs = block.Filters.Outputs, pool = block.PoolSize;
        int rowStride = (width + k - 1) * rows.Channels, stride = rows.Stride, run = ((width + 1) & ~1) * stride;
        Span<byte> map = m.ChannelLast.AsSpan(0, rows.MapBytes(block.Input));
        rows.Fill(m.BytesIn, block.Input, plan.Zeros, map, channelLast);
        ImageShape shape = block.Output;
        int pooledRow = shape.Width * outputs;
        Span<int> sums = m.Acc.AsSpan(0, run), next = m.Acc.AsSpan(run, run), windows = m.Acc.AsSpan(2 * run, pooledRow + PatchRows.Lanes);
        for (int py = 0; py < shape.Height; py++)
        {
            IntegerKernels.ConvolveRow(map, py * pool * rowStride, rowStride, width, rows, sums);
            for (int dy = 1; dy < pool; dy++)
            {
                IntegerKernels.ConvolveRow(map, ((py * pool) + dy) * rowStride, rowStride, width, rows, next);
                TensorPrimitives.Max(sums, next, sums);
            }

            PoolColumns(sums, pool, stride, outputs, shape.Width, windows);
            CodeKernels.ScaleBias(windows[..pooledRow], plan.TiledCorrection, plan.TiledScale, plan.TiledBias, m.Pooled.AsSpan(py * pooledRow, pooledRow));
        }
    }

    /// <summary>
    /// Per window of <paramref name="pool"/> positions, the element-wise maximum of their sums (<paramref name="stride"/>
    /// apart), the first <paramref name="outputs"/> of them, window after window into <paramref name="windows"/> (which
    /// holds 8 more: a window's last vector runs into the next, written after it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // never tier-0 code: the intrinsics would be calls
    private static void PoolColumns(ReadOnlySpan<int> sums, int pool, int stride, int outputs, int count, Span<int> windows)
    {
        ref int rs = ref MemoryMarshal.GetReference(sums);
        ref int rw = ref MemoryMarshal.GetReference(windows);
        for (int px = 0; px < count; px++)
        {
            nuint from = (nuint)(px * pool * stride), to = (nuint)(px * outputs);
            for (nuint i = 0; i < (nuint)outputs; i += (nuint)PatchRows.Lanes)
            {
                Vector256<int> v = Vector256.LoadUnsafe(ref rs, from + i);
                for (int dx = 1; dx < pool; dx++)
                {
                    v = Vector256.Max(v, Vector256.LoadUnsafe(ref rs, from + (nuint)(dx * stride) + i));
                }

                v.StoreUnsafe(ref rw, to + i);
            }
        }
    }
}
