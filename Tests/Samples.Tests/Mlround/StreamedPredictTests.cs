using System.Globalization;
using Microsoft.ML;
using MlRounding.Cli;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// <c>predict</c> streams its file (rows read and parsed ahead on a thread of their own, scored and written in file order): it writes what
/// scoring the whole table at once writes, and a row that does not fit, however late, fails with one line naming the
/// row and leaves no file.
/// </summary>
[TestClass]
public sealed class StreamedPredictTests
{
    private const int Rows = 5000;

    [TestMethod]
    public void Predict_WritesInFileOrder_WhatScoringTheWholeTableWrites()
    {
        using var temp = new TempFolder();
        var (_, model) = CliRunner.Train(temp.Path, Table(60), "--task", "multiclass", "--epochs", "3");
        string data = temp.File("many.csv"), output = temp.File("p.csv");
        var lines = Table(Rows).ToList();
        lines.Insert(1234, string.Empty); // a blank line is skipped
        lines[77] = "\"r76\",\"5\",\"a, quoted\",3"; // quoted cells
        File.WriteAllLines(data, lines);

        var (code, stdout, stderr) = CliRunner.Run("predict", "--model", model, "--data", data, "--out", output, "--keep", "id,note");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, $"wrote {Rows} predictions");

        // The second implementation: the whole table read first (CsvTable), scored through one in-memory view.
        var ml = new MLContext();
        var (loaded, info) = CliModelInfo.Load(ml, model);
        var rows = info.Rows(CsvTable.Read(data), labelRequired: false, _ => { });
        var writer = new StringWriter();
        Predictions.Write(loaded.Transform(TableRows.ToDataView(ml, rows, info.Table)), info, writer, Array.Empty<string>());
        string[] expected = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        string[] written = File.ReadAllLines(output);
        Assert.HasCount(Rows + 1, written);
        Assert.AreEqual("id,note," + expected[0], written[0]);
        for (int i = 1; i <= Rows; i++)
        {
            string note = i == 77 ? "\"a, quoted\"" : $"n{(i - 1) % 3}";
            Assert.AreEqual($"r{i - 1},{note},{expected[i]}", written[i], $"row {i}");
        }
    }

    [TestMethod]
    [DataRow("r4321,abc,n0,1", "row 4323, column 'x': 'abc' is not a number (the column was numeric in training)")]
    [DataRow("r4321,7", "row 4323: 2 cells, the header has 4")]
    public void Predict_ARowThatDoesNotFit_LateInTheFile_IsOneLine_AndNoFile(string bad, string message)
    {
        using var temp = new TempFolder();
        var (_, model) = CliRunner.Train(temp.Path, Table(60), "--task", "multiclass", "--epochs", "2");
        string data = temp.File("many.csv"), output = temp.File("p.csv");
        var lines = Table(Rows).ToList();
        lines[4322] = bad; // line 4323 of the file
        File.WriteAllLines(data, lines);
        string[] before = Directory.GetFiles(temp.Path);

        var (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", data, "--out", output);
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, message);
        Assert.HasCount(1, stderr.TrimEnd().Split('\n'), "one line: " + stderr);
        CollectionAssert.AreEquivalent(before, Directory.GetFiles(temp.Path), "no prediction file, no temporary");
    }

    [TestMethod]
    [DataRow("0")]
    [DataRow("7")]
    [DataRow("255")]
    [DataRow("-0")]
    [DataRow("+12")]
    [DataRow("-9999999")]
    [DataRow("0000042")]
    [DataRow("16777217")] // 8 digits: left to the float parser (2^24 + 1 rounds to even)
    [DataRow("123456789")]
    [DataRow("1e3")]
    [DataRow("2.5")]
    public void WholeNumberCells_ReadAsFloatParseReadsThem(string cell)
    {
        float expected = float.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture);
        Assert.IsTrue(CellParsing.TryNumber(cell, decimalComma: false, out float value), cell);
        Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(value), $"{cell}: the same bits (-0 stays -0)");
        Assert.IsTrue(CellParsing.TryNumber(cell.Contains('.') ? cell.Replace('.', ',') : cell, decimalComma: true, out value), cell);
        Assert.AreEqual(expected, value, cell);
    }

    [TestMethod]
    [DataRow("-")]
    [DataRow("+")]
    [DataRow("1-2")]
    [DataRow("12a")]
    public void NotQuiteWholeNumbers_AreNotNumbers(string cell) =>
        Assert.IsFalse(CellParsing.TryNumber(cell, decimalComma: false, out _), cell);

    // id, x (a number), note (text, three values), Label (a class).
    private static IEnumerable<string> Table(int rows) =>
        new[] { "id,x,note,Label" }.Concat(Enumerable.Range(0, rows).Select(i => $"r{i},{i % 7},n{i % 3},{(i % 7) * 3 % 10}"));
}
