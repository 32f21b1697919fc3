using nietras.SeparatedValues;

namespace MlRounding.Cli;

/// <summary>
/// Rows of a CSV file copied out of Sep's reader as their cells' characters (unescaped, trimmed), so that they can be
/// parsed on another thread while the reader moves on: one character buffer and the end of every cell, with each row's
/// line and index in the file.
/// </summary>
internal sealed class CellBlock
{
    /// <summary>Rows per block: enough to make a task worth starting, few enough to keep the blocks in flight small.</summary>
    public const int MaximumRows = 1024;

    /// <summary>Characters per block past which it is full (a wide table's rows: 785 cells of Fashion-MNIST take about 2,800).</summary>
    public const int MaximumChars = 1 << 20;

    private char[] _chars = new char[1 << 14];
    private int[] _ends = new int[1 << 10];
    private int _length, _cells;

    public CellBlock(int width)
    {
        Width = width;
        Lines = new int[MaximumRows];
    }

    /// <summary>Gets the cells per row.</summary>
    public int Width { get; }

    /// <summary>Gets the number of rows held.</summary>
    public int Rows { get; private set; }

    /// <summary>Gets the line of the file each row starts on.</summary>
    public int[] Lines { get; }

    /// <summary>Gets a value indicating whether the block takes no more rows.</summary>
    public bool Full => Rows == MaximumRows || _length >= MaximumChars;

    /// <summary>Empties the block for reuse (its buffers stay).</summary>
    public CellBlock Cleared()
    {
        (_length, _cells, Rows) = (0, 0, 0);
        return this;
    }

    /// <summary>Copies the cells of <paramref name="row"/> (it must have <see cref="Width"/> of them).</summary>
    public void Add(SepReader.Row row)
    {
        if (_cells + Width > _ends.Length)
        {
            Array.Resize(ref _ends, Math.Max(_ends.Length * 2, _cells + Width));
        }

        for (int c = 0; c < Width; c++)
        {
            ReadOnlySpan<char> cell = row[c].Span;
            if (_length + cell.Length > _chars.Length)
            {
                Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _length + cell.Length));
            }

            cell.CopyTo(_chars.AsSpan(_length));
            _length += cell.Length;
            _ends[_cells++] = _length;
        }

        Lines[Rows++] = row.LineNumberFrom;
    }

    /// <summary>The characters of cell <paramref name="column"/> of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<char> Cell(int row, int column)
    {
        int index = (row * Width) + column;
        int start = index == 0 ? 0 : _ends[index - 1];
        return _chars.AsSpan(start, _ends[index] - start);
    }
}

/// <summary>A row of a <see cref="CellBlock"/>, read from its characters.</summary>
internal readonly struct BlockCells(CellBlock block, int row) : IRowCells
{
    /// <inheritdoc/>
    public int Line => block.Lines[row];

    /// <inheritdoc/>
    public bool IsMissing(int column) => TableSchema.IsMissing(block.Cell(row, column));

    /// <inheritdoc/>
    public bool TryNumber(int column, bool decimalComma, out float value) => CellParsing.TryNumber(block.Cell(row, column), decimalComma, out value);

    /// <inheritdoc/>
    public bool TryNumberOrMissing(int column, bool decimalComma, out float value) => CellParsing.TryNumberOrMissing(block.Cell(row, column), decimalComma, out value);

    /// <inheritdoc/>
    public bool TryDate(int column, DateOrder order, out DateTime value) => CellParsing.TryDate(block.Cell(row, column), order, out value);

    /// <inheritdoc/>
    public string Text(int column) => new(block.Cell(row, column));
}
