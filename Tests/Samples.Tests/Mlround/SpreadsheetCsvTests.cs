using MlRounding.Cli;
using MlRounding.Trainers;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>Tables as spreadsheets write them: separators, decimal commas, thousands separators, dates, repeated names, and the task a label calls for.</summary>
[TestClass]
public sealed class SpreadsheetCsvTests
{
    private static CsvTable Write(TempFolder temp, string text, List<string>? notes = null)
    {
        string path = Path.Combine(temp.Path, "t.csv");
        File.WriteAllText(path, text);
        return CsvTable.Read(path, notes: notes is null ? null : notes.Add);
    }

    private static string Table(TempFolder temp, string header, int rows, Func<int, string> row)
    {
        string path = Path.Combine(temp.Path, "table.csv");
        File.WriteAllLines(path, new[] { header }.Concat(Enumerable.Range(0, rows).Select(row)));
        return path;
    }

    [TestMethod]
    [DataRow("a,b\n1,2\n3,4\n", ',')]
    [DataRow("a;b\n1,5;2\n3;4\n", ';')]
    [DataRow("a\tb\n1\t2\n3\t4\n", '\t')]
    [DataRow("a|b\n1|2\n3|4\n", '|')]
    [DataRow("a;b\n\"x;y\";2\n3;4\n", ';')]
    public void TheSeparator_IsDetected(string text, char separator)
    {
        using var temp = new TempFolder();
        CsvTable table = Write(temp, text);
        Assert.AreEqual(separator, table.Separator);
        CollectionAssert.AreEqual(new[] { "a", "b" }, table.Header);
    }

    [TestMethod]
    [DataRow("1,234.5", false, 1234.5f)]
    [DataRow("1,234,567", false, 1234567f)]
    [DataRow("$1,200", false, 1200f)]
    [DataRow("12%", false, 0.12f)]
    [DataRow("-0.5", false, -0.5f)]
    [DataRow("1.234,5", true, 1234.5f)]
    [DataRow("3,25", true, 3.25f)]
    [DataRow("12,5 €", true, 12.5f)]
    [DataRow("true", false, 1f)]
    public void Numbers_ReadAsASpreadsheetWould(string cell, bool decimalComma, float expected)
    {
        Assert.IsTrue(CellParsing.TryNumber(cell, decimalComma, out float value), cell);
        Assert.AreEqual(expected, value, 1e-6f, cell);
    }

    [TestMethod]
    [DataRow("1,5", false)]
    [DataRow("12,34", false)]
    [DataRow("1.5", true)]
    [DataRow("1,2,3", false)]
    [DataRow("abc", false)]
    public void AmbiguousOrForeignCells_AreNotNumbers(string cell, bool decimalComma)
    {
        Assert.IsFalse(CellParsing.TryNumber(cell, decimalComma, out _), cell);
    }

    [TestMethod]
    public void ASemicolonFileWithDecimalCommasAndGroupedThousands_ReadsItsNumbers()
    {
        using var temp = new TempFolder();
        CsvTable table = Write(temp, "x;y;Label\n1,5;\"1.234,5\";0\n2,5;3;1\n");
        Assert.IsTrue(table.DecimalComma);
        TableSchema schema = TableSchema.Infer(table, "Label", TableSchema.Overrides.None);
        Assert.IsTrue(schema.Columns.All(c => c.Role == ColumnRole.Numeric), string.Join(", ", schema.Describe()));
        var rows = TableRows.Read(table, schema, labelRequired: true, _ => { });
        CollectionAssert.AreEqual(new[] { 1.5f, 1234.5f }, rows[0].Numeric);
    }

    [TestMethod]
    [DataRow("Jan 1 2000", 2000, 1, 1)]
    [DataRow("March 5, 2021", 2021, 3, 5)]
    [DataRow("1 February 1999", 1999, 2, 1)]
    [DataRow("2024-01-31 13:45", 2024, 1, 31)]
    public void DatesWithMonthNamesAndIsoTimes_Read(string cell, int year, int month, int day)
    {
        Assert.IsTrue(CellParsing.TryDate(cell, DateOrder.None, out DateTime date), cell);
        Assert.AreEqual(new DateTime(year, month, day), date.Date);
    }

