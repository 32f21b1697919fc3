using Microsoft.ML;
using MlRounding.Samples;

namespace MlRounding.Samples.Tests.RoundingPipeline;

[TestClass, TestCategory(TestLanes.Slow)]
public sealed class FreshProcessTests
{
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
            var (code, stdout, stderr) = SampleProcess.Run("RoundingPipeline", "load", path);
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
            var (code, _, stderr) = SampleProcess.Run("RoundingPipeline", "save", path);
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
