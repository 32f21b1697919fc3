using nietras.SeparatedValues;

namespace MlRounding.Cli;

/// <summary>
/// A CSV file opened for reading by Sep (quoted fields, commas and quotes inside them, header names with spaces or
/// parentheses; cells trimmed): its separator and decimal mark, detected from the header and the first rows unless
/// given, its header (repeated names renamed), and the reader positioned on the first data row. Both the whole-table
/// reading (<see cref="CsvTable"/>) and the streamed reading (<see cref="TableRows.Stream"/>) start here.
/// </summary>
internal sealed class CsvSource : IDisposable
{
    private CsvSource(string path, char separator, bool decimalComma, SepReader reader, string[] header)
    {
        (Path, Separator, DecimalComma, Reader, Header) = (path, separator, decimalComma, reader, header);
    }

    /// <summary>Gets the file.</summary>
    public string Path { get; }

    /// <summary>Gets the separator of the cells: ',' ';' tab or '|'.</summary>
    public char Separator { get; }

    /// <summary>Gets a value indicating whether numbers are written with a decimal comma (a ';'-separated file with such numbers).</summary>
    public bool DecimalComma { get; }

    /// <summary>Gets the column names, trimmed, repeated ones renamed name_2, name_3, ...</summary>
    public string[] Header { get; }

    /// <summary>Gets the reader, after the header: its rows are the data rows (blank lines included, see <see cref="IsBlank"/>).</summary>
    public SepReader Reader { get; }

    /// <summary>Opens the file and reads its header.</summary>
    /// <param name="path">The file.</param>
    /// <param name="separator">The separator (--separator), or null to detect it.</param>
    /// <param name="notes">Receives a line for each repeated column name, renamed name_2, name_3, ...</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is empty.</exception>
    public static CsvSource Open(string path, char? separator = null, Action<string>? notes = null)
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

        // The header is read as a row (HasHeader false): Sep refuses repeated names, which are renamed here instead. Cells
        // that become strings (the header, the text pass of CsvTable) are pooled per column: a column of a few values holds each once.
        SepReader reader = Sep.Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true, Sep = new Sep(sep), Trim = SepTrim.All, CreateToString = SepToString.PoolPerCol() }).FromFile(path);
        reader.MoveNext();
        var names = new string[reader.Current.ColCount];
        for (int c = 0; c < names.Length; c++)
        {
            names[c] = reader.Current[c].ToString().Trim();
        }

        return new CsvSource(path, sep, decimalComma, reader, Unique(names, path, notes));
    }

    /// <summary>Whether <paramref name="row"/> is a blank line (skipped).</summary>
    public bool IsBlank(SepReader.Row row) => row.ColCount == 1 && row[0].Span.Trim().IsEmpty && Header.Length > 1;

    /// <summary>Fails naming the file, the line and the separator unless <paramref name="row"/> has a cell per column.</summary>
    /// <exception cref="FormatException">The row has another number of cells.</exception>
    private void CheckWidth(SepReader.Row row)
    {
        if (row.ColCount != Header.Length)
        {
            throw new FormatException($"{Path} row {row.LineNumberFrom}: {row.ColCount} cells, the header has {Header.Length} (cells separated by '{CsvDialect.Name(Separator)}'; --separator to choose another).");
        }
    }

    /// <summary>The index of column <paramref name="name"/> of <paramref name="header"/>, or an error naming the file and listing its columns.</summary>
    /// <exception cref="ArgumentException">There is no such column.</exception>
    public static int ColumnIndex(string path, string[] header, string name)
    {
        int index = Array.FindIndex(header, h => h.Equals(name, StringComparison.Ordinal));
        return index >= 0 ? index : throw new ArgumentException($"data file '{path}' has no column '{name}'; its columns are: {string.Join(", ", header)}.", "label");
    }

    /// <summary>
    /// The data rows (from where the reader is) that <paramref name="take"/> accepts (by their index in the file; all
    /// when null), mapped by <paramref name="map"/> on the thread pool and handed on in file order. This thread splits
    /// the rows (Sep), skips blank lines, checks each row's width and copies its cells into blocks
    /// (<see cref="CellBlock"/>); at most two blocks per processor are mapped ahead of the consumer, so memory does not
    /// grow with the file however slowly the rows are consumed. A row whose mapping fails throws its own exception.
    /// </summary>
    /// <exception cref="FormatException">A row has another number of cells than the header.</exception>
    public IEnumerable<T> ParallelRows<T>(Func<int, bool>? take, Func<BlockCells, T> map)
    {
        var inFlight = new Queue<(CellBlock Block, Task<T[]> Rows)>();
        var free = new Stack<CellBlock>(); // blocks are reused: a wide table's block is megabytes
        int limit = 2 * Environment.ProcessorCount;
        bool more = true;
        while (more)
        {
            CellBlock block = free.TryPop(out var reused) ? reused.Cleared() : new CellBlock(Header.Length);
            more = Fill(block, take);
            if (block.Rows > 0)
            {
                inFlight.Enqueue((block, Task.Run(() => Map(block, map))));
            }

            while (inFlight.Count > (more ? limit : 0))
            {
                var (done, rows) = inFlight.Dequeue();
                foreach (T item in rows.GetAwaiter().GetResult()) // the task's own exception
                {
                    yield return item;
                }

                free.Push(done);
            }
        }
    }

    /// <summary>
    /// Moves the reader to the next data row that is not blank and that <paramref name="take"/> accepts (by its index in
    /// the file; all when null), checking its width; false at the end of the file. The row is then <c>Reader.Current</c>.
    /// </summary>
    /// <exception cref="FormatException">The row has another number of cells than the header.</exception>
    public bool NextRow(Func<int, bool>? take)
    {
        while (Reader.MoveNext())
        {
            SepReader.Row row = Reader.Current;
            if (!IsBlank(row) && (take is null || take(row.RowIndex)))
            {
                CheckWidth(row);
                return true;
            }
        }

        return false;
    }

    // Copies rows into the block until it is full (true) or the file ends (false).
    private bool Fill(CellBlock block, Func<int, bool>? take)
    {
        while (!block.Full)
        {
            if (!NextRow(take))
            {
                return false;
            }

            block.Add(Reader.Current);
        }

        return true;
    }

    private static T[] Map<T>(CellBlock block, Func<BlockCells, T> map)
    {
        var results = new T[block.Rows];
        for (int r = 0; r < results.Length; r++)
        {
            results[r] = map(new BlockCells(block, r));
        }

        return results;
    }

    /// <inheritdoc/>
    public void Dispose() => Reader.Dispose();

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
}
