namespace MlRounding.Cli;

/// <summary>Where each role's columns are in a file, and how a row's cells become a <see cref="TableRow"/> (read-only: rows may be read on several threads).</summary>
internal sealed class RowLayout
{
    private readonly string _path;
    private readonly string[] _header;
    private readonly bool _decimalComma;
    private readonly TableSchema _schema;
    private readonly string _trained; // "is" while training, "was ... in training" for a model's data
    private readonly int[] _numeric, _dates, _gappy, _categorical, _text;
    private readonly DateOrder[] _dateOrders;

    public RowLayout(string path, string[] header, bool decimalComma, TableSchema schema, string? modelPath)
    {
        (_path, _header, _decimalComma, _schema) = (path, header, decimalComma, schema);
        _trained = modelPath is null ? "is numeric" : "was numeric in training";
        _numeric = schema.Columns.Where(c => c.Role == ColumnRole.Numeric).Select(c => Array.IndexOf(header, c.Name)).ToArray();
        _dates = schema.Columns.Where(c => c.Role == ColumnRole.Date).Select(c => Array.IndexOf(header, c.Name)).ToArray();
        _dateOrders = schema.Columns.Where(c => c.Role == ColumnRole.Date).Select(c => c.Order).ToArray();
        string[] numericNames = schema.Columns.Where(c => c.Role == ColumnRole.Numeric).Select(c => c.Name).ToArray();
        _gappy = schema.MissingIndicators.Select(n => Array.IndexOf(numericNames, n)).ToArray();
        _categorical = schema.CategoricalFeatures.Select(n => Array.IndexOf(header, n)).ToArray();
        _text = schema.TextFeatures.Select(n => Array.IndexOf(header, n)).ToArray();
    }

    private string Where(int line, int c) => $"{_path} row {line}, column '{_header[c]}'";

    /// <summary>The features of a row: numbers (NaN where missing), each date as year, month, day and day of the week, categories and text.</summary>
    public TableRow Features<TCells>(TCells cells)
        where TCells : IRowCells, allows ref struct
    {
        var row = new TableRow { Numeric = new float[_numeric.Length + (4 * _dates.Length)] };
        for (int i = 0; i < _numeric.Length; i++)
        {
            int c = _numeric[i];
            row.Numeric[i] = cells.TryNumberOrMissing(c, _decimalComma, out float v) ? v
                : throw new FormatException($"{Where(cells.Line, c)}: '{cells.Text(c)}' is not a number (the column {_trained}).");
        }

        for (int d = 0; d < _dates.Length; d++)
        {
            Date(cells, _dates[d], _dateOrders[d], row.Numeric.AsSpan(_numeric.Length + (4 * d), 4));
        }

        // Per row: no closures, and nothing allocated for a role the table does not have.
        row.Gappy = _gappy.Length == 0 ? Array.Empty<float>() : new float[_gappy.Length];
        for (int g = 0; g < _gappy.Length; g++)
        {
            row.Gappy[g] = row.Numeric[_gappy[g]];
        }

        row.Categorical = _categorical.Length == 0 ? Array.Empty<string>() : new string[_categorical.Length];
        for (int k = 0; k < _categorical.Length; k++)
        {
            row.Categorical[k] = cells.IsMissing(_categorical[k]) ? string.Empty : cells.Text(_categorical[k]);
        }

        if (_text.Length == 0)
        {
            return row;
        }

        var text = new string[_text.Length];
        for (int k = 0; k < _text.Length; k++)
        {
            text[k] = cells.IsMissing(_text[k]) ? string.Empty : cells.Text(_text[k]);
        }

        row.Text = string.Join(' ', text);
        return row;
    }

    private void Date<TCells>(TCells cells, int column, DateOrder order, Span<float> parts)
        where TCells : IRowCells, allows ref struct
    {
        if (cells.IsMissing(column))
        {
            parts.Fill(float.NaN);
        }
        else if (cells.TryDate(column, order, out DateTime date))
        {
            (parts[0], parts[1], parts[2], parts[3]) = (date.Year, date.Month, date.Day, (float)date.DayOfWeek);
        }
        else
        {
            throw new FormatException($"{Where(cells.Line, column)}: '{cells.Text(column)}' is not a date like the column's others ({(order == DateOrder.None ? "ISO or with a month name" : order == DateOrder.DayFirst ? "day first" : "month first")}).");
        }
    }

    /// <summary>Reads the label of a row into <paramref name="row"/>; false when it is missing.</summary>
    public bool TryLabel<TCells>(TableRow row, TCells cells, int labelIndex)
        where TCells : IRowCells, allows ref struct
    {
        if (cells.IsMissing(labelIndex))
        {
            return false;
        }

        if (_schema.TextLabel)
        {
            row.LabelText = cells.Text(labelIndex);
            row.BinaryLabel = _schema.Classes is [_, var positive] && row.LabelText == positive;
        }
        else
        {
            row.Label = cells.TryNumber(labelIndex, _decimalComma, out float v) ? v : throw new FormatException($"{Where(cells.Line, labelIndex)}: '{cells.Text(labelIndex)}' is not a number (the label {_trained}).");
            row.BinaryLabel = row.Label != 0;
        }

        return true;
    }
}
