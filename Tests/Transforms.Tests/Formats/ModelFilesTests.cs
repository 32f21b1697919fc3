using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.Formats;

/// <summary><see cref="ModelFiles"/>: a corrupted entry is found by its checksum before ML.NET parses it.</summary>
[TestClass]
public sealed class ModelFilesTests
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
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ModelFiles.Verify(new MemoryStream(zip)));
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
        Assert.AreEqual("model", Assert.ThrowsExactly<ArgumentException>(() => ModelFiles.Verify(pipe)).ParamName);
    }

    [TestMethod]
    public void SaveDeterministic_FixedTimestamps_SameBytes_LoadsLikeSave()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(TestRow.Make(50));
        var model = ml.Transforms.Round("A", "F", 2).Append(ml.Transforms.Quantize("Q", "FV", bits: 4)).Fit(data);
        byte[] Save()
        {
            using var stream = new MemoryStream();
            ml.Model.SaveDeterministic(model, data.Schema, stream);
            return stream.ToArray();
        }

        byte[] first = Save();
        using (var archive = new ZipArchive(new MemoryStream(first)))
        {
            Assert.IsTrue(archive.Entries.All(e => e.LastWriteTime == ModelFiles.EntryTimestamp), "every entry carries the fixed timestamp");
        }

        CollectionAssert.AreEqual(first, Save());
        var loaded = ml.Model.LoadVerified(new MemoryStream(first), out _);
        CollectionAssert.AreEqual(model.Transform(data).GetColumn<float>("A").ToArray(), loaded.Transform(data).GetColumn<float>("A").ToArray());
    }

    [TestMethod]
    public void SaveDeterministic_ToAFile_ReplacesItWhole_NoTemporaryLeft()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(TestRow.Make(10));
        var model = ml.Transforms.Round("A", "F", 1).Fit(data);
        string dir = Directory.CreateTempSubdirectory().FullName;
        string path = Path.Combine(dir, "model.zip");
        File.WriteAllText(path, "old");
        ml.Model.SaveDeterministic(model, data.Schema, path);
        Assert.IsNotNull(ml.Model.LoadVerified(path, out _));
        CollectionAssert.AreEqual(new[] { "model.zip" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray());
        Directory.Delete(dir, true);
    }

    [TestMethod]
    public void AtomicWrite_WriterThrows_ExistingFileKept_NoTemporaryLeft()
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        string path = Path.Combine(dir, "model.zip");
        File.WriteAllText(path, "old");
        Assert.ThrowsExactly<InvalidOperationException>(() => AtomicFile.Write(path, (Stream s) =>
        {
            s.Write(new byte[100]);
            throw new InvalidOperationException("failed half way");
        }));
        Assert.AreEqual("old", File.ReadAllText(path));
        CollectionAssert.AreEqual(new[] { "model.zip" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray());
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => AtomicFile.Write(Path.Combine(dir, "no", "x.zip"), (Stream _) => { }));
        Directory.Delete(dir, true);
    }

    /// <summary>The saved model with the loader assembly name in our entry's header replaced by another of the same length.</summary>
    private static byte[] WithLoaderAssembly(byte[] zip, string name)
    {
        byte[] ours = System.Text.Encoding.Unicode.GetBytes("MlRounding.Transforms");
        Assert.HasCount(ours.Length, System.Text.Encoding.Unicode.GetBytes(name));
        return ZipMutation.RewriteEntries(zip, (_, content) =>
        {
            int at = content.AsSpan().IndexOf(ours);
            if (at >= 0)
            {
                System.Text.Encoding.Unicode.GetBytes(name).CopyTo(content, at);
            }

            return content;
        });
    }

    [TestMethod]
    public void LoaderAssemblyOutsideTheAllowList_RefusedBeforeMlNetReadsIt_TheCallerCanExtendTheList()
    {
        byte[] foreign = WithLoaderAssembly(SavedModel(), "Contoso.Transforms.Ab");
        var ml = new MLContext();
        var refused = Assert.ThrowsExactly<ModelFormatException>(() => ml.Model.LoadVerified(new MemoryStream(foreign), out _));
        StringAssert.Contains(refused.Message, "names loader assembly 'Contoso.Transforms.Ab, Version=");
        StringAssert.Contains(refused.Message, "which is not allowed");
        StringAssert.StartsWith(refused.Message, "Model file entry '");

        // Allowed by the caller: verification passes and ML.NET itself tries to load the (absent) assembly.
        var options = new ModelVerificationOptions();
        options.AllowedLoaderAssemblies.Add("Contoso.*");
        var loadAttempt = Assert.Throws<Exception>(() => ml.Model.LoadVerified(new MemoryStream(foreign), out _, options));
        Assert.IsNotInstanceOfType<ModelFormatException>(loadAttempt, "past our check");
        Exception inner = loadAttempt;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        Assert.IsInstanceOfType<FileNotFoundException>(inner, "ML.NET's Assembly.Load of Contoso.Transforms.Ab");

        // The unaltered model passes the default list, and a garbled name is a corrupt header.
        ml.Model.LoadVerified(new MemoryStream(SavedModel()), out _);
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => ml.Model.LoadVerified(new MemoryStream(WithLoaderAssembly(SavedModel(), "MlRounding.Transf\u0000rms")), out _)).Message, "is not a valid assembly name");
    }
}
