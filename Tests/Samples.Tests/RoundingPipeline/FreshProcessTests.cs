using System.Diagnostics;
using Microsoft.ML;
using MlRounding.Samples;

namespace MlRounding.Samples.Tests.RoundingPipeline;

[TestClass]
public sealed class FreshProcessTests
{
    /// <summary>Runs the sample program (built next to this test assembly) in a new process.</summary>
    private static (int ExitCode, string Stdout, string Stderr) RunSample(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "RoundingPipeline.dll");
        Assert.IsTrue(File.Exists(dll), dll);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Assert.IsTrue(process.WaitForExit(120_000), "the sample did not finish in 2 minutes");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [TestMethod]
    public void SavedHere_LoadedAndPredictedInAnotherProcess_BitIdentical()
    {
        var ml = new MLContext(seed: 1);
        var data = RoundingPipelineSample.LoadData(ml);
        ITransformer model = RoundingPipelineSample.Fit(ml, data);
        var expected = new StringWriter();
        RoundingPipelineSample.Print(model.Transform(data), expected, rows: 50);
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var (code, stdout, stderr) = RunSample("load", path);
            Assert.AreEqual(0, code, stderr);
            string[] theirs = stdout.Replace("\r\n", "\n").Split('\n');
            string[] ours = expected.ToString().Replace("\r\n", "\n").Split('\n');
            CollectionAssert.AreEqual(ours.Take(11).ToArray(), theirs.Take(11).ToArray(), "round-trip formatted values, first 10 rows");
            StringAssert.Contains(stderr, "libtorch loaded: false", "loading and scoring a model must not load LibTorch");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void SavedInAnotherProcess_LoadedHere()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}.zip");
        try
        {
            var (code, _, stderr) = RunSample("save", path);
            Assert.AreEqual(0, code, stderr);
            var ml = new MLContext();
            ITransformer loaded = ml.Model.Load(path, out var schema);
            var data = RoundingPipelineSample.LoadData(ml);
            var fromFile = new StringWriter();
            RoundingPipelineSample.Print(loaded.Transform(data), fromFile);
            var fitted = new StringWriter();
            RoundingPipelineSample.Print(RoundingPipelineSample.Fit(new MLContext(seed: 1), data).Transform(data), fitted);
            Assert.AreEqual(fitted.ToString(), fromFile.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
