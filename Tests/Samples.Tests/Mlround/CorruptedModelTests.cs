using System.IO.Compression;
using CsCheck;
using MlRounding.Tests.Shared;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// The commands that read a model, on model files from <c>mlround train</c> with one entry rewritten (bytes flipped,
/// truncated, an int32 set to an extreme; checksums recomputed) or raw bytes damaged: each either works or ends with
/// exactly one line on stderr, "error: MODEL PATH: message", exit code 2 and no output file. 200 inputs per run;
/// MLROUND_CLI_FUZZ_ITER asks for more.
/// </summary>
[TestClass, TestCategory(TestLanes.Slow)]
public sealed class CorruptedModelTests
{
    private static readonly Lazy<(string Folder, byte[] Zip, string[] Entries)> Trained = new(() =>
    {
        string folder = Directory.CreateTempSubdirectory().FullName;
        string model = Path.Combine(folder, "model.zip");
        var (code, _, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("breast_cancer.csv"), "--label", "Benign", "--hidden", "8", "--epochs", "2", "--weight-bits", "4", "--out", model);
        Assert.AreEqual(0, code, stderr);
        byte[] zip = File.ReadAllBytes(model);
        return (folder, zip, ZipMutation.Entries(zip).Where(n => !n.EndsWith("Schema", StringComparison.Ordinal)).ToArray());
    });

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Trained.IsValueCreated)
        {
            Directory.Delete(Trained.Value.Folder, true);
        }
    }

    [TestMethod]
    public void MutatedModels_EvaluatePredictExport_WorkOrOneLineExit2()
    {
        var (folder, zip, entries) = Trained.Value;
        long iterations = long.TryParse(Environment.GetEnvironmentVariable("MLROUND_CLI_FUZZ_ITER"), out long n) ? n : 200;
        int worked = 0, refused = 0, run = 0;
        ZipMutation.Gen.Sample(m =>
        {
            string dir = Path.Combine(folder, "run" + Interlocked.Increment(ref run));
            Directory.CreateDirectory(dir);
            string model = Path.Combine(dir, "m.zip"), predictions = Path.Combine(dir, "p.csv"), onnx = Path.Combine(dir, "m.onnx");
            File.WriteAllBytes(model, m.Apply(zip, entries));
            foreach (string[] args in new[]
            {
                new[] { "evaluate", "--model", model, "--data", CliRunner.Data("breast_cancer.csv") },
                new[] { "predict", "--model", model, "--data", CliRunner.Data("breast_cancer.csv"), "--out", predictions },
                new[] { "export", "--model", model, "--out", onnx },
            })
            {
                var (code, _, stderr) = CliRunner.Run(args);
                if (code == 0)
                {
                    Interlocked.Increment(ref worked);
                    continue;
                }

                Assert.AreEqual(2, code, $"{args[0]} on {m}: {stderr}");
                string[] lines = stderr.TrimEnd().Split('\n');
                Assert.HasCount(1, lines, $"{args[0]} on {m}: one line: {stderr}");
                StringAssert.StartsWith(lines[0], $"error: {model}: ", $"{args[0]} on {m}: {lines[0]}");
                Assert.IsFalse(File.Exists(args[0] == "predict" ? predictions : onnx) && args[0] != "evaluate", $"{args[0]} on {m}: no output file");
                Interlocked.Increment(ref refused);
            }

            Directory.Delete(dir, true);
        }, iter: iterations, threads: 1);
        Assert.IsTrue(worked > 0 && refused > 0, $"both outcomes reached: {worked} worked, {refused} refused");
    }

    [TestMethod]
    public void ForeignLoaderAssembly_RefusedBeforeLoading_NamingEntryAndAssembly()
    {
        // An entry that names a loader assembly outside ML.NET and MlRounding (here: the header's name rewritten to
        // "System.Evil" of the same byte length) is refused before ML.NET reads anything.
        var (folder, zip, _) = Trained.Value;
        string model = Path.Combine(folder, "foreign.zip");
        byte[] name = System.Text.Encoding.Unicode.GetBytes("MlRounding.Transforms");
        File.WriteAllBytes(model, ZipMutation.RewriteEntries(zip, (entry, content) =>
        {
            int at = content.AsSpan().IndexOf(name);
            if (at >= 0 && entry.EndsWith("Model.key", StringComparison.Ordinal))
            {
                System.Text.Encoding.Unicode.GetBytes("EvilRounding.Library").CopyTo(content, at); // one char shorter: a trailing 's' stays
            }

            return content;
        }));

        var (code, _, stderr) = CliRunner.Run("evaluate", "--model", model, "--data", CliRunner.Data("breast_cancer.csv"));
        Assert.AreEqual(2, code, stderr);
        StringAssert.StartsWith(stderr, $"error: {model}: Model file entry 'TransformerChain/");
        StringAssert.Contains(stderr, "names loader assembly 'EvilRounding.Librarys, Version=1.0.0.0");
        StringAssert.Contains(stderr, "which is not allowed");
    }
}
