using System.Numerics.Tensors;

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

    /// <summary>The patch layout of a block whose filters the in-place path can take (byte codes, every scale positive), else null.</summary>
    private static PatchRows? InPlaceRows(QuantizedConvolution block, LayerPlan plan) =>
        plan.Kernel && plan.Scale.Length == block.Filters.Outputs && plan.Scale.All(s => s > 0 && float.IsFinite(s)) ? new PatchRows(block) : null;

    /// <summary>The ints <see cref="InPlace"/> needs of <see cref="Maps.Acc"/>: two rows of positions and one pooled position.</summary>
    private static int InPlaceInts(QuantizedConvolution block)
    {
        int stride = PatchRows.StrideOf(block.Filters.Outputs);
        return (2 * ((block.Input.Width + 1) & ~1) * stride) + stride;
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
        Span<int> sums = m.Acc.AsSpan(0, run), next = m.Acc.AsSpan(run, run), window = m.Acc.AsSpan(2 * run, stride);
        ImageShape shape = block.Output;
        for (int py = 0; py < shape.Height; py++)
        {
            IntegerKernels.ConvolveRow(map, py * pool * rowStride, rowStride, width, rows, sums);
            for (int dy = 1; dy < pool; dy++)
            {
                IntegerKernels.ConvolveRow(map, ((py * pool) + dy) * rowStride, rowStride, width, rows, next);
                TensorPrimitives.Max(sums, next, sums);
            }

            for (int px = 0; px < shape.Width; px++)
            {
                Span<int> first = sums.Slice(px * pool * stride, stride);
                first.CopyTo(window);
                for (int dx = 1; dx < pool; dx++)
                {
                    TensorPrimitives.Max(window, sums.Slice(((px * pool) + dx) * stride, stride), window);
                }

                Span<float> pooled = m.Pooled.AsSpan(((py * shape.Width) + px) * outputs, outputs);
                CodeKernels.ScaleBias(window[..outputs], plan.Correction, plan.Scale, block.Filters.Biases, pooled);
            }
        }
    }
}
