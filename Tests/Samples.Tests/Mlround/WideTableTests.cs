using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// mlround on a wide, noisy table (3 informative columns among 60, 600 rows): the trainer's input screen keeps the network
/// trained on the columns associated with the label, the command says so in one line and in --json, and the saved model
/// still takes every column.
/// </summary>
[TestClass]
public sealed class WideTableTests
{
    [TestMethod]
    public void WideNoisyTable_SaysHowManyInputsTheNetworkUses()
    {
        using var temp = new TempFolder();
        string data = Path.Combine(temp.Path, "wide.csv"), model = Path.Combine(temp.Path, "m.zip"), predictions = Path.Combine(temp.Path, "p.csv");
        File.WriteAllText(data, Table(rows: 600, columns: 60, seed: 1));
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", data, "--label", "y", "--weight-bits", "4", "--out", model, "--json");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "inputs: the network uses ");
        StringAssert.Contains(stderr, " of its 60 inputs; the others showed no association with the label on their own");
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        int used = json.RootElement.GetProperty("inputs_used").GetInt32();
        Assert.IsTrue(used is >= 3 and <= 30, $"{used} inputs used");
        Assert.IsGreaterThan(0.85, json.RootElement.GetProperty("accuracy").GetDouble());

        Assert.AreEqual(0, CliRunner.Run("predict", "--model", model, "--data", data, "--out", predictions).ExitCode);
        Assert.HasCount(601, File.ReadAllLines(predictions), "a prediction for every row, from every column");
    }

    /// <summary>Standard normal columns x0..x(columns-1) and y = 1 when x0 + x1 - x2 is positive (5 % of labels flipped).</summary>
    private static string Table(int rows, int columns, int seed)
    {
        var random = new Random(seed);
        var csv = new StringBuilder(string.Join(",", Enumerable.Range(0, columns).Select(j => $"x{j}")) + ",y\n");
        for (int i = 0; i < rows; i++)
        {
            double[] x = Enumerable.Range(0, columns).Select(_ => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())).ToArray();
            bool y = (x[0] + x[1] - x[2] > 0) ^ (random.NextDouble() < 0.05);
            csv.Append(string.Join(",", x.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append(y ? ",1\n" : ",0\n");
        }

        return csv.ToString();
    }
}
