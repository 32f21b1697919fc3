using MlRounding.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Tests.Native;

[TestClass]
public sealed class TorchSharpNativeTests
{
    private static string? PackageLibrary()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }

    [TestMethod]
    public void EnsureLoaded_ThenRealTorchWorkWithAutograd()
    {
        Assert.IsTrue(TorchSharpNative.EnsureLoaded(), TorchSharpNative.Status);
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 0.5f, -1f }, requires_grad: true);
        var x = tensor(new float[] { 2f, 3f });
        var loss = (w * x).sum().square();
        loss.backward();
        // loss = (0.5*2 - 3)^2 = 4; d/dw = 2 * (w.x) * x = 2 * -2 * [2, 3] = [-8, -12]
        Assert.AreEqual(4f, loss.item<float>());
        CollectionAssert.AreEqual(new[] { -8f, -12f }, TestHelpers.F(w.grad!));
    }

    [TestMethod]
    public void Patcher_MarksOnlyTheMarkerRequirementWeak()
    {
        string? path = PackageLibrary();
        if (path is null)
        {
            Assert.Inconclusive("TorchSharp 0.107.0 is not in the NuGet package folder.");
        }

        byte[] image = File.ReadAllBytes(path!);
        Assert.IsTrue(ElfVersionPatcher.HasStrongRequirement(image, "GLIBCXX_3.4.32"));
        ushort before30 = ElfVersionPatcher.FindRequirementFlags(image, "GLIBCXX_3.4.30")!.Value;
        Assert.IsTrue(ElfVersionPatcher.MarkWeak(image, "GLIBCXX_3.4.32"));
        Assert.IsFalse(ElfVersionPatcher.HasStrongRequirement(image, "GLIBCXX_3.4.32"));
        Assert.AreEqual(2, ElfVersionPatcher.FindRequirementFlags(image, "GLIBCXX_3.4.32")!.Value & 2);
        Assert.AreEqual(before30, ElfVersionPatcher.FindRequirementFlags(image, "GLIBCXX_3.4.30")!.Value);
        Assert.IsNull(ElfVersionPatcher.FindRequirementFlags(image, "GLIBCXX_9.9.99"));
    }

    [TestMethod]
    public void Patcher_ForeignOrTruncatedFiles_FindNothingAndDoNotThrow()
    {
        Assert.IsNull(ElfVersionPatcher.FindRequirementFlags(Array.Empty<byte>(), "GLIBCXX_3.4.32"));
        Assert.IsNull(ElfVersionPatcher.FindRequirementFlags(new byte[4096], "GLIBCXX_3.4.32"));
        string? path = PackageLibrary();
        if (path is not null)
        {
            byte[] image = File.ReadAllBytes(path);
            foreach (int length in new[] { 64, 1000, image.Length / 2 })
            {
                Assert.IsNull(ElfVersionPatcher.FindRequirementFlags(image, "GLIBCXX_3.4.32", length));
            }
        }
    }

    /// <summary>Whether this system's libstdc++ has GLIBCXX_3.4.32, read here from the file (not through the patcher).</summary>
    private static bool SystemHasMarkerVersion()
    {
        string[] candidates = { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6" };
        string? file = candidates.FirstOrDefault(File.Exists);
        return file is not null && File.ReadAllBytes(file).AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8) >= 0;
    }

    [TestMethod]
    public void LoadedLibrary_IsLoadable_WithTheStatusThisSystemCallsFor()
    {
        // On a system whose libstdc++ lacks GLIBCXX_3.4.32 (Debian 12 here) the output's copy is patched: in place by the
        // first run after a build, found already patched by later ones. With that version, nothing is patched.
        Assert.IsTrue(TorchSharpNative.EnsureLoaded());
        string[] expected = SystemHasMarkerVersion()
            ? new[] { "the system libstdc++ has GLIBCXX_3.4.32", "loadable as shipped or already patched" }
            : new[] { "patched in place", "loadable as shipped or already patched" };
        Assert.IsTrue(expected.Any(e => TorchSharpNative.Status.StartsWith(e, StringComparison.Ordinal)), TorchSharpNative.Status);
    }

    /// <summary>A fresh, unpatched copy of the package's library in a temporary folder, or Inconclusive without the package.</summary>
    private static string UnpatchedCopy(string folder)
    {
        string? path = PackageLibrary();
        if (path is null)
        {
            Assert.Inconclusive("TorchSharp 0.107.0 is not in the NuGet package folder.");
        }

        string copy = Path.Combine(folder, "libLibTorchSharp.so");
        File.Copy(path!, copy);
        Assert.IsTrue(ElfVersionPatcher.HasStrongRequirement(File.ReadAllBytes(copy), "GLIBCXX_3.4.32"), "the package ships the strong requirement");
        return copy;
    }

    [TestMethod]
    public void Fix_EachBranch_WritableFolder_ReadOnlyFolder_SystemHasIt_AlreadyPatched()
    {
        string folder = Directory.CreateTempSubdirectory().FullName;
        try
        {
            string copy = UnpatchedCopy(folder);

            // The system has the version: nothing is written.
            var system = TorchSharpNative.Fix(copy, () => true, (_, _) => throw new AssertFailedException("must not write"));
            Assert.AreEqual((true, "the system libstdc++ has GLIBCXX_3.4.32: nothing to do"), (system.Loadable, system.Status));
            Assert.IsNull(system.CacheImage);

            // A read-only folder (the seam's writer fails as File.Move would): the patched image goes to the cache.
            var readOnly = TorchSharpNative.Fix(copy, () => false, (_, _) => false);
            StringAssert.StartsWith(readOnly.Status, "output folder read-only");
            Assert.IsNotNull(readOnly.CacheImage);
            Assert.IsFalse(ElfVersionPatcher.HasStrongRequirement(readOnly.CacheImage!, "GLIBCXX_3.4.32"), "the cached image is patched");
            Assert.IsTrue(ElfVersionPatcher.HasStrongRequirement(File.ReadAllBytes(copy), "GLIBCXX_3.4.32"), "the read-only copy is untouched");
            string cacheRoot = Path.Combine(folder, "cache");
            string cached = TorchSharpNative.CachedCopy(cacheRoot, readOnly.CacheImage!);
            StringAssert.StartsWith(cached, Path.Combine(cacheRoot, "mlrounding", "libtorchsharp-"));
            CollectionAssert.AreEqual(readOnly.CacheImage, File.ReadAllBytes(cached));
            Assert.AreEqual(cached, TorchSharpNative.CachedCopy(cacheRoot, readOnly.CacheImage!), "the same image, the same file");

            // A writable folder: patched in place, and then found already patched.
            var inPlace = TorchSharpNative.Fix(copy, () => false, (path, image) => { File.WriteAllBytes(path, image); return true; });
            Assert.AreEqual($"patched in place: {copy}", inPlace.Status);
            Assert.IsFalse(ElfVersionPatcher.HasStrongRequirement(File.ReadAllBytes(copy), "GLIBCXX_3.4.32"));
            var again = TorchSharpNative.Fix(copy, () => throw new AssertFailedException("not asked"), (_, _) => throw new AssertFailedException("must not write"));
            Assert.AreEqual($"loadable as shipped or already patched: {copy}", again.Status);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
