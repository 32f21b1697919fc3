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

    /// <summary>Gets or sets the cells of the input columns <c>predict --keep</c> copies beside the predictions (not features: the model passes them through).</summary>
    public string[] Kept { get; set; } = Array.Empty<string>();
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
        CheckColumns(table.Path, table.Header, schema, labelRequired, notes, modelPath);
        var layout = new RowLayout(table.Path, table.Header, table.DecimalComma, schema, modelPath);
        int labelIndex = labelRequired ? Array.IndexOf(table.Header, schema.Label) : -1;
        var rows = new List<TableRow>(table.RowCount);
        skipped = 0;
        for (int r = 0; r < table.RowCount; r++)
        {
            TableCells cells = table.TakeRow(r);
            TableRow row = layout.Features(cells);
            if (labelIndex >= 0 && !layout.TryLabel(row, cells, labelIndex))
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

    /// <summary>
    /// The rows of the CSV file <paramref name="path"/> read by a model's <paramref name="schema"/> as they are needed
    /// (<c>predict</c>): blocks of rows are parsed in parallel and handed on in file order, so no more of the file is
    /// held than the blocks in flight, whatever its length. The header is checked now (missing columns, --keep);
    /// a bad cell fails when its row is read.
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="schema">The model's column roles.</param>
    /// <param name="modelPath">The model file, named in errors about what it needs.</param>
    /// <param name="keep">Input columns whose cells each row carries in <see cref="TableRow.Kept"/>.</param>
    /// <param name="notes">Receives notes for the user (repeated names, ignored extra columns).</param>
    /// <exception cref="FormatException">A column the model needs is absent.</exception>
    /// <exception cref="ArgumentException">A --keep column is absent.</exception>
    public static StreamedRows Stream(string path, TableSchema schema, string modelPath, string[] keep, Action<string> notes) =>
        Streamed(path, null, schema, modelPath, keep, labelled: false, take: null, notes, readAhead: true);

    /// <summary>
    /// The labelled rows of a training CSV, streamed (<c>train --stream</c>): as <see cref="Stream"/>, with the label read
    /// (rows whose label is missing are counted in <see cref="StreamedRows.Skipped"/> and passed over) and only the
    /// rows whose index <paramref name="take"/> accepts (a held-out split), or all of them.
    /// </summary>
    /// <exception cref="FormatException">A column of the schema or the label is absent.</exception>
    public static StreamedRows StreamLabelled(string path, char? separator, TableSchema schema, Func<int, bool>? take, Action<string> notes) =>
        Streamed(path, separator, schema, modelPath: null, Array.Empty<string>(), labelled: true, take, notes);

    // The file's header read and checked now (its separator detected unless given); the rows when enumerated.
    private static StreamedRows Streamed(string path, char? separator, TableSchema schema, string? modelPath, string[] keep, bool labelled, Func<int, bool>? take, Action<string> notes, bool readAhead = false)
    {
        using CsvSource source = CsvSource.Open(path, separator, notes);
        CheckColumns(source.Path, source.Header, schema, labelled, notes, modelPath);
        int[] kept = keep.Select(n => Array.IndexOf(source.Header, n) is >= 0 and var i ? i
            : throw new ArgumentException($"--keep: data file '{path}' has no column '{n}'; its columns are: {string.Join(", ", source.Header)}.", "keep")).ToArray();
        var layout = new RowLayout(source.Path, source.Header, source.DecimalComma, schema, modelPath);
        return new StreamedRows(path, source.Separator, layout, kept, labelled ? Array.IndexOf(source.Header, schema.Label) : -1, take, readAhead);
    }

    /// <summary>Fails when a column the model uses (or the required label) is absent; notes the columns a model will ignore.</summary>
    private static void CheckColumns(string path, string[] header, TableSchema schema, bool labelRequired, Action<string> notes, string? modelPath)
    {
        string[] used = schema.Columns.Where(c => c.Role != ColumnRole.Ignored).Select(c => c.Name).ToArray();
        string[] absent = used.Where(n => Array.IndexOf(header, n) < 0).ToArray();
        if (absent.Length > 0)
        {
            string columns = $"{(absent.Length == 1 ? "the column" : "the columns")} {string.Join(", ", absent.Select(a => $"'{a}'"))}";
            throw new FormatException(modelPath is null
                ? $"data file '{path}' lacks {columns} of the training data."
                : $"{modelPath}: needs {columns}, which data file '{path}' does not have; its columns are: {string.Join(", ", header)}.");
        }

        if (labelRequired && Array.IndexOf(header, schema.Label) < 0)
        {
            CsvSource.ColumnIndex(path, header, schema.Label); // throws naming the file and its columns
        }

        string[] known = schema.Columns.Select(c => c.Name).Append(schema.Label).ToArray();
        string[] extra = header.Where(h => !known.Contains(h)).ToArray();
        if (extra.Length > 0 && modelPath is not null)
        {
            notes($"note: ignoring {(extra.Length == 1 ? "column" : "columns")} {string.Join(", ", extra.Select(e => $"'{e}'"))} of '{path}', which the model does not use.");
        }
    }

    /// <summary>The rows as an IDataView whose vector columns have the table's sizes (empty ones are left out).</summary>
    /// <param name="ml">The context.</param>
    /// <param name="rows">The rows (a list, or rows streamed from a file).</param>
    /// <param name="schema">The column roles.</param>
    /// <param name="kept">The number of --keep columns the rows carry.</param>
    public static IDataView ToDataView(MLContext ml, IEnumerable<TableRow> rows, TableSchema schema, int kept = 0) =>
        ml.Data.LoadFromEnumerable(rows, Definition(schema, kept));

    /// <summary>How a <see cref="TableRow"/> of this table maps to ML.NET columns (a PredictionEngine's input schema too).</summary>
    public static SchemaDefinition Definition(TableSchema schema, int kept = 0)
    {
        var definition = SchemaDefinition.Create(typeof(TableRow));
        int numeric = schema.NumericFeatures.Length, gappy = schema.MissingIndicators.Length, categorical = schema.CategoricalFeatures.Length;
        Size(definition, nameof(TableRow.Numeric), numeric, NumberDataViewType.Single);
        Size(definition, nameof(TableRow.Gappy), gappy, NumberDataViewType.Single);
        Size(definition, nameof(TableRow.Categorical), categorical, TextDataViewType.Instance);
        Size(definition, nameof(TableRow.Kept), kept, TextDataViewType.Instance);
        if (schema.TextFeatures.Length == 0)
        {
            definition.Remove(definition[nameof(TableRow.Text)]);
        }

        return definition;
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
