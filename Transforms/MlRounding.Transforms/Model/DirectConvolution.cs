using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlRounding;

/// <summary>
/// A convolution block with a small patch (channels · k² ≤ <see cref="MaxPatch"/> byte codes, e.g. the first block on a
/// gray image), computed tap by tap over whole rows instead of patch by patch: the input is padded with each channel's
/// zero code to (H + k - 1) × (W + k - 1), so that for a tap (dy, dx) the inputs of all output positions, taken over the
/// padded width, are one contiguous run shifted by dy · padded width + dx; each weight code multiplies that run into
/// 32-bit accumulators (exact: the same integer sums as the patch kernels, so the same bits on every instruction set).
/// Then, per output, y = (float)(acc - correction) · scale + bias, as <see cref="CodeKernels.ScaleBias(ReadOnlySpan{int}, int, float, float, Span{float})"/>.
/// </summary>
internal static class DirectConvolution
{
    /// <summary>The largest patch taken this way: one 32-byte chunk of the patch kernels, most of it padding there.</summary>
    public const int MaxPatch = 32;

    /// <summary>
    /// The block's outputs before pooling, channel-planar into <paramref name="y"/> ((j · H + y) · W + x), from the
    /// byte codes <paramref name="map"/> (channel-planar), the channels' zero codes <paramref name="zeros"/> (one per
    /// patch entry, as the plan holds them; empty for zero codes of 0), the filters' codes, scales, corrections and biases.
    /// </summary>
    public static void Run(QuantizedConvolution block, int[] zeros, float[] scale, int[] correction, byte[] map, float[] y, int[] padded, int[] acc)
    {
        int k = block.KernelSize, height = block.Input.Height, width = block.Input.Width, channels = block.Input.Channels;
        int pw = width + k - 1, ph = height + k - 1, run = (height - 1) * pw + width; // through the last valid position: every tap stays in its plane
        Pad(map, zeros, k, channels, height, width, padded);
        QuantizedLayer f = block.Filters;
        int[] codes = f.Codes;
        float[] bias = f.Biases;
        for (int j = 0; j < f.Outputs; j++)
        {
            Span<int> a = acc.AsSpan(0, run);
            a.Clear();
            for (int c = 0; c < channels; c++)
            {
                for (int dy = 0; dy < k; dy++)
                {
                    for (int dx = 0; dx < k; dx++)
                    {
                        int w = codes[j * f.Inputs + (c * k + dy) * k + dx];
                        if (w != 0)
                        {
                            MultiplyAdd(a, padded.AsSpan(c * ph * pw + dy * pw + dx, run), w);
                        }
                    }
                }
            }

            int corr = correction.Length == 0 ? 0 : correction[j];
            for (int row = 0; row < height; row++)
            {
                CodeKernels.ScaleBias(a.Slice(row * pw, width), corr, scale[j], bias[j], y.AsSpan((j * height + row) * width, width));
            }
        }
    }

    /// <summary>Each channel's codes inside a border of its zero code, (H + k - 1) × (W + k - 1) ints per channel.</summary>
    private static void Pad(byte[] map, int[] zeros, int k, int channels, int height, int width, int[] padded)
    {
        int half = k / 2, pw = width + k - 1, ph = height + k - 1;
        for (int c = 0; c < channels; c++)
        {
            Span<int> plane = padded.AsSpan(c * ph * pw, ph * pw);
            plane.Fill(zeros.Length == 0 ? 0 : zeros[c * k * k]);
            for (int row = 0; row < height; row++)
            {
                Span<int> target = plane.Slice((row + half) * pw + half, width);
                ReadOnlySpan<byte> source = map.AsSpan(c * height * width + row * width, width);
                for (int x = 0; x < width; x++)
                {
                    target[x] = source[x];
                }
            }
        }
    }

    /// <summary>a[i] += x[i] · w over the run, in the widest integer vectors the machine has (exact whichever).</summary>
    private static void MultiplyAdd(Span<int> a, ReadOnlySpan<int> x, int w)
    {
        ref int ra = ref MemoryMarshal.GetReference(a);
        ref int rx = ref MemoryMarshal.GetReference(x);
        int i = 0, n = a.Length;
        if (IntegerKernels.Use >= IntegerKernels.Isa.Avx2 && Vector256.IsHardwareAccelerated)
        {
            Vector256<int> vw = Vector256.Create(w);
            for (; i <= n - 8; i += 8)
            {
                (Vector256.LoadUnsafe(ref ra, (nuint)i) + (Vector256.LoadUnsafe(ref rx, (nuint)i) * vw)).StoreUnsafe(ref ra, (nuint)i);
            }
        }
        else if (IntegerKernels.Use >= IntegerKernels.Isa.Vector128 && Vector128.IsHardwareAccelerated)
        {
            Vector128<int> vw = Vector128.Create(w);
            for (; i <= n - 4; i += 4)
            {
                (Vector128.LoadUnsafe(ref ra, (nuint)i) + (Vector128.LoadUnsafe(ref rx, (nuint)i) * vw)).StoreUnsafe(ref ra, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref ra, i) += Unsafe.Add(ref rx, i) * w;
        }
    }
}
