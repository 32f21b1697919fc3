namespace MlRounding.Cli;

/// <summary>
/// A CSV file with a header row, read whole into what the command line needs of it: every cell as a float (NaN where it
/// is missing or not a number), and the text of the cells only for the columns that need it: those with a present cell
/// that is not a number, and those the caller names (a --categorical, --text or --date column, a text label). A table
/// of numbers is held as floats alone: Fashion-MNIST's 60,000 x 785 training file takes 188 MB instead of a string per
/// cell. The numbers are read in parallel blocks (<see cref="CsvSource"/>); the text, if any column needs it, in a
/// second pass over those columns only. What the cells mean is decided by <see cref="TableSchema"/>. Errors name the
/// file and, for a row, its line.
/// </summary>
internal sealed class CsvTable
{
    private readonly float[]?[] _numbers; // per row; a taken row's entry is null
    private readonly string[]?[] _text; // per column: its cells, trimmed, where the column keeps its text
    private readonly int[] _present;
    private readonly bool[] _numeric;

    private CsvTable(CsvSource source, float[]?[] numbers, int[] lines, int[] present, bool[] numeric, string[]?[] text)
    {
        (Path, Header, Separator, DecimalComma) = (source.Path, source.Header, source.Separator, source.DecimalComma);
        (_numbers, Lines, _present, _numeric, _text) = (numbers, lines, present, numeric, text);
    }

    /// <summary>Gets the separator of the cells: ',' ';' tab or '|'.</summary>
    public char Separator { get; }

    /// <summary>Gets a value indicating whether numbers are written with a decimal comma (a ';'-separated file with such numbers).</summary>
    public bool DecimalComma { get; }

    /// <summary>Gets the file the table was read from.</summary>
    public string Path { get; }

    /// <summary>Gets the column names, trimmed.</summary>
    public string[] Header { get; }

    /// <summary>Gets the number of data rows.</summary>
    public int RowCount => _numbers.Length;

    /// <summary>Gets the line of the file each row starts on (the header is line 1).</summary>
    public int[] Lines { get; }

    /// <summary>The number of present (not missing) cells of column <paramref name="column"/>.</summary>
    public int Present(int column) => _present[column];

    /// <summary>Whether every present cell of column <paramref name="column"/> is a number.</summary>
    public bool IsNumeric(int column) => _numeric[column];

    /// <summary>The cells of column <paramref name="column"/> as text, row by row.</summary>
    /// <exception cref="InvalidOperationException">The column's text was not kept (a column of numbers not named when the table was read).</exception>
    public IReadOnlyList<string> Cells(int column) => _text[column]
        ?? throw new InvalidOperationException($"the text of column '{Header[column]}' of '{Path}' was not kept (it holds numbers).");

    /// <summary>
    /// Row <paramref name="index"/>'s cells, its numbers released from the table, so that a large CSV's numbers go as its
    /// rows are converted.
    /// </summary>
    /// <exception cref="InvalidOperationException">The row was taken before.</exception>
    public TableCells TakeRow(int index)
    {
        float[] numbers = _numbers[index] ?? throw new InvalidOperationException($"row {Lines[index]} of '{Path}' was already read.");
        _numbers[index] = null;
        return new TableCells(numbers, _text, index, Lines[index]);
    }

    /// <summary>Reads the file: the separator is detected from the header and the first rows unless given.</summary>
    /// <param name="path">The file.</param>
    /// <param name="separator">The separator (--separator), or null to detect it.</param>
    /// <param name="notes">Receives a line for each repeated column name, renamed name_2, name_3, ...</param>
    /// <param name="textColumns">Columns whose text is kept even where every cell is a number (absent names are passed over).</param>
    /// <param name="maxRows">Read at most this many data rows (a sample of a file too large to hold).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is empty, has no data rows, or a row has the wrong number of cells.</exception>
    public static CsvTable Read(string path, char? separator = null, Action<string>? notes = null, IEnumerable<string>? textColumns = null, int maxRows = int.MaxValue)
    {
        using CsvSource source = CsvSource.Open(path, separator, notes);
        int width = source.Header.Length;
        var (numbers, lines) = (new List<float[]>(), new List<int>());
        var (present, numeric) = (new int[width], new bool[width]);
        Array.Fill(numeric, true);
        foreach (var (values, line, words) in source.ParallelRows(null, cells => Numbers(cells, width, source.DecimalComma)))
        {
            if (numbers.Count == maxRows)
            {
                break;
            }

            numbers.Add(values);
            lines.Add(line);
            for (int c = 0; c < width; c++)
            {
                present[c] += float.IsNaN(values[c]) ? 0 : 1;
            }

            foreach (int c in words ?? Array.Empty<int>())
            {
                (present[c], numeric[c]) = (present[c] + 1, false);
            }
        }

        if (numbers.Count == 0)
        {
            throw new FormatException($"data file '{path}' has a header but no data rows.");
        }

        var keep = new HashSet<string>(textColumns ?? Array.Empty<string>(), StringComparer.Ordinal);
        int[] kept = Enumerable.Range(0, width).Where(c => !numeric[c] || keep.Contains(source.Header[c])).ToArray();
        return new CsvTable(source, numbers.ToArray(), lines.ToArray(), present, numeric, Text(path, source.Separator, kept, width, numbers.Count));
    }

    // A row's cells as numbers (NaN where missing or not a number), with the columns whose present cell is not a number.
    private static (float[] Values, int Line, int[]? Words) Numbers(BlockCells cells, int width, bool decimalComma)
    {
        var values = new float[width];
        List<int>? words = null;
        for (int c = 0; c < values.Length; c++)
        {
            if (cells.IsMissing(c))
            {
                values[c] = float.NaN;
            }
            else if (!cells.TryNumber(c, decimalComma, out values[c]) || float.IsNaN(values[c]))
            {
                values[c] = float.NaN;
                (words ??= new List<int>()).Add(c);
            }
        }

        return (values, cells.Line, words?.ToArray());
    }

    // The cells of the columns that keep their text (a second pass over the file, those columns only; none when no column needs it).
    private static string[]?[] Text(string path, char separator, int[] columns, int width, int rows)
    {
        var text = new string[]?[width];
        if (columns.Length == 0)
        {
            return text;
        }

        foreach (int c in columns)
        {
            text[c] = new string[rows];
        }

        using CsvSource source = CsvSource.Open(path, separator);
        int r = 0;
        foreach (var row in source.Reader)
        {
            if (source.IsBlank(row))
            {
                continue;
            }

            if (r == rows)
            {
                break; // a sample's rows, or a file that grew while it was read
            }

            foreach (int c in columns)
            {
                text[c]![r] = row[c].ToString();
            }

            r++;
        }

        return r == rows ? text : throw new FormatException($"data file '{path}' changed while it was read.");
    }

    /// <summary>The index of a column.</summary>
    /// <exception cref="ArgumentException">There is no such column (the message lists the columns).</exception>
    public int ColumnIndex(string name) => CsvSource.ColumnIndex(Path, Header, name);
}
