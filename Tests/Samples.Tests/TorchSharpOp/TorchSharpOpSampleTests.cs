using System.Globalization;

namespace MlRounding.Samples.Tests.TorchSharpOp;

/// <summary>The TorchSharp sample: torch.round blocks learning, MlRounding's rounding layers learn, outputs stay whole.</summary>
[TestClass, TestCategory(TestLanes.Slow)]
public sealed class TorchSharpOpSampleTests
{
    [TestMethod]
    public void PlainRoundLearnsNothing_RoundingLayersLearn_PredictionsWhole()
    {
        var (code, stdout, stderr) = SampleProcess.Run("TorchSharpOp");
        Assert.AreEqual(0, code, stderr);
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(" | "))
            .ToDictionary(c => c[0], c => (Before: D(c[1]), After: D(c[2]), Rmse: D(c[3]), Whole: bool.Parse(c[4])));
        Assert.HasCount(3, rows, stdout);

        var plain = rows["torch.round (no MlRounding)"];
        Assert.AreEqual(plain.Before, plain.After, "torch.round has a zero gradient: the loss cannot move");
        foreach (var name in new[] { "Rounding.Modules.StraightThrough()", "Rounding.Modules.RoundToStep(1, SoftRound(4))" })
        {
            var r = rows[name];
            Assert.IsLessThan(0.5 * r.Before, r.After, $"{name} trains");
            Assert.IsLessThan(plain.Rmse - 10, r.Rmse, $"{name} generalizes better than the untrained network");
        }

        Assert.IsTrue(rows.Values.All(r => r.Whole), "every prediction is a whole number");
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
}
