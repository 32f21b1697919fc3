using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using nietras.SeparatedValues;

namespace MlRounding.Cli;

/// <summary>
/// The data rows of a <see cref="CsvSource"/> read ahead on a thread of their own: that thread splits the rows (Sep) and
/// maps each where the reader holds its cells (<see cref="SepCells"/>: no copy), a batch at a time, at most
/// <see cref="Batches"/> batches ahead of the consumer; the consumer's thread is left to what it does with the rows
/// (<c>predict</c>: featurization, scoring and writing). Two threads, each doing one half, suit a stream whose consumer
/// is as busy as its reader; <see cref="CsvSource.ParallelRows{T}"/> maps on the thread pool for a consumer that does
/// little with each row (storing a table; training's passes over a streamed file, many of them ML.NET fitting means).
/// </summary>
internal static class ReadAhead
{
    /// <summary>Rows per batch handed over.</summary>
    public const int BatchRows = 512;

    /// <summary>The most batches read ahead of the consumer: memory does not grow with the file.</summary>
    public const int Batches = 4;

    /// <summary>
    /// The data rows (from where the reader is) that <paramref name="take"/> accepts (by their index in the file; all
    /// when null), mapped by <paramref name="map"/> on the reading thread, in file order. A row that fails (its width,
    /// its mapping) throws its own exception to the consumer where that row would have been; the rows before it come first.
    /// </summary>
    public static IEnumerable<T> Rows<T>(CsvSource source, Func<int, bool>? take, Func<SepCells, T> map)
    {
        using var queue = new BlockingCollection<(T[] Rows, int Count, ExceptionDispatchInfo? Error)>(Batches);
        using var stop = new CancellationTokenSource();
        var reader = new Thread(() => Read(source, take, map, queue, stop.Token)) { IsBackground = true, Name = "mlround read-ahead" };
        reader.Start();
        try
        {
            foreach (var (rows, count, error) in queue.GetConsumingEnumerable())
            {
                for (int r = 0; r < count; r++)
                {
                    yield return rows[r];
                }

                error?.Throw();
            }
        }
        finally
        {
            stop.Cancel(); // a consumer that stops early (an error downstream) stops the reader before the file is closed
            reader.Join();
        }
    }

    private static void Read<T>(CsvSource source, Func<int, bool>? take, Func<SepCells, T> map, BlockingCollection<(T[] Rows, int Count, ExceptionDispatchInfo? Error)> queue, CancellationToken stop)
    {
        try
        {
            bool more = true;
            while (more)
            {
                var batch = new T[BatchRows];
                int count = 0;
                ExceptionDispatchInfo? error = null;
                try
                {
                    while (count < BatchRows && (more = source.NextRow(take)))
                    {
                        T item = map(new SepCells(source.Reader.Current)); // counted once mapped: a row that fails is not handed on
                        batch[count++] = item;
                    }
                }
                catch (Exception e)
                {
                    (error, more) = (ExceptionDispatchInfo.Capture(e), false);
                }

                if (count > 0 || error is not null)
                {
                    queue.Add((batch, count, error), stop);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the consumer stopped
        }
        finally
        {
            queue.CompleteAdding();
        }
    }
}

/// <summary>A row's cells where Sep's reader holds them (trimmed, unescaped), read on the reader's thread before it moves on.</summary>
internal readonly ref struct SepCells : IRowCells
{
    private readonly SepReader.Row _row;

    public SepCells(SepReader.Row row) => _row = row;

    /// <inheritdoc/>
    public int Line => _row.LineNumberFrom;

    /// <inheritdoc/>
    public bool IsMissing(int column) => TableSchema.IsMissing(_row[column].Span);

    /// <inheritdoc/>
    public bool TryNumber(int column, bool decimalComma, out float value) => CellParsing.TryNumber(_row[column].Span, decimalComma, out value);

    /// <inheritdoc/>
    public bool TryNumberOrMissing(int column, bool decimalComma, out float value) => CellParsing.TryNumberOrMissing(_row[column].Span, decimalComma, out value);

    /// <inheritdoc/>
    public bool TryDate(int column, DateOrder order, out DateTime value) => CellParsing.TryDate(_row[column].Span, order, out value);

    /// <inheritdoc/>
    public string Text(int column) => _row[column].ToString();
}
