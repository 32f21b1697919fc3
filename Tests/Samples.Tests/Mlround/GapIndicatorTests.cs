using System.Globalization;
using MlRounding.Cli;
using MlRounding.Trainers;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>Missing-value indicators only where the gaps tell something about the label (<see cref="GapIndicators"/>).</summary>
[TestClass]
public sealed class GapIndicatorTests
{
    [TestMethod]
    public void ChiSquare_ThreeClasses_HandComputed()
    {
        // 20 rows per class; missing: a 10, b 0, c 2. Expected 4 missing and 16 present per class:
        // (36/4 + 36/16) + (16/4 + 16/16) + (4/4 + 4/16) = 17.5; two degrees of freedom, so p = exp(-17.5 / 2).
        var rows = new List<TableRow>();
        var gap = new List<bool>();
        foreach (var (label, missing) in new[] { ("a", 10), ("b", 0), ("c", 2) })
        {
            for (int i = 0; i < 20; i++)
            {
                rows.Add(new TableRow { LabelText = label });
                gap.Add(i < missing);
            }
        }

        double p = GapIndicators.PValue(gap.ToArray(), rows, QatTask.MulticlassClassification, textLabel: true);
        Assert.AreEqual(Math.Exp(-8.75), p, 1e-12);
    }

    [TestMethod]
    public void Correlation_Regression_HandComputed()
    {
        // gaps 1,0,0,0 against labels 1..4: r = -1.5 / √3.75, t = √3 on 2 degrees of freedom, whose two-sided tail is
        // 1 - t / √(2 + t²) = 1 - √(3/5).
        var rows = new[] { 1f, 2, 3, 4 }.Select(y => new TableRow { Label = y }).ToList();
        double p = GapIndicators.PValue(new[] { true, false, false, false }, rows, QatTask.Regression, textLabel: false);
        Assert.AreEqual(1 - Math.Sqrt(0.6), p, 1e-9);
        Assert.AreEqual(1.0, GapIndicators.PValue(new[] { false, false, false, false }, rows, QatTask.Regression, textLabel: false), "no gap: nothing to test");
    }

    /// <summary>120 rows, two informative numbers, a label from them; the column "g" has gaps where <paramref name="gapped"/> says.</summary>
    private static IEnumerable<string> Table(Func<int, int, bool> gapped)
    {
        var random = new Random(7);
        yield return "a,g,Label";
        for (int i = 0; i < 120; i++)
        {
            double a = random.NextDouble(), g = random.NextDouble();
            int label = a + g > 1 ? 1 : 0;
            string cell = gapped(i, label) ? "NA" : g.ToString("0.###", CultureInfo.InvariantCulture);
            yield return $"{a.ToString("0.###", CultureInfo.InvariantCulture)},{cell},{(label == 1 ? "yes" : "no")}";
        }
    }

    [TestMethod]
    public void GapsAtRandom_NoIndicator_AndANoteSaysWhy()
    {
        using var temp = new TempFolder();
        File.WriteAllLines(temp.File("t.csv"), Table((i, _) => i % 9 == 0));
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", temp.File("t.csv"), "--epochs", "2", "--show-columns", "--out", temp.File("m.zip"));
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "note: column 'g' has missing cells, imputed from the other numbers; no missing-value indicator: in the training rows its gaps show no association with the label (p = ");
        StringAssert.Contains(stdout, "g: numeric (numbers)");
    }

    [TestMethod]
    public void GapsThatFollowTheLabel_KeepTheirIndicator()
    {
        using var temp = new TempFolder();
        File.WriteAllLines(temp.File("t.csv"), Table((i, label) => label == 1 && i % 3 == 0));
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", temp.File("t.csv"), "--epochs", "2", "--show-columns", "--out", temp.File("m.zip"));
        Assert.AreEqual(0, code, stderr);
        Assert.DoesNotContain("no missing-value indicator", stderr);
        StringAssert.Contains(stdout, "g: numeric (numbers; missing cells: imputed from the other numbers, with an indicator)");
        var (predicted, _, predictErrors) = CliRunner.Run("predict", "--model", temp.File("m.zip"), "--data", temp.File("t.csv"), "--out", temp.File("p.csv"));
        Assert.AreEqual(0, predicted, predictErrors);
    }
}