    [TestMethod]
    public void SlashedDates_TheOrderIsInferredWhereTheCellsTell_ElseMonthFirstOrAsStated()
    {
        Assert.AreEqual(DateOrder.DayFirst, CellParsing.DateOrderOf(new[] { "1/2/2000", "13/2/2000" }, DateOrder.None));
        Assert.AreEqual(DateOrder.MonthFirst, CellParsing.DateOrderOf(new[] { "1/2/2000", "2/13/2000" }, DateOrder.None));
        Assert.AreEqual(DateOrder.MonthFirst, CellParsing.DateOrderOf(new[] { "1/2/2000", "3/4/2000" }, DateOrder.None), "ambiguous: month first");
        Assert.AreEqual(DateOrder.DayFirst, CellParsing.DateOrderOf(new[] { "1/2/2000", "3/4/2000" }, DateOrder.DayFirst), "ambiguous: as stated");
        Assert.IsNull(CellParsing.DateOrderOf(new[] { "13/2/2000", "2/13/2000" }, DateOrder.None), "no order fits both");
        Assert.IsTrue(CellParsing.TryDate("3/4/2000", DateOrder.DayFirst, out DateTime april) && april.Month == 4);
    }

    [TestMethod]
    public void RepeatedColumnNames_AreRenamed_WithANote()
    {
        using var temp = new TempFolder();
        var notes = new List<string>();
        CsvTable table = Write(temp, "s,t,s,s\n1,2,3,4\n", notes);
        CollectionAssert.AreEqual(new[] { "s", "t", "s_2", "s_3" }, table.Header);
        Assert.HasCount(2, notes);
        StringAssert.Contains(notes[0], "names column 's' more than once; column 3 is read as 's_2'");
    }

    [TestMethod]
    public void ANumericLabel_IsRegression_UnlessItsWholeNumbersAreFewAndRepeated()
    {
        static List<TableRow> Rows(IEnumerable<float> labels) => labels.Select(l => new TableRow { Label = l }).ToList();
        var schema = new TableSchema("y", false, null, Array.Empty<TableColumn>(), Array.Empty<string>());
        Assert.AreEqual(QatTask.Regression, schema.InferTask(Rows(Enumerable.Range(0, 40).Select(i => (float)(1000 + 37 * i)))).Task, "iowa's shape: 40 whole numbers in 40 rows");
        Assert.AreEqual(QatTask.MulticlassClassification, schema.InferTask(Rows(Enumerable.Range(0, 60).Select(i => (float)(1 + i % 5)))).Task, "ratings 1-5 over 60 rows");
        Assert.AreEqual(QatTask.BinaryClassification, schema.InferTask(Rows(new float[] { 0, 1, 1 })).Task, "two values");
        Assert.AreEqual(QatTask.Regression, schema.InferTask(Rows(new[] { 0.5f, 1f, 2f })).Task, "fractions");
        StringAssert.Contains(schema.InferTask(Rows(Enumerable.Range(0, 40).Select(i => (float)i))).Why, "40 distinct whole numbers in 40 training rows");
    }

    [TestMethod]
    public void TrainAndCompare_PrintTheTaskAndWhy_AndCompareTakesTask()
    {
        using var temp = new TempFolder();
        string data = Table(temp, "x,net", 40, i => $"{i},{1000 + 37 * i}");
        var (code, _, stderr) = CliRunner.Run("train", "--data", data, "--epochs", "2", "--out", Path.Combine(temp.Path, "m.zip"));
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "task: regression (label 'net': 32 distinct whole numbers in 32 training rows;");
        (code, _, stderr) = CliRunner.Run("compare", "--data", data, "--epochs", "1", "--bits", "4", "--task", "regression");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stderr, "task: regression (--task)");
        StringAssert.Contains(stderr, "warning: the test rows are 8, fewer than 30");
    }

    [TestMethod]
    public void BinaryOnAThreeClassLabel_NamesTheThreeValues()
    {
        using var temp = new TempFolder();
        string data = Table(temp, "x,y", 30, i => $"{i},{i % 3}");
        var (code, _, stderr) = CliRunner.Run("train", "--data", data, "--task", "binary", "--out", Path.Combine(temp.Path, "m.zip"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "label column 'y' has 3 distinct values (0, 1, 2); a binary task needs exactly 2.");
    }
}
