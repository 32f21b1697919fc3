using System.Globalization;
using MlRounding.Cli;

namespace MlRounding.Samples.Tests.Mlround;

[TestClass]
public sealed class OpCommandTests
{
    private static double Parse(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [TestMethod]
    public void Defaults_601PointsFromMinus3To3_HeaderXYDydx()
    {
        var (code, stdout, stderr) = CliRunner.Run("op", "ste");
        Assert.AreEqual(0, code, stderr);
        Assert.StartsWith("x,y,dydx\n", stdout.Replace("\r\n", "\n"));
        string[][] rows = CliRunner.Rows(stdout);
        Assert.HasCount(601, rows);
        for (int i = 0; i < rows.Length; i++)
        {
            double x = -3 + i * 6.0 / 600;
            Assert.AreEqual(x, Parse(rows[i][0]), 0, $"x[{i}] is X0 + i (X1 - X0) / (N - 1)");
            Assert.AreEqual(Math.Round(x), Parse(rows[i][1]), 0);
            Assert.AreEqual(1, Parse(rows[i][2]));
        }
    }

    [TestMethod]
    public void EveryOpRuns()
    {
        foreach (string name in OpSettings.Names)
        {
            var (code, stdout, stderr) = CliRunner.Run("op", name, "--points", "7");
            Assert.AreEqual(0, code, $"{name}: {stderr}");
            string[][] rows = CliRunner.Rows(stdout);
            Assert.HasCount(7, rows, name);
            Assert.IsTrue(rows.All(r => r.Length == (name == "lsq" ? 4 : 3)), name);
            Assert.IsTrue(rows.All(r => r.All(v => double.IsFinite(Parse(v)))), name);
        }
    }

    [TestMethod]
    public void FakeQuant_MatchesFormula_AndLsqReportsScaleGradient()
    {
        var (_, stdout, _) = CliRunner.Run("op", "fake-quant", "--scale", "0.5", "--zero-point", "1", "--qmin", "0", "--qmax", "7", "--from", "-2", "--to", "4", "--points", "13");
        foreach (var row in CliRunner.Rows(stdout))
        {
            double x = Parse(row[0]);
            double q = Math.Round(x / 0.5) + 1;
            Assert.AreEqual((Math.Clamp(q, 0, 7) - 1) * 0.5, Parse(row[1]), 1e-15, $"x={x}");
            Assert.AreEqual(q >= 0 && q <= 7 ? 1 : 0, Parse(row[2]), $"x={x}");
        }

        // LSQ: dy/ds = round(x/s) - x/s inside, qmin - z below, qmax - z above (no gradient scaling).
        var (_, lsq, _) = CliRunner.Run("op", "lsq", "--scale", "0.5", "--qmin", "-2", "--qmax", "1", "--from", "-2", "--to", "2", "--points", "5");
        string[][] rows = CliRunner.Rows(lsq);
        Assert.AreEqual("x,y,dydx,dyds", lsq.Split('\n')[0].Trim());
        CollectionAssert.AreEqual(new[] { -2.0, 0, 0, 1, 1 }, rows.Select(r => Parse(r[3])).ToArray());
    }

    [TestMethod]
    public void Float32_PrintsFloatRoundTripNumbers()
    {
        var (_, stdout, _) = CliRunner.Run("op", "soft-round", "--float32", "--points", "3", "--from", "0.1", "--to", "0.3");
        string[] first = CliRunner.Rows(stdout)[0];
        Assert.AreEqual("0.1", first[0]);
        Assert.AreEqual(first[1], float.Parse(first[1], CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture));
    }

    [TestMethod]
    public void HardMode_RoundsForward()
    {
        var (_, soft, _) = CliRunner.Run("op", "sigmoid", "--points", "3", "--from", "0.2", "--to", "0.4");
        var (_, hard, _) = CliRunner.Run("op", "sigmoid", "--hard", "--points", "3", "--from", "0.2", "--to", "0.4");
        Assert.AreNotEqual(0, Parse(CliRunner.Rows(soft)[0][1]));
        Assert.AreEqual(0, Parse(CliRunner.Rows(hard)[0][1]));
        Assert.AreEqual(Parse(CliRunner.Rows(soft)[0][2]), Parse(CliRunner.Rows(hard)[0][2]), 1e-14, "same gradient");
    }

    [TestMethod]
    public void Png_IsWrittenWholeWithNoTemporaryLeft()
    {
        using var temp = new TempFolder();
        string folder = temp.Path;
        string png = Path.Combine(folder, "curve.png");
        var (code, _, stderr) = CliRunner.Run("op", "softmax", "--png", png, "--points", "50");
        Assert.AreEqual(0, code, stderr);
        byte[] bytes = File.ReadAllBytes(png);
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        CollectionAssert.AreEqual(new[] { png }, Directory.GetFiles(folder));
    }

    [TestMethod]
    public void BadInput_ExitCode2_OneClearLine_NoFile()
    {
        using var temp = new TempFolder();
        string folder = temp.Path;
        var cases = new[]
        {
            (new[] { "op", "nope" }, "unknown op 'nope'"),
            (new[] { "op", "ste", "--points", "1" }, "--points"),
            (new[] { "op", "ste", "--k", "abc" }, "--k"),
            (new[] { "op", "soft-round", "--alpha", "-1" }, "alpha"),
            (new[] { "op", "finite-difference", "--h", "0" }, "h must be positive"),
            (new[] { "op", "fake-quant", "--zero-point", "99" }, "zeroPoint"),
            (new[] { "op", "decimals", "--decimals", "9" }, "decimals"),
            (new[] { "op", "ste", "--from", "2", "--to", "1" }, "--to"),
            (new[] { "op", "ste", "--png", Path.Combine(folder, "missing", "x.png") }, "does not exist"),
        };
        foreach (var (args, expected) in cases)
        {
            var (code, stdout, stderr) = CliRunner.Run(args);
            Assert.AreEqual(2, code, string.Join(' ', args));
            Assert.Contains(expected, stderr, string.Join(' ', args));
            Assert.AreEqual(1, stderr.Trim().Split('\n').Length, $"one line: {stderr}");
            Assert.AreEqual(string.Empty, stdout);
        }

        Assert.IsEmpty(Directory.GetFileSystemEntries(folder));
    }
}
