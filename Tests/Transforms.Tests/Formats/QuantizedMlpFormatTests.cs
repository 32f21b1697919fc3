using CsCheck;

namespace MlRounding.Tests.Formats;

/// <summary>
/// The network's own format (<c>QuantizedMlpFormat</c>) under corruption: every truncation, a newer version, each length
/// field at extreme values (rejected before allocating), and CsCheck-generated mutations; every bad input ends in a
/// <see cref="ModelFormatException"/>, every accepted one is a network that scores.
/// </summary>
[TestClass]
public sealed class QuantizedMlpFormatTests
{
    /// <summary>
    /// A small network with every part the format has: a 4-bit layer with per-channel steps, a 1-bit layer, a float
    /// layer, a per-feature input grid with a step, an extra rounding layer, an output scale and shift.
    /// </summary>
    private static QuantizedMlp Network()
    {
        var random = new Random(5);
        int[] Codes(int n, int max, bool nonZero) => Enumerable.Range(0, n).Select(_ => nonZero ? (random.Next(2) * 2) - 1 : random.Next(-max, max + 1)).ToArray();
        float[] Floats(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var layers = new[]
        {
            new QuantizedLayer(6, 5, 4, Codes(30, 7, false), Floats(5).Select(Math.Abs).ToArray(), Floats(5), 8, 0.05f),
            new QuantizedLayer(5, 4, 1, Codes(20, 1, true), new[] { 0.3f }, Floats(4), 4, 0.1f),
            new QuantizedLayer(4, 1, Floats(4), Floats(1)),
        };
        var grid = new AffineGrid(8, QuantizationRange.FromBits(8, false), new[] { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6 }, new[] { 0L, 1, 2, 3, 4, 5 });
        return new QuantizedMlp(QatTask.Regression, 1, layers, new[] { (3, (RoundingGrid)new DecimalGrid(2)) }, grid, 1f / 255, 2.5f, -1f);
    }

    private static readonly byte[] Bytes = QuantizedMlpFormat.Write(Network());

    private static readonly float[] Row = { 0.1f, 0.5f, 1.2f, -3f, 40f, 0.7f };

    [TestMethod]
    public void RoundTrips_SameBytesAndScores()
    {
        QuantizedMlp read = QuantizedMlpFormat.Read(Bytes);
        CollectionAssert.AreEqual(Bytes, QuantizedMlpFormat.Write(read));
        Assert.AreEqual(BitConverter.SingleToInt32Bits(Network().Forward(Row)[0]), BitConverter.SingleToInt32Bits(read.Forward(Row)[0]));
    }

    [TestMethod]
    public void EveryTruncation_AndATrailingByte_AreModelFormatExceptions()
    {
        for (int length = 0; length < Bytes.Length; length++)
        {
            Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpFormat.Read(Bytes[..length]), $"length {length}");
        }

        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpFormat.Read(Bytes.Append((byte)0).ToArray())).Message, "1 unexpected bytes after the last layer");
    }

    [TestMethod]
    public void NewerVersion_SaysSo()
    {
        byte[] newer = (byte[])Bytes.Clone();
        BitConverter.GetBytes(QuantizedMlpFormat.CurrentVersion + 1).CopyTo(newer, 0);
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpFormat.Read(newer)).Message, $"saved by a newer MlRounding (network format {QuantizedMlpFormat.CurrentVersion + 1})");
    }

    /// <summary>Offsets of the length fields in <see cref="Bytes"/>, worked out from the format's remarks.</summary>
    public static IEnumerable<object[]> LengthFields()
    {
        // version 4, task 1, classes 4, layers 4 -> layer 0 at 13: inputs 13, outputs 17, bits 21, code min 25 (8),
        // code bytes 33 (= 15), codes 37..51, step count 52.
        yield return new object[] { "class count", 5 };
        yield return new object[] { "layer count", 9 };
        yield return new object[] { "inputs", 13 };
        yield return new object[] { "outputs", 17 };
        yield return new object[] { "bytes of codes", 33 };
        yield return new object[] { "weight steps", 52 };
    }

    [TestMethod]
    [DynamicData(nameof(LengthFields))]
    public void LengthFieldsAtExtremes_RejectedBeforeAllocating(string field, int offset)
    {
        foreach (int value in new[] { int.MaxValue, int.MinValue, -1, 1 << 30, 1 << 24, 0 })
        {
            byte[] bad = (byte[])Bytes.Clone();
            BitConverter.GetBytes(value).CopyTo(bad, offset);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpFormat.Read(bad), $"{field} = {value}");
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.IsLessThan(1L << 20, allocated, $"{field} = {value}: {allocated} bytes allocated before the rejection ({e.Message})");
        }
    }

    [TestMethod]
    public void TheLengthFieldOffsets_AreTheFields()
    {
        // Guards the offsets above: the fields hold the values this network gives them.
        Assert.AreEqual(1, BitConverter.ToInt32(Bytes, 5), "classes");
        Assert.AreEqual(3, BitConverter.ToInt32(Bytes, 9), "layers");
        Assert.AreEqual(6, BitConverter.ToInt32(Bytes, 13), "inputs");
        Assert.AreEqual(5, BitConverter.ToInt32(Bytes, 17), "outputs");
        Assert.AreEqual(4, BitConverter.ToInt32(Bytes, 21), "bits");
        Assert.AreEqual(15, BitConverter.ToInt32(Bytes, 33), "code bytes: 30 codes at 4 bits");
        Assert.AreEqual(5, BitConverter.ToInt32(Bytes, 52), "per-channel steps");
    }

    [TestMethod]
    public void Mutations_ReadAsANetworkThatScores_OrModelFormatException()
    {
        int read = 0, rejected = 0;
        ByteMutations.Of(Bytes).Sample(bytes =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                QuantizedMlp network = QuantizedMlpFormat.Read(bytes);
                network.Forward(Row); // any value, NaN included: it must score, not throw
                Interlocked.Increment(ref read);
            }
            catch (ModelFormatException)
            {
                Interlocked.Increment(ref rejected);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > 1L << 20)
            {
                throw new AssertFailedException($"{allocated} bytes allocated for a {bytes.Length}-byte input");
            }
        }, iter: ByteMutations.Iterations());
        Assert.IsTrue(read > 0 && rejected > 0, $"both outcomes reached: {read} read, {rejected} rejected");
        if (ByteMutations.Iterations() > 0)
        {
            Assert.AreEqual(ByteMutations.Iterations(), read + rejected, "every input ran");
        }
    }

    /// <summary>A convolutional network: two blocks on a 2x6x5 image (odd sides: pooling drops the last column), a per-channel input grid with zero point 1, 4-bit codes.</summary>
    private static QuantizedMlp Cnn() => Model.ConvolutionScoringTests.RandomCnn(new Random(9), new ImageShape(2, 6, 5), new[] { 3, 4 }, 3, 4, 1);

    private static readonly byte[] CnnBytes = QuantizedMlpFormat.Write(Cnn());

    private static readonly float[] Image = Enumerable.Range(0, 60).Select(i => (float)Math.Sin(i)).ToArray();

    [TestMethod]
    public void Cnn_RoundTrips_AsVersion3_DenseNetworksStayVersion2()
    {
        Assert.AreEqual(3, BitConverter.ToInt32(CnnBytes, 0), "a network with convolution blocks");
        Assert.AreEqual(2, BitConverter.ToInt32(Bytes, 0), "a dense network: the version older readers read");
        QuantizedMlp read = QuantizedMlpFormat.Read(CnnBytes);
        CollectionAssert.AreEqual(CnnBytes, QuantizedMlpFormat.Write(read));
        Assert.AreEqual(new ImageShape(2, 6, 5), read.InputShape);
        CollectionAssert.AreEqual(Cnn().Forward(Image).Select(BitConverter.SingleToInt32Bits).ToArray(), read.Forward(Image).Select(BitConverter.SingleToInt32Bits).ToArray());
    }

    [TestMethod]
    public void Cnn_EveryTruncation_IsAModelFormatException()
    {
        for (int length = 0; length < CnnBytes.Length; length++)
        {
            Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpFormat.Read(CnnBytes[..length]), $"length {length}");
        }
    }

    [TestMethod]
    public void Cnn_BlockFieldsAtExtremes_AreRejectedBeforeAllocating()
    {
        // The blocks follow the output shift: the last float32 before them is the shift, written last in version 2.
        int blocks = CnnBytes.Length - BlockBytes();
        Assert.AreEqual(2, BitConverter.ToInt32(CnnBytes, blocks), "block count");
        Assert.AreEqual(2, BitConverter.ToInt32(CnnBytes, blocks + 4), "channels of block 0");
        foreach (var (field, offset) in new[] { ("block count", 0), ("channels", 4), ("height", 8), ("width", 12), ("kernel", 16), ("pool", 20) })
        {
            foreach (int value in new[] { int.MaxValue, int.MinValue, -1, 0, 2, 4096, 1 << 20 })
            {
                byte[] bad = (byte[])CnnBytes.Clone();
                BitConverter.GetBytes(value).CopyTo(bad, blocks + offset);
                if (bad.AsSpan().SequenceEqual(CnnBytes))
                {
                    continue;
                }

                long before = GC.GetAllocatedBytesForCurrentThread();
                var e = Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpFormat.Read(bad), $"{field} = {value}");
                Assert.IsLessThan(1L << 20, GC.GetAllocatedBytesForCurrentThread() - before, $"{field} = {value}: {e.Message}");
            }
        }
    }

    [TestMethod]
    public void Cnn_Mutations_ReadAsANetworkThatScores_OrModelFormatException()
    {
        int read = 0, rejected = 0;
        ByteMutations.Of(CnnBytes).Sample(bytes =>
        {
            try
            {
                QuantizedMlp network = QuantizedMlpFormat.Read(bytes);
                network.Forward(new float[network.FeatureCount]);
                Interlocked.Increment(ref read);
            }
            catch (ModelFormatException)
            {
                Interlocked.Increment(ref rejected);
            }
        }, iter: ByteMutations.Iterations());
        Assert.IsTrue(read > 0 && rejected > 0, $"both outcomes reached: {read} read, {rejected} rejected");
    }

    /// <summary>The bytes of the convolution section: the count, then per block 5 int32 fields and its filters as a layer.</summary>
    private static int BlockBytes()
    {
        QuantizedMlp cnn = Cnn();
        return 4 + cnn.Convolutions.Sum(b => 20 + LayerBytes(b.Filters));
    }

    private static int LayerBytes(QuantizedLayer l) => 4 + 4 + 4 + 8 + 4 + l.PackedWeights.Length + 4 + (4 * l.WeightSteps.Length) + (4 * l.Outputs) + 4 + 4 + 8;
}
