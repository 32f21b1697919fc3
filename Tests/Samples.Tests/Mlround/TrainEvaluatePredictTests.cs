using System.Text.Json;

namespace MlRounding.Samples.Tests.Mlround;

[TestClass]
public sealed class TrainEvaluatePredictTests
{
    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    [TestMethod]
    public void Binary_TrainEvaluatePredict()
    {
        string folder = Directory.CreateTempSubdirectory().FullName;
        string model = Path.Combine(folder, "model.zip");
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", Data("breast_cancer.csv"), "--label", "Benign", "--epochs", "15", "--weight-bits", "4", "--out", model, "--json");
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

        (code, stdout, stderr) = CliRunner.Run("evaluate", "--model", model, "--data", Data("breast_cancer.csv"), "--json");
        Assert.AreEqual(0, code, stderr);
        using (var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]))
        {
            Assert.IsGreaterThan(0.85, json.RootElement.GetProperty("accuracy").GetDouble());
        }

        string predictions = Path.Combine(folder, "predictions.csv");
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", Data("breast_cancer.csv"), "--out", predictions);
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
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", Data("digits.csv"), "--epochs", "8", "--out", model);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "accuracy:");
        string predictions = Path.Combine(folder, "p.csv");
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", Data("digits.csv"), "--out", predictions);
        Assert.AreEqual(0, code, stderr);
        string[] lines = File.ReadAllLines(predictions);
        Assert.HasCount(1798, lines);
        var labels = File.ReadAllLines(Data("digits.csv")).Skip(1).Select(l => l.Split(',')[^1]).ToArray();
        int correct = lines.Skip(1).Select((l, i) => l.Split(',')[0] == labels[i] ? 1 : 0).Sum();
        Assert.IsGreaterThan(0.9, correct / 1797.0, "predicted labels are the label values");
        Directory.Delete(folder, true);
    }

    [TestMethod]
    public void Errors_ExitCode2_NoPartialFiles()
    {
        string folder = Directory.CreateTempSubdirectory().FullName;
        string model = Path.Combine(folder, "model.zip");
        var cases = new[]
        {
            (new[] { "train", "--data", Path.Combine(folder, "missing.csv"), "--out", model }, "does not exist"),
            (new[] { "train", "--data", Data("digits.csv"), "--label", "Nope", "--out", model }, "unknown column 'Nope'"),
            (new[] { "train", "--data", Data("diabetes.csv"), "--task", "binary", "--out", model }, "does not fit a binary task"),
            (new[] { "train", "--data", Data("digits.csv"), "--weight-bits", "12", "--out", model }, "WeightBits"),
            (new[] { "train", "--data", Data("digits.csv"), "--estimator", "magic", "--out", model }, "--estimator"),
            (new[] { "evaluate", "--model", model, "--data", Data("digits.csv") }, "does not exist"),
        };
        foreach (var (args, expected) in cases)
        {
            var (code, _, stderr) = CliRunner.Run(args);
            Assert.AreEqual(2, code, string.Join(' ', args) + ": " + stderr);
            Assert.Contains(expected, stderr, string.Join(' ', args));
        }

        Assert.IsEmpty(Directory.GetFileSystemEntries(folder), "no partial model file");
        var (trained, _, err) = CliRunner.Run("train", "--data", Data("diabetes.csv"), "--epochs", "2", "--out", model);
        Assert.AreEqual(0, trained, err);
        var (predictCode, _, predictErr) = CliRunner.Run("predict", "--model", model, "--data", Data("digits.csv"), "--out", Path.Combine(folder, "p.csv"));
        Assert.AreEqual(2, predictCode);
        StringAssert.Contains(predictErr, "unknown column 'age'");
        Assert.IsFalse(File.Exists(Path.Combine(folder, "p.csv")));
        Directory.Delete(folder, true);
    }
}
