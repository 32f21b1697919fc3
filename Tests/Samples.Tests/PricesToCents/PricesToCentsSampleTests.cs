using System.Globalization;

namespace MlRounding.Samples.Tests.PricesToCents;

/// <summary>The prices-to-cents sample: both approaches land on the grid and beat predicting the mean.</summary>
[TestClass]
public sealed class PricesToCentsSampleTests
{
    [TestMethod]
    public void BothApproaches_OnTheGrid_AndUseful()
    {
        var (code, stdout, stderr) = SampleProcess.Run("PricesToCents");
        Assert.AreEqual(0, code, stderr);
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(" | ")).ToList();
        Assert.HasCount(6, rows, stdout);
        CollectionAssert.AreEquivalent(new[] { "cents", "dollars", "$10 points" }, rows.Select(r => r[0]).Distinct().ToArray());
        foreach (var r in rows)
        {
            Assert.AreEqual("True", r[3], $"{r[0]} {r[1]}: every prediction on the grid");

            // The target's standard deviation on the held-out rows is about 77; predicting the mean scores that.
            Assert.IsLessThan(65.0, double.Parse(r[2], CultureInfo.InvariantCulture), string.Join(" | ", r));
        }

        // At cents the grid is far finer than the error: training through it changes nothing measurable.
        var cents = rows.Where(r => r[0] == "cents").Select(r => double.Parse(r[2], CultureInfo.InvariantCulture)).ToArray();
        Assert.AreEqual(cents[0], cents[1], 0.05);
    }
}
