using nietras.SeparatedValues;

namespace MlRounding.Cli;

/// <summary>
/// One data row's trimmed cells, however they were read: a Sep row while a file streams (<see cref="SepCells"/>, no
/// string per cell), or the strings of a table held whole (<see cref="StringCells"/>). <see cref="TableRows"/> turns
/// either into a <see cref="TableRow"/> by one set of rules.
/// </summary>
internal interface IRowCells
{
    /// <summary>Gets the line of the file the row starts on (the header is line 1).</summary>
    int Line { get; }

    /// <summary>The characters of cell <paramref name="column"/>.</summary>
    ReadOnlySpan<char> Span(int column);

    /// <summary>Cell <paramref name="column"/> as a string (categories, text, messages).</summary>
    string Text(int column);
}

/// <summary>The cells of the row a Sep reader is on.</summary>
internal readonly ref struct SepCells(SepReader.Row row) : IRowCells
{
    private readonly SepReader.Row _row = row;

    /// <inheritdoc/>
    public int Line => _row.LineNumberFrom;

    /// <inheritdoc/>
    public ReadOnlySpan<char> Span(int column) => _row[column].Span;

    /// <inheritdoc/>
    public string Text(int column) => _row[column].ToString();
}

/// <summary>The cells of a row of a <see cref="CsvTable"/>.</summary>
internal readonly struct StringCells(string[] cells, int line) : IRowCells
{
    /// <inheritdoc/>
    public int Line { get; } = line;

    /// <inheritdoc/>
    public ReadOnlySpan<char> Span(int column) => cells[column];

    /// <inheritdoc/>
    public string Text(int column) => cells[column];
}
