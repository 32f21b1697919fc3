using System.Text.Json;

namespace MlRounding.Samples.Tests.Mlround;

[TestClass]
public sealed class TrainEvaluatePredictTests
{
    [TestMethod]
    public void Binary_TrainEvaluatePredict()
    {
        string folder = Directory.CreateTempSubdirectory().FullName;
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
        Directory.Delete(folder, true);
    }

    [TestMethod]
    public void Multiclass_PredictionsNameTheOriginalLabels()
    {
        string folder = Directory.CreateTempSubdirectory().FullName;
        string model = Path.Combine(folder, "model.zip");
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("digits.csv"), "--epochs", "8", "--out", model);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "accuracy:");
        string predictions = Path.Combine(folder, "p.csv");
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", CliRunner.Data("digits.csv"), "--out", predictions);
        Assert.AreEqual(0, code, stderr);
        string[] lines = File.ReadAllLines(predictions);
        Assert.HasCount(1798, lines);
        var labels = File.ReadAllLines(CliRunner.Data("digits.csv")).Skip(1).Select(l => l.Split(',')[^1]).ToArray();
        int correct = lines.Skip(1).Select((l, i) => l.Split(',')[0] == labels[i] ? 1 : 0).Sum();
        Assert.IsGreaterThan(0.9, correct / 1797.0, "predicted labels are the label values");
        Directory.Delete(folder, true);
    }

    [TestMethod]
    public void SameSeed_ByteIdenticalModelFiles_EvenSecondsApart()
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        string[] Args(string name) => new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--epochs", "3", "--seed", "5", "--out", Path.Combine(dir, name) };
        Assert.AreEqual(0, CliRunner.Run(Args("a.zip")).ExitCode);
        Thread.Sleep(2100); // zip timestamps have a 2-second resolution: a plain save would differ now
        Assert.AreEqual(0, CliRunner.Run(Args("b.zip")).ExitCode);
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(dir, "a.zip")), File.ReadAllBytes(Path.Combine(dir, "b.zip")));
        Directory.Delete(dir, true);
    }
}
