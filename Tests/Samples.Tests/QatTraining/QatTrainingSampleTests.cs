using Microsoft.ML;
using MlRounding.Samples;

namespace MlRounding.Samples.Tests.QatTraining;

/// <summary>The QAT sample: trains and evaluates as printed; a trained model saved here scores identically in a fresh
/// process that never loads LibTorch, and a model saved by the sample's process loads here.</summary>
[TestClass, TestCategory(TestLanes.Slow)]
public sealed class QatTrainingSampleTests
{
    [TestMethod]
    public void Run_PrintsEpochsAndHeldOutAccuracy()
    {
        var (code, stdout, stderr) = SampleProcess.Run("QatTraining");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "epoch 1: loss");
        string line = stdout.Split('\n').Single(l => l.StartsWith("W4A8 test accuracy: ", StringComparison.Ordinal));
        double accuracy = double.Parse(line["W4A8 test accuracy: ".Length..line.IndexOf(" %", StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsGreaterThan(94.0, accuracy, line);
    }

    [TestMethod]
    public void TrainedHere_ScoredInAFreshProcessWithoutLibTorch_BitIdentical()
    {
        var ml = new MLContext(seed: 1);
        var (train, test) = QatTrainingSample.LoadData(ml);
        ITransformer model = QatTrainingSample.Fit(ml, train, maxEpoch: 5);
        var expected = new StringWriter();
        QatTrainingSample.PrintPredictions(ml, model, test, expected);
        string path = SampleProcess.TempPath(".zip");
        try
        {
            ml.Model.Save(model, train.Schema, path);
            var (code, stdout, stderr) = SampleProcess.Run("QatTraining", "load", path);
            Assert.AreEqual(0, code, stderr);
            Assert.AreEqual(expected.ToString().Replace("\r\n", "\n"), stdout, "every test row: predicted digit and round-trip scores");
            StringAssert.Contains(stderr, "libtorch loaded: false", "a loaded trainer model scores in plain C#");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void TrainedInAnotherProcess_LoadedHere_SameAsTrainingHere()
    {
        string path = SampleProcess.TempPath(".zip");
        try
        {
            var (code, _, stderr) = SampleProcess.Run("QatTraining", "save", path);
            Assert.AreEqual(0, code, stderr);
            var ml = new MLContext(seed: 1);
            var (train, test) = QatTrainingSample.LoadData(ml);
            var fromFile = new StringWriter();
            QatTrainingSample.PrintPredictions(ml, new MLContext().Model.Load(path, out _), test, fromFile);
            var trainedHere = new StringWriter();
            QatTrainingSample.PrintPredictions(ml, QatTrainingSample.Fit(ml, train), test, trainedHere);
            Assert.AreEqual(trainedHere.ToString(), fromFile.ToString(), "same seed and one thread: the same model in both processes");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
