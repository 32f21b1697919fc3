using MlRounding.Cli;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// The table read whole (<see cref="CsvTable"/>) holds numbers as floats and the text of only the columns that need it:
/// a column with a word anywhere, however late, keeps every cell's text as written; a named column of numbers keeps its
/// text (zip codes stay 00501); blank lines are skipped alike by both passes.
/// </summary>
[TestClass]
public sealed class TypedTableTests
{
    [TestMethod]
    public void AWordInTheLastRow_MakesTheColumnText_WithEveryCellAsWritten()
    {
        using var temp = new TempFolder();
        string path = temp.File("late.csv");
        var lines = new List<string> { "code,x,Label" };
        lines.AddRange(Enumerable.Range(0, 3000).Select(i => $"{(i % 4 == 0 ? "1.50" : "2")},{i % 9},{i % 2}"));
        lines.Insert(1500, string.Empty);
        lines.Add("other,3,1");
        File.WriteAllLines(path, lines);

        CsvTable table = CsvTable.Read(path);

        Assert.AreEqual(3001, table.RowCount, "the blank line is skipped");
        Assert.IsFalse(table.IsNumeric(0));
        Assert.IsTrue(table.IsNumeric(1));
        Assert.AreEqual("1.50", table.Cells(0)[0], "the text as written, not the number read back");
        Assert.AreEqual("other", table.Cells(0)[3000]);
        Assert.AreEqual(1502, table.Lines[1499], "the row after the blank line starts on its own line");
        Assert.ThrowsExactly<InvalidOperationException>(() => table.Cells(1), "a column of numbers keeps no text unless named");
        TableSchema schema = TableSchema.Infer(table, "Label", TableSchema.Overrides.None);
        Assert.AreEqual((ColumnRole.Categorical, "text, 3 distinct values"), (schema.Columns[0].Role, schema.Columns[0].Why));
        List<TableRow> rows = TableRows.Read(table, schema, labelRequired: true, _ => { });
        CollectionAssert.AreEqual(new[] { "1.50", "2", "other" }, new[] { rows[0].Categorical[0], rows[1].Categorical[0], rows[^1].Categorical[0] });
    }

    [TestMethod]
    public void ANamedCategoricalColumnOfNumbers_KeepsItsText_InTrainingAndInTheModelsFiles()
    {
        using var temp = new TempFolder();
        var (data, model) = CliRunner.Train(temp.Path, new[] { "zip,x,Label" }.Concat(Enumerable.Range(0, 80).Select(i => $"{(i % 2 == 0 ? "00501" : "02134")},{i % 5},{i % 2}")), "--categorical", "zip", "--epochs", "30");
        var (_, info) = CliModelInfo.Load(new Microsoft.ML.MLContext(), model);
        CollectionAssert.Contains(info.Table.TextColumns, "zip");

        List<TableRow> rows = info.Rows(CsvTable.Read(data, textColumns: info.Table.TextColumns), labelRequired: true, _ => { });

        CollectionAssert.AreEqual(new[] { "00501", "02134" }, rows.Take(2).Select(r => r.Categorical[0]).ToArray());
        var (code, stdout, stderr) = CliRunner.Run("evaluate", "--model", model, "--data", data);
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual("accuracy: 1.0000", stdout.Split('\n')[0].Trim(), "zip decides the label, and evaluate reads it as training did");
    }
}
