using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.MlNet;

/// <summary><see cref="ModelFileChecks"/>: a corrupted entry is found by its checksum before ML.NET parses it.</summary>
[TestClass]
public sealed class ModelFileChecksTests
{
    private static byte[] SavedModel()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(TestRow.Make(50));
        var model = ml.Transforms.Round("A", "F", 2).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        return stream.ToArray();
    }

    [TestMethod]
    public void IntactFile_LoadsAndScoresLikeModelLoad()
    {
        var ml = new MLContext(1);
        byte[] zip = SavedModel();
        var verified = ml.Model.LoadVerified(new MemoryStream(zip), out var schema);
        var plain = ml.Model.Load(new MemoryStream(zip), out _);
        var data = ml.Data.LoadFromEnumerable(TestRow.Make(20));
        CollectionAssert.AreEqual(plain.Transform(data).GetColumn<float>("A").ToArray(), verified.Transform(data).GetColumn<float>("A").ToArray());
        Assert.IsNotNull(schema.GetColumnOrNull("F"));
    }

    [TestMethod]
    public void FlippedByteInsideAnEntry_InvalidDataNamingTheEntry()
    {
        byte[] zip = SavedModel();
        string name;
        long offset;
        using (var archive = new ZipArchive(new MemoryStream(zip)))
        {
            // The entry data of the largest compressed entry starts after its local header; flip a byte in its middle.
            var entry = archive.Entries.OrderByDescending(e => e.CompressedLength).First();
            name = entry.FullName;
            byte[] header = System.Text.Encoding.UTF8.GetBytes(name);
            offset = zip.AsSpan().IndexOf(header) + header.Length + entry.CompressedLength / 2;
        }

        zip[offset] ^= 0x5A;
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ModelFileChecks.Verify(new MemoryStream(zip)));
        StringAssert.StartsWith(e.Message, $"Model file entry '{name}' is corrupt");
    }

    [TestMethod]
    public void TruncatedFile_InvalidData()
    {
        byte[] zip = SavedModel();
        Assert.ThrowsExactly<InvalidDataException>(() => new MLContext().Model.LoadVerified(new MemoryStream(zip[..(zip.Length / 2)]), out _));
    }

    [TestMethod]
    public void UnseekableStream_ArgumentException()
    {
        using var pipe = new System.IO.Pipes.AnonymousPipeServerStream();
        Assert.AreEqual("model", Assert.ThrowsExactly<ArgumentException>(() => ModelFileChecks.Verify(pipe)).ParamName);
    }
}
