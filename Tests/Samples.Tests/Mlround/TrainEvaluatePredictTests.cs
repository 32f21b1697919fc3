using System.Text.Json;

namespace MlRounding.Samples.Tests.Mlround;

[TestClass, TestCategory(TestLanes.Slow)]
public sealed class TrainEvaluatePredictTests
{
    [TestMethod]
    public void Binary_TrainEvaluatePredict()
    {
        using var temp = new TempFolder();
        string folder = temp.Path;
        string model = Path.Combine(folder, "model.zip");
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("breast_cancer.csv"), "--label", "Benign", "--epochs", "15", "--weight-bits", "4", "--out", model, "--json");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "epoch 1:", "progress lines");
        using (var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]))
        {
            Assert.AreEqual("binary", json.RootElement.GetProperty("task").GetString());
            Assert.IsGreaterThan(0.85, json.RootElement.GetProperty("accuracy").GetDouble());
            Assert.IsGreaterThan(0.9, json.RootElement.GetProperty("auc").GetDouble());
            Assert.IsGreaterThan(0L, json.RootElement.GetProperty("model_bytes").GetInt64());
            Assert.IsGreaterThan(0.0, json.RootElement.GetProperty("train_seconds").GetDouble());
        }

        (code, stdout, stderr) = CliRunner.Run("evaluate", "--model", model, "--data", CliRunner.Data("breast_cancer.csv"), "--json");
        Assert.AreEqual(0, code, stderr);
        using (var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]))
        {
            Assert.IsGreaterThan(0.85, json.RootElement.GetProperty("accuracy").GetDouble());
        }

        string predictions = Path.Combine(folder, "predictions.csv");
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", CliRunner.Data("breast_cancer.csv"), "--out", predictions);
        Assert.AreEqual(0, code, stderr);
        string[] lines = File.ReadAllLines(predictions);
        Assert.AreEqual("predicted_label,probability,score", lines[0]);
        Assert.HasCount(570, lines);
    }

    [TestMethod]
    public void Multiclass_PredictionsNameTheOriginalLabels()
    {
        using var temp = new TempFolder();
        string folder = temp.Path;
        string model = Path.Combine(folder, "model.zip");
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("digits.csv"), "--epochs", "8", "--out", model, "--json");
        Assert.AreEqual(0, code, stderr);
        using (var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]))
        {
            Assert.AreEqual("multiclass", json.RootElement.GetProperty("task").GetString());
            Assert.IsGreaterThan(0.9, json.RootElement.GetProperty("accuracy").GetDouble(), "held-out accuracy");
        }

        string predictions = Path.Combine(folder, "p.csv");
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", CliRunner.Data("digits.csv"), "--out", predictions);
        Assert.AreEqual(0, code, stderr);
        string[] lines = File.ReadAllLines(predictions);
        Assert.HasCount(1798, lines);
        var labels = File.ReadAllLines(CliRunner.Data("digits.csv")).Skip(1).Select(l => l.Split(',')[^1]).ToArray();
        int correct = lines.Skip(1).Select((l, i) => l.Split(',')[0] == labels[i] ? 1 : 0).Sum();
        Assert.IsGreaterThan(0.9, correct / 1797.0, "predicted labels are the label values");
    }

    [TestMethod]
    public void SameSeed_ByteIdenticalModelFiles_EvenSecondsApart()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        string[] Args(string name) => new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--epochs", "3", "--seed", "5", "--out", Path.Combine(dir, name) };
        Assert.AreEqual(0, CliRunner.Run(Args("a.zip")).ExitCode);
        Thread.Sleep(2100); // zip timestamps have a 2-second resolution: a plain save would differ now
        Assert.AreEqual(0, CliRunner.Run(Args("b.zip")).ExitCode);
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(dir, "a.zip")), File.ReadAllBytes(Path.Combine(dir, "b.zip")));
    }

    [TestMethod]
    public void WeightBitList_OnePerMatrix_JsonAndProgressNameTheKeptEpoch()
    {
        using var temp = new TempFolder();
        string folder = temp.Path;
        string model = Path.Combine(folder, "model.zip");
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("digits.csv"), "--hidden", "32,16", "--weight-bits", "2,8,4", "--epochs", "6", "--out", model, "--json");
        Assert.AreEqual(0, code, stderr);
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        int epochs = json.RootElement.GetProperty("epochs").GetInt32(), kept = json.RootElement.GetProperty("best_epoch").GetInt32();
        Assert.AreEqual(6, epochs, "no early stop within 6 epochs (patience 15)");
        Assert.IsTrue(kept is >= 1 and <= 6, $"kept epoch {kept}");
        StringAssert.Contains(stdout, $"epochs: 6, kept: {kept}");
        StringAssert.Contains(stderr.Trim().Split('\n')[^1], $"kept epoch {kept}", "the last progress line names the kept epoch");

        // The saved network has the three widths, and its parameter bytes follow them: 64x32 at 2 bits, 32x16 at 8, 16x10 at 4.
        var ml = new Microsoft.ML.MLContext();
        var loaded = ml.Model.Load(model, out _);
        var network = ((Microsoft.ML.ISingleFeaturePredictionTransformer<MlRounding.QatMulticlassModelParameters>)((Microsoft.ML.Data.TransformerChain<Microsoft.ML.ITransformer>)loaded).Last()).Model.Network;
        CollectionAssert.AreEqual(new[] { 2, 8, 4 }, network.Layers.Select(l => l.WeightBits).ToArray());
        Assert.AreEqual(network.ParameterBytes, json.RootElement.GetProperty("model_bytes").GetInt64());
    }

    [TestMethod]
    public void WithoutValidationRows_TheLastEpochIsKept_AndReported()
    {
        // --validation-fraction 0 (what the automatic fraction is from 10,000 rows on): no epoch to choose, the last is kept.
        using var temp = new TempFolder();
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("digits.csv"), "--hidden", "16", "--epochs", "4", "--validation-fraction", "0", "--out", Path.Combine(temp.Path, "model.zip"), "--json");
        Assert.AreEqual(0, code, stderr);
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.AreEqual(4, json.RootElement.GetProperty("epochs").GetInt32());
        Assert.AreEqual(4, json.RootElement.GetProperty("best_epoch").GetInt32());
        StringAssert.Contains(stdout, "epochs: 4, kept: 4");
        Assert.IsFalse(stderr.Contains("validation", StringComparison.Ordinal), "no validation score without validation rows: " + stderr);
    }
}
