using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Cli;

/// <summary>One row of a table as the pipeline reads it (vector sizes are set per table by <see cref="TableRows.ToDataView"/>).</summary>
internal sealed class TableRow
{
    /// <summary>Gets or sets the numeric features (numeric columns, then the dates' parts); NaN where a cell is missing.</summary>
    public float[] Numeric { get; set; } = Array.Empty<float>();

    /// <summary>Gets or sets the numeric columns that had missing cells in training again, for their missing-value indicators.</summary>
    public float[] Gappy { get; set; } = Array.Empty<float>();

    /// <summary>Gets or sets the categorical columns' values ("" where missing).</summary>
    public string[] Categorical { get; set; } = Array.Empty<string>();

    /// <summary>Gets or sets the free-text columns, joined by spaces.</summary>
    public string Text { get; set; } = string.Empty;

    /// <summary>Gets or sets a numeric label.</summary>
    public float Label { get; set; }

    /// <summary>Gets or sets a text label.</summary>
    public string LabelText { get; set; } = string.Empty;

    /// <summary>Gets or sets the binary label (1, true, or the second class of a text label).</summary>
    public bool BinaryLabel { get; set; }
}

/// <summary>Turns a <see cref="CsvTable"/> into <see cref="TableRow"/>s by a <see cref="TableSchema"/>, and those into an IDataView.</summary>
internal static class TableRows
{
    /// <summary>The rows of <paramref name="table"/> read by <paramref name="schema"/>; the table's cells are released as they are read (<see cref="CsvTable.TakeRow"/>).</summary>
    /// <param name="table">The table.</param>
    /// <param name="schema">The column roles (from training).</param>
    /// <param name="labelRequired">Whether the label is read and must be present (train, evaluate), or not read at all (predict: every row gets a prediction).</param>
    /// <param name="notes">Receives notes for the user (skipped rows, ignored extra columns).</param>
    /// <param name="modelPath">The model file, named in errors about what it needs; null while training.</param>
    /// <exception cref="FormatException">A column the model needs is absent, or a cell does not fit its column's role.</exception>
    public static List<TableRow> Read(CsvTable table, TableSchema schema, bool labelRequired, Action<string> notes, string? modelPath = null) =>
        Read(table, schema, labelRequired, notes, out _, modelPath);

    /// <summary>As <see cref="Read(CsvTable, TableSchema, bool, Action{string}, string?)"/>, with the number of rows skipped because their label is missing.</summary>
    public static List<TableRow> Read(CsvTable table, TableSchema schema, bool labelRequired, Action<string> notes, out int skipped, string? modelPath = null)
    {
        CheckColumns(table, schema, labelRequired, notes, modelPath);
        var layout = new Layout(table, schema, modelPath);
        int labelIndex = labelRequired ? Array.IndexOf(table.Header, schema.Label) : -1;
        var rows = new List<TableRow>(table.RowCount);
        skipped = 0;
        for (int r = 0; r < table.RowCount; r++)
        {
            string[] cells = table.TakeRow(r);
            TableRow row = layout.Features(cells, r);
            if (labelIndex >= 0 && !layout.TryLabel(row, cells, r, labelIndex))
            {
                skipped++;
                continue;
            }

            rows.Add(row);
        }

        if (rows.Count == 0)
        {
            throw new FormatException($"data file '{table.Path}' has no row with a label: the label '{schema.Label}' is missing in all {skipped} row(s).");
        }

        if (skipped > 0)
        {
            notes($"note: skipped {skipped} row(s) of '{table.Path}' whose label '{schema.Label}' is missing.");
        }

        return rows;
    }

    /// <summary>Fails when a column the model uses (or the required label) is absent; notes the columns a model will ignore.</summary>
    private static void CheckColumns(CsvTable table, TableSchema schema, bool labelRequired, Action<string> notes, string? modelPath)
    {
        string[] used = schema.Columns.Where(c => c.Role != ColumnRole.Ignored).Select(c => c.Name).ToArray();
        string[] absent = used.Where(n => Array.IndexOf(table.Header, n) < 0).ToArray();
        if (absent.Length > 0)
        {
            string columns = $"{(absent.Length == 1 ? "the column" : "the columns")} {string.Join(", ", absent.Select(a => $"'{a}'"))}";
            throw new FormatException(modelPath is null
                ? $"data file '{table.Path}' lacks {columns} of the training data."
                : $"{modelPath}: needs {columns}, which data file '{table.Path}' does not have; its columns are: {string.Join(", ", table.Header)}.");
        }

        if (labelRequired && Array.IndexOf(table.Header, schema.Label) < 0)
        {
            table.ColumnIndex(schema.Label); // throws naming the file and its columns
        }

        string[] known = schema.Columns.Select(c => c.Name).Append(schema.Label).ToArray();
        string[] extra = table.Header.Where(h => !known.Contains(h)).ToArray();
        if (extra.Length > 0 && modelPath is not null)
        {
            notes($"note: ignoring {(extra.Length == 1 ? "column" : "columns")} {string.Join(", ", extra.Select(e => $"'{e}'"))} of '{table.Path}', which the model does not use.");
        }
    }

    /// <summary>Where each role's columns are in the table, and how a row's cells become a <see cref="TableRow"/>.</summary>
    private sealed class Layout
    {
        private readonly CsvTable _table;
        private readonly TableSchema _schema;
        private readonly string _trained; // "is" while training, "was ... in training" for a model's data
        private readonly int[] _numeric, _dates, _gappy, _categorical, _text;
        private readonly DateOrder[] _dateOrders;

