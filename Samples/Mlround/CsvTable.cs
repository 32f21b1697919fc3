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
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"data file '{path}' does not exist.", path);
        }

        if (new FileInfo(path).Length == 0 || File.ReadLines(path).FirstOrDefault() is not { } first || string.IsNullOrWhiteSpace(first))
        {
            throw new FormatException($"data file '{path}' is empty: expected a header row and data rows.");
        }

        string[] sample = File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Take(50).ToArray();
        char sep = separator ?? CsvDialect.Separator(sample);
        bool decimalComma = CsvDialect.DecimalComma(sample, sep);

        // Cells become strings pooled per column: a column of a few distinct values (pixels, categories) holds each once.
        var (header, rows, lines) = ReadCells(path, sep, notes);
        if (rows.Count == 0 || header is null)
        {
            throw new FormatException($"data file '{path}' has a header but no data rows.");
        }

        return new CsvTable(path, header, rows.ToArray(), lines.ToArray(), sep, decimalComma);
    }

    /// <summary>The header (repeated names renamed) and every row's trimmed cells with the line it starts on; blank lines skipped.</summary>
    private static (string[]? Header, List<string[]> Rows, List<int> Lines) ReadCells(string path, char sep, Action<string>? notes)
    {
        // The header is read as a row (HasHeader false): Sep refuses repeated names, which are renamed here instead.
        using var reader = Sep.Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true, Sep = new Sep(sep), Trim = SepTrim.All, CreateToString = SepToString.PoolPerCol() }).FromFile(path);
        string[]? header = null;
        var rows = new List<string[]>();
        var lines = new List<int>();
        foreach (var row in reader)
        {
            if (header is null)
            {
                var names = new string[row.ColCount];
                for (int c = 0; c < names.Length; c++)
                {
                    names[c] = row[c].ToString().Trim();
                }

                header = Unique(names, path, notes);
                continue;
            }

            if (row.ColCount == 1 && row[0].Span.Trim().IsEmpty && header.Length > 1)
            {
                continue; // a blank line
            }

            if (row.ColCount != header.Length)
            {
                throw new FormatException($"{path} row {row.LineNumberFrom}: {row.ColCount} cells, the header has {header.Length} (cells separated by '{CsvDialect.Name(sep)}'; --separator to choose another).");
            }

            var cells = new string[header.Length];
            for (int c = 0; c < cells.Length; c++)
            {
                cells[c] = row[c].ToString();
            }

            rows.Add(cells);
            lines.Add(row.LineNumberFrom);
        }

        return (header, rows, lines);
    }

    /// <summary>The header with each repeated name renamed name_2, name_3, ... (with a note naming the file), so no column is lost.</summary>
    private static string[] Unique(string[] header, string path, Action<string>? notes)
    {
        var seen = new HashSet<string>(header, StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new string[header.Length];
        for (int c = 0; c < header.Length; c++)
        {
            string name = header[c];
            int n = counts[name] = counts.GetValueOrDefault(name) + 1;
            if (n == 1)
            {
                names[c] = name;
                continue;
            }

            string renamed = $"{name}_{n}";
            for (int k = n; !seen.Add(renamed); renamed = $"{name}_{++k}")
            {
            }

            names[c] = renamed;
            notes?.Invoke($"note: data file '{path}' names column '{name}' more than once; column {c + 1} is read as '{renamed}'.");
        }

        return names;
    }

    /// <summary>The index of a column.</summary>
    /// <exception cref="ArgumentException">There is no such column (the message lists the columns).</exception>
    public int ColumnIndex(string name)
    {
        int index = Array.FindIndex(Header, h => h.Equals(name, StringComparison.Ordinal));
        return index >= 0 ? index : throw new ArgumentException($"data file '{Path}' has no column '{name}'; its columns are: {string.Join(", ", Header)}.", "label");
    }
}
