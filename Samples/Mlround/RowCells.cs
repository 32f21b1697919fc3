using System.Globalization;

namespace MlRounding.Cli;

/// <summary>
/// One data row's trimmed cells, however they were read: copied out of the reader to be parsed on another thread
/// (<see cref="BlockCells"/>, no string per cell), read where the reader holds them (<see cref="SepCells"/>), or a row
/// of a table read whole (<see cref="TableCells"/>, numbers already parsed). <see cref="RowLayout"/> turns any of them
/// into a <see cref="TableRow"/> by one set of rules.
/// </summary>
internal interface IRowCells
{
    /// <summary>Gets the line of the file the row starts on (the header is line 1).</summary>
    int Line { get; }

    /// <summary>Whether cell <paramref name="column"/> is missing (<see cref="TableSchema.IsMissing(string)"/>).</summary>
    bool IsMissing(int column);

    /// <summary>Cell <paramref name="column"/> as a number (<see cref="CellParsing.TryNumber(string, bool, out float)"/>).</summary>
    bool TryNumber(int column, bool decimalComma, out float value);

    /// <summary>Cell <paramref name="column"/> as a number, or NaN when it is missing; false when it is neither.</summary>
    bool TryNumberOrMissing(int column, bool decimalComma, out float value);

    /// <summary>Cell <paramref name="column"/> as a date (<see cref="CellParsing.TryDate(string, DateOrder, out DateTime)"/>).</summary>
    bool TryDate(int column, DateOrder order, out DateTime value);

    /// <summary>Cell <paramref name="column"/> as text (categories, text, messages).</summary>
    string Text(int column);
}

/// <summary>
/// A row of a <see cref="CsvTable"/>: numbers as the table parsed them (NaN where missing or not a number), the text of
/// the columns that kept it. A column without text is all numbers; its text, asked for, is the number written back.
/// </summary>
internal readonly struct TableCells(float[] numbers, string[]?[] text, int row, int line) : IRowCells
{
    /// <inheritdoc/>
    public int Line { get; } = line;

    /// <inheritdoc/>
    public bool IsMissing(int column) => text[column] is { } cells ? TableSchema.IsMissing(cells[row]) : float.IsNaN(numbers[column]);

    /// <inheritdoc/>
    public bool TryNumber(int column, bool decimalComma, out float value)
    {
        value = numbers[column];
        return !float.IsNaN(value) || (text[column] is { } cells && CellParsing.TryNumber(cells[row], decimalComma, out value));
    }

    /// <inheritdoc/>
    public bool TryNumberOrMissing(int column, bool decimalComma, out float value)
    {
        value = float.NaN;
        return IsMissing(column) || TryNumber(column, decimalComma, out value);
    }

    /// <inheritdoc/>
    public bool TryDate(int column, DateOrder order, out DateTime value) => CellParsing.TryDate(Text(column), order, out value);

    /// <inheritdoc/>
    public string Text(int column) => text[column]?[row] ?? numbers[column].ToString("R", CultureInfo.InvariantCulture);
}
