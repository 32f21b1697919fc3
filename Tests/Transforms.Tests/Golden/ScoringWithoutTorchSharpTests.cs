using Microsoft.ML;

namespace MlRounding.Tests.Golden;

/// <summary>
/// A scoring-only application needs MlRounding.Transforms alone: this test project references nothing else, so no
/// TorchSharp assembly may even be loadable in its host, and scoring every golden model must load none.
/// </summary>
[TestClass]
public sealed class ScoringWithoutTorchSharpTests
{
    private static string[] TorchSharpAssemblies() => AppDomain.CurrentDomain.GetAssemblies()
        .Select(a => a.GetName().Name ?? string.Empty)
        .Where(n => n.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase))
        .ToArray();

    [TestMethod]
    public void TestHost_CannotLoadTorchSharp()
    {
        string trusted = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        string[] files = trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        Assert.IsTrue(files.Any(f => Path.GetFileName(f) == "MlRounding.Transforms.dll"), "the list is the test host's");
        CollectionAssert.AreEqual(Array.Empty<string>(), files.Where(f => Path.GetFileName(f).Contains("torch", StringComparison.OrdinalIgnoreCase)).ToArray(),
            "no TorchSharp or LibTorch file among the host's trusted assemblies");
        Assert.IsFalse(File.Exists(Path.Combine(AppContext.BaseDirectory, "TorchSharp.dll")), "no TorchSharp.dll beside the tests");
    }

    [TestMethod]
    public void ScoringEveryGoldenModel_LoadsNoTorchSharpAssembly()
    {
        foreach (var golden in GoldenCases.All)
        {
            var ml = new MLContext();
            ITransformer model = ml.Model.Load(Path.Combine(AppContext.BaseDirectory, "Golden", golden.Name + ".zip"), out _);
            IDataView rows = GoldenCases.Load(ml, golden.DataFile, Path.Combine(AppContext.BaseDirectory, "data", golden.DataFile));
            Assert.IsGreaterThan(1, GoldenCases.Read(model.Transform(rows), golden.Columns).Count, golden.Name);
        }

        Assert.IsTrue(AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "MlRounding.Transforms"));
        CollectionAssert.AreEqual(Array.Empty<string>(), TorchSharpAssemblies(), "TorchSharp assemblies loaded while scoring");
    }

    /// <summary>After every test of this assembly: still no TorchSharp assembly loaded.</summary>
    [AssemblyCleanup]
    public static void NoTestLoadedTorchSharp()
    {
        string[] loaded = TorchSharpAssemblies();
        if (loaded.Length > 0)
        {
            throw new InvalidOperationException("The Transforms tests loaded TorchSharp assemblies: " + string.Join(", ", loaded));
        }
    }
}
