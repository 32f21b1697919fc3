using System.Text.Json;
using CsCheck;

namespace MlRounding.Trainers.Tests.Model;

/// <summary>
/// The safetensors files we write, checked against the format's own rules by this test's reading of the bytes (no
/// TorchSharp involved), and the loader under corruption: every mutation loads a network that scores or ends in a
/// <see cref="ModelFormatException"/>.
/// </summary>
[TestClass]
public sealed class SafetensorsFormatTests
{
    private static readonly Lazy<Dictionary<int, byte[]>> Files = new(() => new[] { 1, 4, 32 }.ToDictionary(bits => bits, bits =>
    {
        var network = QatTraining.Train(Digits.Train, 10, new QatOptions { HiddenLayers = new[] { 8 }, WeightBits = bits, ActivationBits = bits == 32 ? 32 : 8, MaxEpoch = 1, NumberOfThreads = 1 });
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}.safetensors");
        try
        {
            network.SaveSafetensors(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }));

    [TestMethod]
    [DataRow(1)]
    [DataRow(4)]
    [DataRow(32)]
    public void WrittenFile_FollowsTheFormat_HeaderDtypesOffsetsAlignment(int bits)
    {
        byte[] file = Files.Value[bits];
        ulong n = BitConverter.ToUInt64(file, 0);
        Assert.IsLessThanOrEqualTo((ulong)file.Length - 8, n, "header length within the file");
        Assert.AreEqual(0UL, (8 + n) % 8, "the buffer starts 8-byte aligned (the header is padded)");
        string json = System.Text.Encoding.UTF8.GetString(file, 8, (int)n);
        Assert.AreEqual('{', json[0], "the header is a JSON object from its first byte");
        using var header = JsonDocument.Parse(json);
        var sizes = new Dictionary<string, long> { ["F32"] = 4, ["I64"] = 8, ["I8"] = 1 };
        var spans = new List<(long Begin, long End)>();
        foreach (var tensor in header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
        {
            string dtype = tensor.Value.GetProperty("dtype").GetString()!;
            Assert.IsTrue(sizes.ContainsKey(dtype), $"{tensor.Name}: dtype {dtype} is one we write");
            long count = tensor.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (c, d) => c * d.GetInt64());
            long[] offsets = tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            Assert.AreEqual(count * sizes[dtype], offsets[1] - offsets[0], $"{tensor.Name}: bytes = elements x dtype size");
            spans.Add((offsets[0], offsets[1]));
            if (tensor.Name.EndsWith("weight_codes", StringComparison.Ordinal))
            {
                Assert.AreEqual("I8", dtype);
                sbyte[] codes = file.AsSpan((int)(8 + (long)n + offsets[0]), (int)count).ToArray().Select(b => (sbyte)b).ToArray();
                long max = bits == 1 ? 1 : (1 << (bits - 1)) - 1;
                Assert.IsTrue(codes.All(c => c >= -max && c <= max && (bits != 1 || c != 0)), $"{tensor.Name}: {bits}-bit codes");
            }
        }

        long next = 0;
        foreach (var (begin, end) in spans.OrderBy(s => s.Begin))
        {
            Assert.AreEqual(next, begin, "tensors tile the buffer: no gap, no overlap");
            next = end;
        }

        Assert.AreEqual(file.Length - 8 - (long)n, next, "and end where the file ends");
    }

    [TestMethod]
    public void Mutations_LoadANetworkThatScores_OrModelFormatException()
    {
        float[] row = Digits.Test.Features.AsSpan(0, 64).ToArray();
        int loaded = 0, rejected = 0;
        var all = Files.Value.Values.ToArray();
        Gen.Int[0, all.Length - 1].SelectMany(i => ByteMutations.Of(all[i])).Sample(bytes =>
        {
            try
            {
                QuantizedMlpSafetensors.Load(bytes, "mutated.safetensors").Forward(row);
                Interlocked.Increment(ref loaded);
            }
            catch (ModelFormatException)
            {
                Interlocked.Increment(ref rejected);
            }
        }, iter: ByteMutations.Iterations());
        Assert.IsTrue(loaded > 0 && rejected > 0, $"both outcomes reached: {loaded} loaded, {rejected} rejected");
    }

    [TestMethod]
    public void ContainerRuleBroken_MessageSaysWhich()
    {
        byte[] file = (byte[])Files.Value[4].Clone();
        byte[] longHeader = (byte[])file.Clone();
        BitConverter.GetBytes((ulong)file.Length).CopyTo(longHeader, 0);
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpSafetensors.Load(longHeader, "a.safetensors")).Message, "'a.safetensors' is not a valid safetensors file: header length");
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpSafetensors.Load(file[..^1], "b.safetensors")).Message, "outside the");
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpSafetensors.Load(file.Concat(new byte[8]).ToArray(), "c.safetensors")).Message, "the tensors cover");
    }
}
