using System.IO.Compression;
using Microsoft.ML;

namespace MlRounding.Tests.Formats;

/// <summary>The rounding transformer's payload (<see cref="ModelPayload"/>) and the model files that carry it.</summary>
[TestClass]
public sealed class ModelPayloadTests
{
    private static readonly RoundingColumn[] Columns =
    {
        new("A", "F", new DecimalGrid(2, MidpointRounding.AwayFromZero)),
        new("B", "D", new StepGrid(0.25, 0.1)),
        new("C", "FV", new AffineGrid(4, QuantizationRange.FromBits(4, false), new[] { 0.1, 0.2, 0.3, 0.4 }, new[] { 1L, 2, 3, 4 }), "Codes"),
    };

    [TestMethod]
    public void Payload_RoundTrips()
    {
        var read = ModelPayload.ReadColumns(ModelPayload.Write(Columns));
        Assert.HasCount(3, read);
        Assert.AreEqual("Codes", read[2].CodesColumnName);
        var affine = (AffineGrid)read[2].Grid;
        CollectionAssert.AreEqual(new[] { 0.1, 0.2, 0.3, 0.4 }, affine.Scales.ToArray());
        CollectionAssert.AreEqual(new[] { 1L, 2, 3, 4 }, affine.ZeroPoints.ToArray());
        Assert.AreEqual(MidpointRounding.AwayFromZero, ((DecimalGrid)read[0].Grid).Midpoint);
        Assert.AreEqual(0.1, ((StepGrid)read[1].Grid).Offset);
    }

    [TestMethod]
    public void Payload_EveryTruncation_IsAFormatException()
    {
        byte[] payload = ModelPayload.Write(Columns);
        for (int length = 0; length < payload.Length; length++)
        {
            Assert.ThrowsExactly<ModelFormatException>(() => ModelPayload.ReadColumns(payload[..length]), $"length {length}");
        }

        Assert.ThrowsExactly<ModelFormatException>(() => ModelPayload.ReadColumns(payload.Append((byte)0).ToArray()), "trailing byte");
    }

    [TestMethod]
    public void Payload_NewerVersion_SaysSo()
    {
        byte[] payload = ModelPayload.Write(Columns);
        BitConverter.GetBytes(2).CopyTo(payload, 0);
        var e = Assert.ThrowsExactly<ModelFormatException>(() => ModelPayload.ReadColumns(payload));
        StringAssert.Contains(e.Message, "newer MlRounding");
    }

    [TestMethod]
    public void Payload_HugeLengthFields_AreRejectedBeforeAllocating()
    {
        byte[] payload = ModelPayload.Write(Columns);
        byte[] count = (byte[])payload.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(count, 4);
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => ModelPayload.ReadColumns(count)).Message, "column count");
        byte[] name = (byte[])payload.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(name, 8);
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => ModelPayload.ReadColumns(name)).Message, "string length");
        // The affine grid's parameter count is the int32 just before its 4 scales and 4 zero points (64 bytes from the end).
        byte[] slots = (byte[])payload.Clone();
        BitConverter.GetBytes(1 << 24).CopyTo(slots, payload.Length - 64 - 4);
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => ModelPayload.ReadColumns(slots)).Message, "quantization parameters");
    }

    [TestMethod]
    public void Payload_Mutations_ReadOrModelFormatException()
    {
        // CsCheck-generated mutations (ByteMutations: overwritten bytes, int32 extremes, truncation, appended bytes).
        byte[] payload = ModelPayload.Write(Columns);
        int read = 0, rejected = 0;
        CsCheck.Check.Sample(ByteMutations.Of(payload), bytes =>
        {
            try
            {
                ModelPayload.ReadColumns(bytes);
                Interlocked.Increment(ref read);
            }
            catch (ModelFormatException)
            {
                Interlocked.Increment(ref rejected);
            }
        }, iter: ByteMutations.Iterations());
        Assert.IsTrue(read > 0 && rejected > 0, $"both outcomes reached (e.g. a mutated scale still describes a valid grid): {read} read, {rejected} rejected");
    }

    private static string SaveModel(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(TestRow.Make(50));
        var model = ml.Transforms.Round("A", "F", 2).Fit(data);
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}.zip");
        ml.Model.Save(model, data.Schema, path);
        return path;
    }

    /// <summary>Rewrites the bytes of our payload inside the saved zip with <paramref name="edit"/>.</summary>
    private static void EditPayload(string path, Func<byte[], byte[]> edit)
    {
        byte[] payload = ModelPayload.Write(new[] { new RoundingColumn("A", "F", new DecimalGrid(2)) });
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith("Model.key", StringComparison.Ordinal) && e.FullName.Contains("Transform"));
        byte[] bytes;
        using (var stream = entry.Open())
        using (var memory = new MemoryStream())
        {
            stream.CopyTo(memory);
            bytes = memory.ToArray();
        }

        int at = bytes.AsSpan().IndexOf(payload);
        Assert.IsGreaterThanOrEqualTo(0, at, "payload found in the entry");
        byte[] edited = bytes[..at].Concat(edit(payload)).Concat(bytes[(at + payload.Length)..]).ToArray();
        string name = entry.FullName;
        entry.Delete();
        using var writer = zip.CreateEntry(name).Open();
        writer.Write(edited);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    /// <summary>The first exception of type T in the chain (ML.NET wraps loader exceptions).</summary>
    private static T? Find<T>(Exception? e) where T : Exception
    {
        while (e is not null && e is not T)
        {
            e = e.InnerException;
        }

        return e as T;
    }

    [TestMethod]
    public void SavedModel_FromANewerFormatVersion_FailsWithFormatException() =>
        AssertEditedPayloadFails(q => BitConverter.GetBytes(9).CopyTo(q, 0), "newer MlRounding");

    [TestMethod]
    public void SavedModel_CorruptedEntry_FailsWithFormatException() =>
        AssertEditedPayloadFails(q => q[^1] = 200, "Invalid midpoint rule 200"); // the grid's midpoint byte

    /// <summary>Saves a model, edits a copy of its payload, and asserts loading fails with a FormatException saying <paramref name="message"/>.</summary>
    private static void AssertEditedPayloadFails(Action<byte[]> edit, string message)
    {
        string path = SaveModel(new MLContext());
        try
        {
            EditPayload(path, p => { var q = (byte[])p.Clone(); edit(q); return q; });
            var e = Assert.Throws<Exception>(() => new MLContext().Model.Load(path, out _));
            StringAssert.Contains(Find<FormatException>(e)?.Message, message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void SavedModel_TruncatedFile_FailsWithoutCrashing()
    {
        var ml = new MLContext();
        string path = SaveModel(ml);
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var e = Assert.Throws<Exception>(() => new MLContext().Model.Load(path, out _));
            Assert.IsInstanceOfType<InvalidDataException>(Innermost(e), Innermost(e).GetType().FullName);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
