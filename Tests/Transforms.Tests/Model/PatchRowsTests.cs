namespace MlRounding.Tests.Model;

/// <summary>
/// Patches read in place from the channel-last map (<see cref="PatchRows"/>, <see cref="IntegerKernels.ConvolveRow"/>):
/// every position's sums equal the direct sums over the patch, outside the image each channel's zero code, lanes past the
/// last filter 0, on every 256-bit instruction set of the machine (the others decline, and the scorer gathers instead).
/// </summary>
[TestClass]
public sealed class PatchRowsTests
{
    [TestMethod]
    [DataRow(5, 3, 4, 7, 7, 6)] // the second block of a small CNN: 45 codes per patch, an odd width
    [DataRow(3, 5, 2, 9, 8, 6)] // a colour image under a 5x5 kernel: 75 codes per patch, five runs
    [DataRow(16, 3, 8, 14, 14, 32)] // the default CNN's second block: 144 codes per patch, four filter groups
    [DataRow(1, 3, 4, 28, 28, 16)] // a first block on a gray image: 3-code runs, two filter groups
    [DataRow(3, 3, 2, 5, 7, 64)] // eight filter groups, four positions at a time, the last one past the row's end
    [DataRow(2, 3, 4, 6, 10, 48)] // six filter groups: four, then two, at four positions, then a pair of positions
    [DataRow(2, 1, 4, 5, 3, 27)] // 1x1 kernels, 27 filters: groups taken four, two, then one at a time
    public void ConvolveRow_EqualsDirectPatchSums_WithEachChannelsZeroCode(int channels, int k, int weightBits, int height, int width, int outputs)
    {
        var random = new Random(channels * 100 + k);
        var shape = new ImageShape(channels, height, width);
        int patch = channels * k * k;
        int max = (1 << (weightBits - 1)) - 1;
        int[] codes = Enumerable.Range(0, outputs * patch).Select(_ => random.Next(-max, max + 1)).ToArray();
        var block = new QuantizedConvolution(shape, k, new QuantizedLayer(patch, outputs, weightBits, codes, Enumerable.Repeat(0.01f, outputs).ToArray(), new float[outputs]));
        byte[] planar = Enumerable.Range(0, shape.Size).Select(_ => (byte)random.Next(256)).ToArray();
        int[] zeros = Enumerable.Range(0, channels).Select(c => 100 + c).ToArray();
        var rows = new PatchRows(block);
        var map = new byte[rows.MapBytes(shape)];
        rows.Fill(planar, shape, Enumerable.Range(0, patch).Select(i => zeros[i / (k * k)]).ToArray(), map);
        int rowStride = (width + k - 1) * channels;

        int taken = 0;
        foreach (var isa in Enum.GetValues<IntegerKernels.Isa>().Where(i => i <= IntegerKernels.Best))
        {
            using var forced = IntegerKernels.Force(isa);
            var acc = new int[((width + 1) & ~1) * rows.Stride];
            for (int y = 0; y < height; y++)
            {
                acc.AsSpan().Fill(-1);
                if (!IntegerKernels.ConvolveRow(map, y * rowStride, rowStride, width, rows, acc))
                {
                    Assert.AreNotEqual(IntegerKernels.Isa.AvxVnni, isa, "VNNI always takes the in-place path");
                    goto next;
                }

                for (int x = 0; x < width; x++)
                {
                    for (int j = 0; j < rows.Stride; j++)
                    {
                        int expected = j < outputs ? Direct(codes, planar, zeros, shape, k, j, y, x) : 0;
                        Assert.AreEqual(expected, acc[(x * rows.Stride) + j], $"{isa}: filter {j} at ({y}, {x})");
                    }
                }
            }

            taken++;
        next:;
        }

        if (IntegerKernels.Best >= IntegerKernels.Isa.Avx2)
        {
            Assert.IsGreaterThan(0, taken, "a 256-bit kernel took the in-place path");
        }
    }

    [TestMethod]
    public void ConvolveRow_ShortMap_Throws()
    {
        var block = new QuantizedConvolution(new ImageShape(2, 4, 4), 3, new QuantizedLayer(18, 3, 4, new int[54], new float[] { 1, 1, 1 }, new float[3]));
        var rows = new PatchRows(block);
        int rowStride = 6 * 2; // padded width 6, two channels
        // The last row reads from 3 · 12, two kernel rows on (24), the fourth position (3 · 2) and two quads (8): 74 bytes.
        Assert.IsTrue(IntegerKernels.ConvolveRow(new byte[74], 3 * rowStride, rowStride, 4, rows, new int[4 * rows.Stride]) || IntegerKernels.Best < IntegerKernels.Isa.AvxVnni);
        Assert.ThrowsExactly<ArgumentException>(() => IntegerKernels.ConvolveRow(new byte[73], 3 * rowStride, rowStride, 4, rows, new int[4 * rows.Stride]));
        Assert.ThrowsExactly<ArgumentException>(() => IntegerKernels.ConvolveRow(new byte[rows.MapBytes(block.Input)], 0, rowStride, 4, rows, new int[(4 * rows.Stride) - 1]));
    }

    /// <summary>Σ over the patch around (y, x) of code · weight, outside the image the channel's zero code.</summary>
    private static int Direct(int[] codes, byte[] planar, int[] zeros, ImageShape shape, int k, int j, int y, int x)
    {
        int sum = 0, patch = shape.Channels * k * k;
        for (int c = 0; c < shape.Channels; c++)
        {
            for (int dy = 0; dy < k; dy++)
            {
                for (int dx = 0; dx < k; dx++)
                {
                    int yy = y + dy - (k / 2), xx = x + dx - (k / 2);
                    int q = yy < 0 || yy >= shape.Height || xx < 0 || xx >= shape.Width ? zeros[c] : planar[(c * shape.Plane) + (yy * shape.Width) + xx];
                    sum += q * codes[(j * patch) + (((c * k) + dy) * k) + dx];
                }
            }
        }

        return sum;
    }
}