        public Layout(CsvTable table, TableSchema schema, string? modelPath)
        {
            _table = table;
            _schema = schema;
            _trained = modelPath is null ? "is numeric" : "was numeric in training";
            _numeric = schema.Columns.Where(c => c.Role == ColumnRole.Numeric).Select(c => Array.IndexOf(table.Header, c.Name)).ToArray();
            _dates = schema.Columns.Where(c => c.Role == ColumnRole.Date).Select(c => Array.IndexOf(table.Header, c.Name)).ToArray();
            _dateOrders = schema.Columns.Where(c => c.Role == ColumnRole.Date).Select(c => c.Order).ToArray();
            string[] numericNames = schema.Columns.Where(c => c.Role == ColumnRole.Numeric).Select(c => c.Name).ToArray();
            _gappy = schema.MissingIndicators.Select(n => Array.IndexOf(numericNames, n)).ToArray();
            _categorical = schema.CategoricalFeatures.Select(n => Array.IndexOf(table.Header, n)).ToArray();
            _text = schema.TextFeatures.Select(n => Array.IndexOf(table.Header, n)).ToArray();
        }

        private string Where(int r, int c) => $"{_table.Path} row {_table.Lines[r]}, column '{_table.Header[c]}'";

        /// <summary>The features of row <paramref name="r"/>: numbers (NaN where missing), each date as year, month, day and day of the week, categories and text.</summary>
        public TableRow Features(string[] cells, int r)
        {
            var row = new TableRow { Numeric = new float[_numeric.Length + (4 * _dates.Length)] };
            for (int i = 0; i < _numeric.Length; i++)
            {
                string cell = cells[_numeric[i]];
                row.Numeric[i] = TableSchema.IsMissing(cell) ? float.NaN
                    : CellParsing.TryNumber(cell, _table.DecimalComma, out float v) ? v
                    : throw new FormatException($"{Where(r, _numeric[i])}: '{cell}' is not a number (the column {_trained}).");
            }

            for (int d = 0; d < _dates.Length; d++)
            {
                Date(cells[_dates[d]], _dateOrders[d], row.Numeric.AsSpan(_numeric.Length + (4 * d), 4), r, _dates[d]);
            }

            row.Gappy = _gappy.Select(i => row.Numeric[i]).ToArray();
            row.Categorical = _categorical.Select(c => TableSchema.IsMissing(cells[c]) ? string.Empty : cells[c]).ToArray();
            row.Text = string.Join(' ', _text.Select(c => TableSchema.IsMissing(cells[c]) ? string.Empty : cells[c]));
            return row;
        }

        private void Date(string cell, DateOrder order, Span<float> parts, int r, int column)
        {
            if (TableSchema.IsMissing(cell))
            {
                parts.Fill(float.NaN);
            }
            else if (CellParsing.TryDate(cell, order, out DateTime date))
            {
                (parts[0], parts[1], parts[2], parts[3]) = (date.Year, date.Month, date.Day, (float)date.DayOfWeek);
            }
            else
            {
                throw new FormatException($"{Where(r, column)}: '{cell}' is not a date like the column's others ({(order == DateOrder.None ? "ISO or with a month name" : order == DateOrder.DayFirst ? "day first" : "month first")}).");
            }
        }

        /// <summary>Reads the label of row <paramref name="r"/> into <paramref name="row"/>; false when it is missing.</summary>
        public bool TryLabel(TableRow row, string[] cells, int r, int labelIndex)
        {
            string cell = cells[labelIndex];
            if (TableSchema.IsMissing(cell))
            {
                return false;
            }

            if (_schema.TextLabel)
            {
                row.LabelText = cell;
                row.BinaryLabel = _schema.Classes is [_, var positive] && cell == positive;
            }
            else
            {
                row.Label = CellParsing.TryNumber(cell, _table.DecimalComma, out float v) ? v : throw new FormatException($"{Where(r, labelIndex)}: '{cell}' is not a number (the label {_trained}).");
                row.BinaryLabel = row.Label != 0;
            }

            return true;
        }
    }

    /// <summary>The rows as an IDataView whose vector columns have the table's sizes (empty ones are left out).</summary>
    public static IDataView ToDataView(MLContext ml, IEnumerable<TableRow> rows, TableSchema schema)
    {
        var definition = SchemaDefinition.Create(typeof(TableRow));
        int numeric = schema.NumericFeatures.Length, gappy = schema.MissingIndicators.Length, categorical = schema.CategoricalFeatures.Length;
        Size(definition, nameof(TableRow.Numeric), numeric, NumberDataViewType.Single);
        Size(definition, nameof(TableRow.Gappy), gappy, NumberDataViewType.Single);
        Size(definition, nameof(TableRow.Categorical), categorical, TextDataViewType.Instance);
        if (schema.TextFeatures.Length == 0)
        {
            definition.Remove(definition[nameof(TableRow.Text)]);
        }

        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    private static void Size(SchemaDefinition definition, string name, int size, PrimitiveDataViewType item)
    {
        if (size == 0)
        {
            definition.Remove(definition[name]);
        }
        else
        {
            definition[name].ColumnType = new VectorDataViewType(item, size);
        }
    }

    /// <summary>The text of a number for messages.</summary>
    public static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
