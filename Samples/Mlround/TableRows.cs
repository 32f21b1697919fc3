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
    public static List<TableRow> Read(CsvTable table, TableSchema schema, bool labelRequired, Action<string> notes, string? modelPath = null)
    {
        string[] used = schema.Columns.Where(c => c.Kind != ColumnKind.Ignored).Select(c => c.Name).ToArray();
        string[] absent = used.Where(n => Array.IndexOf(table.Header, n) < 0).ToArray();
        if (absent.Length > 0)
        {
            string columns = $"{(absent.Length == 1 ? "the column" : "the columns")} {string.Join(", ", absent.Select(a => $"'{a}'"))}";
            throw new FormatException(modelPath is null
                ? $"data file '{table.Path}' lacks {columns} of the training data."
                : $"{modelPath}: needs {columns}, which data file '{table.Path}' does not have; its columns are: {string.Join(", ", table.Header)}.");
        }

        int labelIndex = Array.IndexOf(table.Header, schema.Label);
        if (labelIndex < 0 && labelRequired)
        {
            table.ColumnIndex(schema.Label); // throws naming the file and its columns
        }

        string[] known = schema.Columns.Select(c => c.Name).Append(schema.Label).ToArray();
        string[] extra = table.Header.Where(h => !known.Contains(h)).ToArray();
        if (extra.Length > 0 && modelPath is not null)
        {
            notes($"note: ignoring {(extra.Length == 1 ? "column" : "columns")} {string.Join(", ", extra.Select(e => $"'{e}'"))} of '{table.Path}', which the model does not use.");
        }

        int[] numeric = schema.Columns.Where(c => c.Kind == ColumnKind.Numeric).Select(c => Array.IndexOf(table.Header, c.Name)).ToArray();
        int[] dates = schema.Columns.Where(c => c.Kind == ColumnKind.Date).Select(c => Array.IndexOf(table.Header, c.Name)).ToArray();
        int[] gappy = schema.MissingIndicators.Select(n => Array.IndexOf(schema.Columns.Where(c => c.Kind == ColumnKind.Numeric).Select(c => c.Name).ToArray(), n)).ToArray();
        int[] categorical = schema.CategoricalFeatures.Select(n => Array.IndexOf(table.Header, n)).ToArray();
        int[] text = schema.TextFeatures.Select(n => Array.IndexOf(table.Header, n)).ToArray();
        var rows = new List<TableRow>(table.RowCount);
        int skipped = 0;
        for (int r = 0; r < table.RowCount; r++)
        {
            string[] cells = table.TakeRow(r);
            string Where(int c) => $"{table.Path} row {table.Lines[r]}, column '{table.Header[c]}'";
            var row = new TableRow { Numeric = new float[numeric.Length + (4 * dates.Length)] };
            for (int i = 0; i < numeric.Length; i++)
            {
                string cell = cells[numeric[i]];
                row.Numeric[i] = TableSchema.IsMissing(cell) ? float.NaN
                    : TableSchema.TryNumber(cell, out float v) ? v
                    : throw new FormatException($"{Where(numeric[i])}: '{cell}' is not a number (the column {(modelPath is null ? "is numeric" : "was numeric in training")}).");
            }

            for (int d = 0; d < dates.Length; d++)
            {
                string cell = cells[dates[d]];
                int at = numeric.Length + (4 * d);
                if (TableSchema.IsMissing(cell))
                {
                    row.Numeric.AsSpan(at, 4).Fill(float.NaN);
                }
                else if (TableSchema.TryDate(cell, out DateTime date))
                {
                    (row.Numeric[at], row.Numeric[at + 1], row.Numeric[at + 2], row.Numeric[at + 3]) = (date.Year, date.Month, date.Day, (float)date.DayOfWeek);
                }
                else
                {
                    throw new FormatException($"{Where(dates[d])}: '{cell}' is not a date (yyyy-MM-dd or yyyy/MM/dd, optionally with a time).");
                }
            }

            row.Gappy = gappy.Select(i => row.Numeric[i]).ToArray();
            row.Categorical = categorical.Select(c => TableSchema.IsMissing(cells[c]) ? string.Empty : cells[c]).ToArray();
            row.Text = string.Join(' ', text.Select(c => TableSchema.IsMissing(cells[c]) ? string.Empty : cells[c]));
            if (labelIndex >= 0 && labelRequired)
            {
                string cell = cells[labelIndex];
                if (TableSchema.IsMissing(cell))
                {
                    skipped++;
                    continue;
                }

                if (schema.TextLabel)
                {
                    row.LabelText = cell;
                    row.BinaryLabel = schema.Classes is [_, var positive] && cell == positive;
                }
                else
                {
                    row.Label = TableSchema.TryNumber(cell, out float v) ? v : throw new FormatException($"{Where(labelIndex)}: '{cell}' is not a number (the label {(modelPath is null ? "is numeric" : "was numeric in training")}).");
                    row.BinaryLabel = row.Label != 0;
                }
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
