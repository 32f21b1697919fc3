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

    [TestMethod]
    public void LoadedLibrary_IsLoadableOnThisSystem()
    {
        // Whatever the system's libstdc++, the library in the output folder must now load.
        Assert.IsTrue(TorchSharpNative.EnsureLoaded());
        StringAssert.Matches(TorchSharpNative.Status, new System.Text.RegularExpressions.Regex("^(loadable as shipped|the system libstdc|patched in place|output folder read-only|patched copy loaded)"));
    }
}
