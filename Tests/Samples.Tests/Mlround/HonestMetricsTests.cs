using System.Globalization;
using System.Text.Json;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>Metrics over every row: labels never seen in training count as wrong, skipped rows are counted by reason.</summary>
[TestClass]
public sealed class HonestMetricsTests
{
    [TestMethod]
    public void Evaluate_RowsWithAnUnseenLabel_CountAsWrong_AndAreReported()
    {
        using var temp = new TempFolder();
        string train = Path.Combine(temp.Path, "train.csv"), test = Path.Combine(temp.Path, "test.csv"), model = Path.Combine(temp.Path, "m.zip");
        string Kind(int i) => (i % 3) switch { 0 => "low", 1 => "mid", _ => "high" };
        File.WriteAllLines(train, new[] { "x,kind" }.Concat(Enumerable.Range(0, 90).Select(i => $"{(i % 3).ToString(CultureInfo.InvariantCulture)},{Kind(i)}")));
        File.WriteAllLines(test, new[] { "x,kind", "0,low", "1,mid", "2,high", "1,huge", "2,huge", ",low", "0," });
        var (code, _, stderr) = CliRunner.Run("train", "--data", train, "--epochs", "30", "--out", model);
        Assert.AreEqual(0, code, stderr);
        (code, string stdout, stderr) = CliRunner.Run("evaluate", "--model", model, "--data", test, "--json");
        Assert.AreEqual(0, code, stderr);
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var root = json.RootElement;
        Assert.AreEqual(6, root.GetProperty("rows").GetInt32(), "every row with a label is evaluated");
        Assert.AreEqual(1, root.GetProperty("skipped").GetProperty("label_missing").GetInt32());
        Assert.AreEqual(2, root.GetProperty("unseen_label_rows").GetInt32());
        Assert.IsLessThanOrEqualTo(4 / 6.0 + 1e-9, root.GetProperty("accuracy").GetDouble(), "the two 'huge' rows are wrong: at most 4 of 6");
        StringAssert.Contains(stderr, "note: 2 of 6 rows have a label the model never saw in training; they count as wrong.");
        StringAssert.Contains(stderr, "skipped 1 row(s)");
    }

    [TestMethod]
    public void Train_Json_CountsTheRowsTheSkippedByReasonAndTheTestRows()
    {
        using var temp = new TempFolder();
        string data = Path.Combine(temp.Path, "d.csv");
        File.WriteAllLines(data, new[] { "x,Label" }.Concat(Enumerable.Range(0, 50).Select(i => i == 7 ? "7," : $"{i},{i % 2}")));
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", data, "--epochs", "2", "--out", Path.Combine(temp.Path, "m.zip"), "--json");
        Assert.AreEqual(0, code, stderr);
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.AreEqual(49, json.RootElement.GetProperty("rows").GetInt32());
        Assert.AreEqual(9, json.RootElement.GetProperty("test_rows").GetInt32(), "a fifth of 49, rounded down");
        Assert.AreEqual(1, json.RootElement.GetProperty("skipped").GetProperty("label_missing").GetInt32());
    }
}

/// <summary>What predict writes: kept input columns, class scores in numeric or ordinal order.</summary>
[TestClass]
public sealed class PredictOutputTests
{
    [TestMethod]
    public void ScoreColumns_NumericOrderForNumbers_OrdinalForText()
    {
        CollectionAssert.AreEqual(new[] { 2, 0, 1 }, MlRounding.Cli.Predictions.ScoreOrder(new[] { "9", "10", "3" }), "3, 9, 10");
        CollectionAssert.AreEqual(new[] { 1, 2, 0 }, MlRounding.Cli.Predictions.ScoreOrder(new[] { "cat", "ant", "bee" }), "ant, bee, cat");
    }

    [TestMethod]
    public void Keep_CopiesTheNamedInputColumns_InFrontOfThePredictions_AndAnUnknownOneIsOneLine()
    {
        using var temp = new TempFolder();
        string train = Path.Combine(temp.Path, "train.csv"), model = Path.Combine(temp.Path, "m.zip"), output = Path.Combine(temp.Path, "p.csv");
        File.WriteAllLines(train, new[] { "id,x,Label" }.Concat(Enumerable.Range(0, 60).Select(i => $"r{i},{i % 7},{(i % 7) * 3 % 10}")));
        var (code, _, stderr) = CliRunner.Run("train", "--data", train, "--task", "multiclass", "--epochs", "5", "--out", model);
        Assert.AreEqual(0, code, stderr);
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", train, "--out", output, "--keep", "id");
        Assert.AreEqual(0, code, stderr);
        string[] lines = File.ReadAllLines(output);
        StringAssert.StartsWith(lines[0], "id,predicted_label,score_0,score_2,score_3,score_5,score_6,score_8,score_9", "scores in numeric order");
        Assert.AreEqual("r0", lines[1].Split(',')[0]);
        Assert.AreEqual("r59", lines[^1].Split(',')[0]);
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", train, "--out", Path.Combine(temp.Path, "q.csv"), "--keep", "nope");
        Assert.AreEqual(2, code);
        StringAssert.StartsWith(stderr, "error: --keep: data file");
        Assert.IsFalse(File.Exists(Path.Combine(temp.Path, "q.csv")));
    }
}

/// <summary>An export that cannot be done names what stops it.</summary>
[TestClass]
public sealed class ExportRefusalTests
{
    [TestMethod]
    public void AModelWithFreeText_NamesFeaturizeTextAndTheColumn_OneLine_NoFile()
    {
        using var temp = new TempFolder();
        string data = Path.Combine(temp.Path, "reviews.csv"), model = Path.Combine(temp.Path, "m.zip"), onnx = Path.Combine(temp.Path, "m.onnx");
        File.WriteAllLines(data, new[] { "review,score,Label" }.Concat(Enumerable.Range(0, 40).Select(i => $"good movie number {i},{i % 5},{i % 2}")));
        var (code, _, stderr) = CliRunner.Run("train", "--data", data, "--text", "review", "--epochs", "2", "--out", model);
        Assert.AreEqual(0, code, stderr);
        (code, _, stderr) = CliRunner.Run("export", "--model", model, "--out", onnx);
        Assert.AreEqual(2, code);
        Assert.AreEqual($"error: {model}: its free-text columns ('review', featurized by FeaturizeText with --text) cannot be exported to ONNX; train without --text to export.", stderr.Trim());
        Assert.IsFalse(File.Exists(onnx));
    }
}
