namespace MlRounding.Samples.Tests.Mlround;

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
        var (train, model) = CliRunner.Train(temp.Path, new[] { "id,x,Label" }.Concat(Enumerable.Range(0, 60).Select(i => $"r{i},{i % 7},{(i % 7) * 3 % 10}")), "--task", "multiclass", "--epochs", "5");
        string output = Path.Combine(temp.Path, "p.csv");
        var (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", train, "--out", output, "--keep", "id");
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
