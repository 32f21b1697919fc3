using nietras.SeparatedValues;

namespace MlRounding.Cli;

/// <summary>
/// A CSV file with a header row, as text cells (read by Sep: quoted fields, commas and quotes inside them, header
/// names with spaces or parentheses). What the cells mean is decided by <see cref="TableSchema"/>. Errors name the file
/// and, for a row, its line.
/// </summary>
internal sealed class CsvTable
{
    private readonly string[][] _rows; // a taken row's entry is null
    private bool _taken;

    private CsvTable(string path, string[] header, string[][] rows, int[] lines)
    {
        Path = path;
        Header = header;
        _rows = rows;
        Lines = lines;
    }

    /// <summary>Gets the file the table was read from.</summary>
    public string Path { get; }

    /// <summary>Gets the column names, trimmed.</summary>
    public string[] Header { get; }

    /// <summary>Gets the data rows, each with one trimmed cell per column.</summary>
    /// <exception cref="InvalidOperationException">Rows were taken (<see cref="TakeRow"/>): the table no longer holds them all.</exception>
    public string[][] Rows => _taken
        ? throw new InvalidOperationException($"the rows of '{Path}' were already read into table rows.")
        : _rows;

    /// <summary>Gets the number of data rows.</summary>
    public int RowCount => _rows.Length;

    /// <summary>
    /// Row <paramref name="index"/>'s cells, released from the table, so that a large CSV's cells go as its rows are
    /// converted (training on Fashion-MNIST's 60,000 x 785 CSV peaks at 1.6 GB resident, 2.1 GB with every cell held to the end).
    /// </summary>
    /// <exception cref="InvalidOperationException">The row was taken before.</exception>
    public string[] TakeRow(int index)
    {
        _taken = true;
        string[]? cells = _rows[index];
        if (cells is null)
        {
            throw new InvalidOperationException($"row {Lines[index]} of '{Path}' was already read.");
        }

        _rows[index] = null!;
        return cells;
    }

    /// <summary>Gets the line of the file each row starts on (the header is line 1).</summary>
    public int[] Lines { get; }

    /// <summary>Reads the file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is empty, has no data rows, repeats a column name, or a row has the wrong number of cells.</exception>
    public static CsvTable Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"data file '{path}' does not exist.", path);
        }

        if (new FileInfo(path).Length == 0 || File.ReadLines(path).FirstOrDefault() is not { } first || string.IsNullOrWhiteSpace(first))
        {
            throw new FormatException($"data file '{path}' is empty: expected a header row and data rows.");
        }

        // Cells become strings pooled per column: a column of a few distinct values (pixels, categories) holds each once.
        using var reader = Sep.Reader(o => o with { Unescape = true, DisableColCountCheck = true, Sep = new Sep(','), Trim = SepTrim.All, CreateToString = SepToString.PoolPerCol() }).FromFile(path);
        string[] header = reader.Header.ColNames.Select(n => n.Trim()).ToArray();
        if (header.Distinct(StringComparer.Ordinal).Count() != header.Length)
        {
            string repeated = header.GroupBy(h => h, StringComparer.Ordinal).First(g => g.Count() > 1).Key;
            throw new FormatException($"data file '{path}' names column '{repeated}' more than once.");
        }

        var rows = new List<string[]>();
        var lines = new List<int>();
        foreach (var row in reader)
        {
            if (row.ColCount == 1 && row[0].Span.Trim().IsEmpty && header.Length > 1)
            {
                continue; // a blank line
            }

            if (row.ColCount != header.Length)
            {
                throw new FormatException($"{path} row {row.LineNumberFrom}: {row.ColCount} cells, the header has {header.Length}.");
            }

            var cells = new string[header.Length];
            for (int c = 0; c < cells.Length; c++)
            {
                cells[c] = row[c].ToString();
            }

            rows.Add(cells);
            lines.Add(row.LineNumberFrom);
        }

        if (rows.Count == 0)
        {
            throw new FormatException($"data file '{path}' has a header but no data rows.");
        }

        return new CsvTable(path, header, rows.ToArray(), lines.ToArray());
    }

    /// <summary>The index of a column.</summary>
    /// <exception cref="ArgumentException">There is no such column (the message lists the columns).</exception>
    public int ColumnIndex(string name)
    {
        int index = Array.FindIndex(Header, h => h.Equals(name, StringComparison.Ordinal));
        return index >= 0 ? index : throw new ArgumentException($"data file '{Path}' has no column '{name}'; its columns are: {string.Join(", ", Header)}.", "label");
    }
}
