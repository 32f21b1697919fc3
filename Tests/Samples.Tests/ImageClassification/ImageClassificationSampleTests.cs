using System.Globalization;

namespace MlRounding.Samples.Tests.ImageClassification;

/// <summary>
/// The image sample end to end, each step in its own process as a user runs it: training writes the PNG files and the
/// model and reports a test accuracy; a fresh process loads the model, scores the same test images to the same accuracy,
/// and has not loaded LibTorch.
/// </summary>
[TestClass, TestCategory(TestLanes.Slow)]
public sealed class ImageClassificationSampleTests
{
    [TestMethod]
    public void TrainsFromPngFiles_ScoresInAFreshProcessWithoutLibTorch()
    {
        string folder = SampleProcess.TempPath(string.Empty);
        try
        {
            var (code, stdout, stderr) = SampleProcess.RunFromOwnFolder("ImageClassification", "train", folder);
            Assert.AreEqual(0, code, stderr);
            Assert.AreEqual(1797, Directory.GetFiles(Path.Combine(folder, "images"), "*.png").Length, "one PNG file per digit");
            double trained = Accuracy(stdout, "train");
            Assert.IsGreaterThan(0.9, trained, stdout);

            (code, stdout, stderr) = SampleProcess.RunFromOwnFolder("ImageClassification", "score", folder);
            Assert.AreEqual(0, code, stderr);
            Assert.AreEqual(trained, Accuracy(stdout, "score"), "the saved model scores as the trained one");
            StringAssert.Contains(stdout, "libtorch loaded: no");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double Accuracy(string stdout, string command)
    {
        string line = stdout.Split('\n').Single(l => l.StartsWith(command + ": test accuracy ", StringComparison.Ordinal));
        return double.Parse(line.Split(' ')[3], CultureInfo.InvariantCulture);
    }
}
