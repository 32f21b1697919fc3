using System.Globalization;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>A training table read as it is needed (<see cref="TableFlags.LoadStreamed"/>): its roles, its training and test rows read from the file on every pass, and the task.</summary>
internal sealed record StreamedSetup(TableSchema Schema, StreamedRows Train, StreamedRows Test, QatTask Task);

/// <summary>A training table read and split (<see cref="TableFlags.Load"/>): its roles, training and test rows, and task.</summary>
internal sealed record TableSetup(CsvTable Table, TableSchema Schema, List<TableRow> Train, List<TableRow> Test, QatTask Task, int Skipped = 0)
{
    /// <summary>The training and test rows: those of <paramref name="testTable"/>, or a seeded fraction held out; and the rows skipped because their label is missing.</summary>
    public static (List<TableRow> Train, List<TableRow> Test, int Skipped) SplitRows(CsvTable table, TableSchema schema, CsvTable? testTable, double fraction, int seed, Action<string> notes)
    {
        List<TableRow> rows = TableRows.Read(table, schema, labelRequired: true, notes, out int skipped);
        int skippedTest = 0;
        var (train, test) = testTable is not null
            ? (rows, TableRows.Read(testTable, schema, labelRequired: true, notes, out skippedTest))
            : Holdout.Split(rows, fraction, seed);
        if (train.Count < 2)
        {
            throw new FormatException($"data file '{table.Path}' leaves {train.Count} training row(s) after holding out the test rows; at least 2 are needed.");
        }

        return (train, test, skipped + skippedTest);
    }

    /// <summary>The task named by --task.</summary>
    public static QatTask TaskNamed(string name) => name switch
    {
        "regression" => QatTask.Regression,
        "binary" => QatTask.BinaryClassification,
        "multiclass" => QatTask.MulticlassClassification,
        var other => throw new ArgumentOutOfRangeException("task", $"--task: '{other}' is not regression, binary or multiclass."),
    };

    /// <summary>A text binary label: the later of the two values in ordinal order is the positive class (set on every row).</summary>
    public static TableSchema WithBinaryTextLabel(TableSchema schema, QatTask task, List<TableRow> train, List<TableRow> test)
    {
        if (task != QatTask.BinaryClassification || !schema.TextLabel)
        {
            return schema;
        }

        schema = schema with { Classes = train.Select(r => r.LabelText).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray() };
        foreach (var row in train.Concat(test))
        {
            row.BinaryLabel = row.LabelText == schema.Classes[1];
        }

        return schema;
    }

    /// <summary>Fails, naming the label column, when its values do not fit the task (the distinct values first, then each value).</summary>
    public static void CheckLabels(IEnumerable<TableRow> rows, QatTask task, TableSchema schema)
    {
        string[] values = (schema.TextLabel ? rows.Select(r => r.LabelText) : rows.Select(r => r.Label.ToString(CultureInfo.InvariantCulture))).Distinct(StringComparer.Ordinal).ToArray();
        if (task != QatTask.Regression && (values.Length < 2 || (task == QatTask.BinaryClassification && values.Length != 2)))
        {
            string listed = values.Length <= 10 ? $" ({string.Join(", ", values.Order(StringComparer.Ordinal))})" : string.Empty;
            throw new FormatException($"label column '{schema.Label}' has {values.Length} distinct value{(values.Length == 1 ? "" : "s")}{listed}; a {CliModelInfo.Name(task)} task needs {(task == QatTask.BinaryClassification ? "exactly 2" : "at least 2")}.");
        }

        if (schema.TextLabel)
        {
            if (task == QatTask.Regression)
            {
                string example = rows.First(r => !CellParsing.TryNumber(r.LabelText, decimalComma: false, out _)).LabelText;
                throw new FormatException($"label column '{schema.Label}' holds '{example}', which does not fit a regression task.");
            }

            return;
        }

        foreach (var row in rows)
        {
            bool ok = task switch
            {
                QatTask.BinaryClassification => row.Label is 0 or 1,
                QatTask.MulticlassClassification => row.Label == MathF.Round(row.Label),
                _ => float.IsFinite(row.Label),
            };
            if (!ok)
            {
                throw new FormatException($"label column '{schema.Label}' holds {row.Label.ToString(CultureInfo.InvariantCulture)}, which does not fit a {CliModelInfo.Name(task)} task{(task == QatTask.BinaryClassification ? " (its values must be 0 and 1, or two texts)" : "")}.");
            }
        }
    }
}
