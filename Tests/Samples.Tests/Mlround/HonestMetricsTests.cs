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
        string Kind(int i) => (i % 3) switch { 0 => "low", 1 => "mid", _ => "high" };
        var (_, model) = CliRunner.Train(temp.Path, new[] { "x,kind" }.Concat(Enumerable.Range(0, 90).Select(i => $"{(i % 3).ToString(CultureInfo.InvariantCulture)},{Kind(i)}")), "--epochs", "30");
        string test = Path.Combine(temp.Path, "test.csv");
        File.WriteAllLines(test, new[] { "x,kind", "0,low", "1,mid", "2,high", "1,huge", "2,huge", ",low", "0," });
        var (code, stdout, stderr) = CliRunner.Run("evaluate", "--model", model, "--data", test, "--json");
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
    public void Threads_OneThread_Trains_AndCompareTakesIt()
    {
        using var temp = new TempFolder();
        var (data, _) = CliRunner.Train(temp.Path, new[] { "x,Label" }.Concat(Enumerable.Range(0, 60).Select(i => $"{i},{i % 2}")), "--epochs", "2", "--threads", "1");
        var (code, _, stderr) = CliRunner.Run("compare", "--data", data, "--epochs", "1", "--bits", "4", "--threads", "1");
        Assert.AreEqual(0, code, stderr);
        (code, _, stderr) = CliRunner.Run("compare", "--data", data, "--threads", "0");
        Assert.AreEqual(2, code);
        Assert.AreEqual("error: --threads must be at least 1, got 0.", stderr.Trim());
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
