using MlRounding.Cli;
using Spectre.Console.Testing;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary><c>mlround train</c>'s progress: a live bar on an interactive terminal, plain lines otherwise.</summary>
[TestClass]
public sealed class ProgressDisplayTests
{
    [TestMethod]
    public void InteractiveTerminal_LiveBarWithEpochLossAndValidation_NoPlainLines()
    {
        var terminal = new TestConsole().Interactive().EmitAnsiSequences().Width(120);
        using var temp = new TempFolder();
        string model = temp.File("model.zip");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = MlroundCli.Run(new[] { "train", "--data", CliRunner.Data("breast_cancer.csv"), "--label", "Benign", "--epochs", "4", "--out", model }, stdout, stderr, terminal);
        Assert.AreEqual(0, code, stderr.ToString());
        Assert.AreEqual("task: binary (label 'Benign': 2 distinct whole numbers in 456 training rows, read as classes; --task to choose)", stderr.ToString().Trim(), "the bar replaces the plain progress lines; the task line stays");
        string bar = terminal.Output;
        StringAssert.Contains(bar, "epoch 4/4: loss ");
        StringAssert.Contains(bar, ", validation accuracy ");
        StringAssert.Contains(bar, "100%");
        StringAssert.Contains(stdout.ToString(), "accuracy: ", "results still go to stdout");
    }

    [TestMethod]
    public void At80Columns_TheBarKeepsOneLine()
    {
        // Checked by hand in tmux at 80x24 too (2026-12-05): "40/40 loss 0.012 acc 0.972 kept 32 ━━━━━━━━━━━━ 100% 00:00:03".
        var terminal = new TestConsole().Interactive().Width(80);
        using var temp = new TempFolder();
        int code = MlroundCli.Run(new[] { "train", "--data", CliRunner.Data("breast_cancer.csv"), "--label", "Benign", "--epochs", "3", "--out", temp.File("model.zip") }, new StringWriter(), new StringWriter(), terminal);
        Assert.AreEqual(0, code);
        string[] lines = terminal.Lines.Where(l => l.Trim().Length > 0).ToArray();
        Assert.IsTrue(lines.All(l => l.TrimEnd().Length <= 80), string.Join("\n", lines));
        Assert.IsTrue(lines.Any(l => l.Contains("3/3 loss ", StringComparison.Ordinal) && l.Contains("100%", StringComparison.Ordinal)), "description, bar and percentage on one line:\n" + string.Join("\n", lines));
        Assert.IsTrue(TrainingDisplay.Compact(new MlRounding.Trainers.QatProgress(60, 0.1234, 0.9678, 0.1, 59, 60), 60, "accuracy").Length <= 36);
    }

    [TestMethod]
    public void NoTerminal_OnePlainLinePerEpoch()
    {
        using var temp = new TempFolder();
        string model = temp.File("model.zip");
        var (code, _, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("diabetes.csv"), "--epochs", "3", "--out", model);
        Assert.AreEqual(0, code, stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("task: ", StringComparison.Ordinal)).ToArray();
        CollectionAssert.AreEqual(new[] { "epoch 1: loss", "epoch 2: loss", "epoch 3: loss" }, lines.Select(l => l[..13]).ToArray());
        Assert.IsTrue(lines.All(l => l.Contains(", validation rmse ", StringComparison.Ordinal)), stderr);
    }
}
