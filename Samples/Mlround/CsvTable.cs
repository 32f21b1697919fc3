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

    private CsvTable(string path, string[] header, string[][] rows, int[] lines, char separator, bool decimalComma)
    {
        (Path, Header, _rows, Lines) = (path, header, rows, lines);
        (Separator, DecimalComma) = (separator, decimalComma);
    }

    /// <summary>Gets the separator of the cells: ',' ';' tab or '|'.</summary>
    public char Separator { get; }

    /// <summary>Gets a value indicating whether numbers are written with a decimal comma (a ';'-separated file with such numbers).</summary>
    public bool DecimalComma { get; }

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

    /// <summary>Reads the file: the separator is detected from the header and the first rows unless given.</summary>
    /// <param name="path">The file.</param>
    /// <param name="separator">The separator (--separator), or null to detect it.</param>
    /// <param name="notes">Receives a line for each repeated column name, renamed name_2, name_3, ...</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is empty, has no data rows, or a row has the wrong number of cells.</exception>
    public static CsvTable Read(string path, char? separator = null, Action<string>? notes = null)
    {
        using CsvSource source = CsvSource.Open(path, separator, notes);
        var rows = new List<string[]>();
        var lines = new List<int>();
        foreach (var row in source.Reader)
        {
            if (source.IsBlank(row))
            {
                continue;
            }

            source.CheckWidth(row);
            var cells = new string[source.Header.Length];
            for (int c = 0; c < cells.Length; c++)
            {
                cells[c] = row[c].ToString(); // pooled per column: a column of a few distinct values (pixels, categories) holds each once
            }

            rows.Add(cells);
            lines.Add(row.LineNumberFrom);
        }

        if (rows.Count == 0)
        {
            throw new FormatException($"data file '{path}' has a header but no data rows.");
        }

        return new CsvTable(path, source.Header, rows.ToArray(), lines.ToArray(), source.Separator, source.DecimalComma);
    }

    /// <summary>The index of a column.</summary>
    /// <exception cref="ArgumentException">There is no such column (the message lists the columns).</exception>
    public int ColumnIndex(string name) => CsvSource.ColumnIndex(Path, Header, name);
}
