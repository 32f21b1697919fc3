using MlRounding.Cli;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// <see cref="ReadAhead"/> (the reading thread of <c>predict</c>) hands on the rows that the
/// pool-parallel reading hands on, in file order; a row that does not fit fails after the rows before it; a consumer
/// that stops early stops the reader, which has read a bounded number of rows ahead.
/// </summary>
[TestClass]
public sealed class ReadAheadTests
{
    [TestMethod]
    public void Rows_AreTheRowsParallelRowsGives_InFileOrder()
    {
        using var temp = new TempFolder();
        string path = temp.File("t.csv");
        var lines = Table(3000).ToList();
        lines.Insert(700, string.Empty); // a blank line is skipped
        lines[1500] = "r1498,\"4, quoted\", spaced ,x";
        File.WriteAllLines(path, lines);
        Func<int, bool> take = i => i % 3 != 0;

        List<string> expected, read;
        using (var source = CsvSource.Open(path))
        {
            expected = source.ParallelRows(take, Describe).ToList();
        }

        using (var source = CsvSource.Open(path))
        {
            read = ReadAhead.Rows(source, take, Describe).ToList();
        }

        Assert.IsGreaterThan(1900, expected.Count, "the rows the take keeps");
        CollectionAssert.AreEqual(expected, read);
        using (var source = CsvSource.Open(path))
        {
            read = ReadAhead.Rows(source, null, Describe).ToList();
        }

        Assert.HasCount(3000, read, "every row but the blank line");
        Assert.AreEqual("1501:r1498|4, quoted|spaced|x", read[1498], "the quoted cell unescaped, the spaced one trimmed");
    }

    [TestMethod]
    public void ARowThatDoesNotFit_FailsAfterTheRowsBeforeIt()
    {
        using var temp = new TempFolder();
        string path = temp.File("t.csv");
        var lines = Table(3000).ToList();
        lines[2000] = "r1999,7"; // line 2001 of the file
        File.WriteAllLines(path, lines);

        using var source = CsvSource.Open(path);
        var read = new List<string>();
        var error = Assert.ThrowsExactly<FormatException>(() =>
        {
            foreach (string row in ReadAhead.Rows(source, null, Describe))
            {
                read.Add(row);
            }
        });

        StringAssert.Contains(error.Message, "row 2001: 2 cells, the header has 4");
        Assert.HasCount(1999, read, "every row before the bad one");
        Assert.AreEqual("2000:r1998|3|n0|x", read[^1]);
    }

    [TestMethod]
    public void AConsumerThatStopsEarly_StopsTheReader_WhichReadABoundedNumberOfRowsAhead()
    {
        using var temp = new TempFolder();
        string path = temp.File("t.csv");
        File.WriteAllLines(path, Table(50_000));
        int offered = 0;

        using (var source = CsvSource.Open(path))
        {
            var first = ReadAhead.Rows(source, _ => Interlocked.Increment(ref offered) > 0, Describe).Take(3).ToList();
            Assert.HasCount(3, first);
        }

        // Take(3) disposed the enumeration, which joined the reader: the count is final.
        Assert.IsLessThanOrEqualTo((ReadAhead.Batches + 2) * ReadAhead.BatchRows, offered, "rows read ahead");
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("?")]
    [DataRow("NA")]
    [DataRow("n/a")]
    [DataRow("NaN")]
    [DataRow("null")]
    [DataRow("0")]
    [DataRow("-0")]
    [DataRow("255")]
    [DataRow("2.5")]
    [DataRow("1e3")]
    [DataRow("1,234.5")]
    [DataRow("12%")]
    [DataRow("abc")]
    [DataRow("-")]
    public void TryNumberOrMissing_IsMissingThenTryNumber(string cell)
    {
        foreach (bool decimalComma in new[] { false, true })
        {
            bool expected = TableSchema.IsMissing(cell) || CellParsing.TryNumber(cell, decimalComma, out _);
            float expectedValue = TableSchema.IsMissing(cell) ? float.NaN : CellParsing.TryNumber(cell, decimalComma, out float v) ? v : 0;
            Assert.AreEqual(expected, CellParsing.TryNumberOrMissing(cell, decimalComma, out float value), $"'{cell}', decimal comma {decimalComma}");
            if (expected)
            {
                Assert.AreEqual(BitConverter.SingleToInt32Bits(expectedValue), BitConverter.SingleToInt32Bits(value), $"'{cell}', decimal comma {decimalComma}: the same bits");
            }
        }
    }

    // The row's line and its cells, read through the interface every reading path implements.
    private static string Describe<TCells>(TCells cells)
        where TCells : IRowCells, allows ref struct =>
        $"{cells.Line}:{cells.Text(0)}|{cells.Text(1)}|{cells.Text(2)}|{cells.Text(3)}";

    private static string Describe(BlockCells cells) => Describe<BlockCells>(cells);

    private static string Describe(SepCells cells) => Describe<SepCells>(cells);

    private static IEnumerable<string> Table(int rows) =>
        new[] { "id,x,note,y" }.Concat(Enumerable.Range(0, rows).Select(i => $"r{i},{i % 7},n{i % 3},x"));
}
