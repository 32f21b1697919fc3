namespace MlRounding.Cli;

/// <summary>
/// The rows of a file read as they are enumerated (<see cref="TableRows.Stream"/>, <see cref="TableRows.StreamLabelled"/>);
/// each enumeration reads the file again. Rows for a busy consumer (<c>predict</c>: featurization, scoring, writing) are
/// read ahead on one thread of their own (<see cref="ReadAhead"/>); rows for training, whose passes over the file are
/// often cheap to consume (ML.NET fitting the means), are parsed on the thread pool (<see cref="CsvSource.ParallelRows{T}"/>):
/// each measured faster for its use (docs/benchmarks.md).
/// </summary>
internal sealed class StreamedRows : IEnumerable<TableRow>
{
    private readonly string _path;
    private readonly char _separator;
    private readonly RowLayout _layout;
    private readonly int[] _kept;
    private readonly int _label;
    private readonly Func<int, bool>? _take;
    private readonly bool _readAhead;

    // Stands for a row whose label is missing (counted, not handed on).
    private static readonly TableRow Unlabelled = new();

    public StreamedRows(string path, char separator, RowLayout layout, int[] kept, int label = -1, Func<int, bool>? take = null, bool readAhead = false) =>
        (_path, _separator, _layout, _kept, _label, _take, _readAhead) = (path, separator, layout, kept, label, take, readAhead);

    /// <summary>Gets the number of rows the last finished enumeration read.</summary>
    public int Count { get; private set; }

    /// <summary>Gets the number of rows the last finished enumeration passed over because their label is missing.</summary>
    public int Skipped { get; private set; }

    /// <inheritdoc/>
    public IEnumerator<TableRow> GetEnumerator()
    {
        using CsvSource source = CsvSource.Open(_path, _separator);
        int count = 0, skipped = 0;
        using IEnumerator<TableRow> rows = (_readAhead ? ReadAhead.Rows(source, _take, Row<SepCells>) : source.ParallelRows(_take, Row<BlockCells>)).GetEnumerator();
        while (Next(rows) is var (more, row) && more)
        {
            if (ReferenceEquals(row, Unlabelled))
            {
                skipped++;
            }
            else
            {
                count++;
                yield return row!;
            }
        }

        (Count, Skipped) = (count, skipped);
    }

    private TableRow Row<TCells>(TCells cells)
        where TCells : IRowCells, allows ref struct
    {
        TableRow row = _layout.Features(cells);
        if (_label >= 0 && !_layout.TryLabel(row, cells, _label))
        {
            return Unlabelled;
        }

        if (_kept.Length == 0)
        {
            return row;
        }

        row.Kept = new string[_kept.Length];
        for (int k = 0; k < _kept.Length; k++)
        {
            row.Kept[k] = cells.Text(_kept[k]);
        }

        return row;
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    // The next row; a row that does not fit as a CsvRowException.
    private static (bool More, TableRow? Row) Next(IEnumerator<TableRow> rows)
    {
        try
        {
            return rows.MoveNext() ? (true, rows.Current) : (false, null);
        }
        catch (FormatException bad)
        {
            throw new CsvRowException(bad.Message, bad);
        }
    }
}

/// <summary>A row of a streamed data file that does not fit the model's columns: the data's fault, not the model's (<c>predict</c> reports it as such, wherever ML.NET's cursor wrapped it).</summary>
internal sealed class CsvRowException(string message, Exception inner) : FormatException(message, inner)
{
    /// <summary>The row error somewhere in <paramref name="e"/>'s chain (ML.NET wraps what its cursors meet), as the one-line error it is; null if there is none.</summary>
    public static FormatException? In(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is CsvRowException row)
            {
                return new FormatException(row.Message, row);
            }
        }

        return null;
    }
}
