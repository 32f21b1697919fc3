using System.CommandLine;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>
/// The flags that say how a training table is read and split, shared by <c>train</c> and <c>compare</c>, and what they
/// give: the table, its column roles, the training and test rows and the task, each choice printed in one line.
/// </summary>
internal sealed class TableFlags
{
    public readonly Option<string?> Label = new("--label") { Description = "Label column (default: Label if present, else the last column)" };
    public readonly Option<string?> TestData = new("--test-data") { Description = "Held-out CSV (default: a seeded fraction of --data)" };
    public readonly Option<double> TestFraction = new("--test-fraction") { Description = "Fraction held out when there is no --test-data", DefaultValueFactory = _ => 0.2 };
    public readonly Option<string?> Task = new("--task") { Description = "regression, binary or multiclass (default: inferred from the label)" };
    public readonly Option<string?> Categorical = new("--categorical") { Description = "Columns to one-hot encode, comma-separated (default: text columns with few distinct values)" };
    public readonly Option<string?> Text = new("--text") { Description = "Free-text columns to featurize (bag of words and character n-grams), comma-separated" };
    public readonly Option<string?> Ignore = new("--ignore") { Description = "Columns not to use, comma-separated" };
    public readonly Option<string?> Date = new("--date") { Description = "Columns to read as dates, comma-separated (default: columns whose cells are all dates)" };
    public readonly Option<string?> DateOrder = new("--date-order") { Description = "How 1/2/2000 reads where the cells do not tell: mdy (default) or dmy" };
    public readonly Option<string?> Separator = new("--separator") { Description = "The cell separator: ',', ';', tab or '|' (default: detected from the header and the first rows)" };
    public readonly Option<bool> ShowColumns = new("--show-columns") { Description = "Print each column's inferred role" };

    /// <summary>The flags, to add to a command.</summary>
    public IEnumerable<Option> All => new Option[] { Label, TestData, TestFraction, Task, Categorical, Text, Ignore, Date, DateOrder, Separator, ShowColumns };

    /// <summary>
    /// Reads <paramref name="dataPath"/>, infers the roles, splits off the test rows, settles the task, and then, once
    /// all of it is valid (an error stays one line), prints a note for every renamed or unused column and one line
    /// naming the task and why (stderr); with --show-columns, every role (stdout).
    /// </summary>
    public TableSetup Load(ParseResult result, string dataPath, int seed, TextWriter stdout, TextWriter stderr)
    {
        var notes = new List<string>();
        var (table, schema) = Roles(result, dataPath, int.MaxValue, notes);
        var (train, test, skipped) = TableSetup.SplitRows(table, schema, result.GetValue(TestData) is { } testPath ? CsvTable.Read(testPath, SeparatorOf(result), notes.Add, schema.TextColumns) : null, result.GetValue(TestFraction), seed, notes.Add);
        var (task, why) = result.GetValue(Task) is { } named ? (TableSetup.TaskNamed(named), "--task") : schema.InferTask(train);
        TableSetup.CheckLabels(train.Concat(test), task, schema);
        schema = TableSetup.WithBinaryTextLabel(schema, task, train, test);
        schema = GapIndicators.Informative(schema, task, train, notes.Add, train, test);
        Report(result, notes, task, why, schema, stdout, stderr);
        return new TableSetup(table, schema, train, test, task, skipped);
    }

    /// <summary>Rows read for the roles, task and label checks of a streamed table (train --stream): the file's first rows.</summary>
    public const int StreamSampleRows = 10_000;

    /// <summary>
    /// As <see cref="Load"/> for a table read as it is needed (train --stream): the roles, the task and the label's
    /// values come from its first <see cref="StreamSampleRows"/> rows; the training rows, and the test rows held out by
    /// <see cref="Holdout.IsHeld"/> (or --test-data's), are read from the file on every pass.
    /// </summary>
    public StreamedSetup LoadStreamed(ParseResult result, string dataPath, int seed, TextWriter stdout, TextWriter stderr)
    {
        var notes = new List<string>();
        var (sample, schema) = Roles(result, dataPath, StreamSampleRows, notes);
        List<TableRow> rows = TableRows.Read(sample, schema, labelRequired: true, _ => { });
        var (task, why) = result.GetValue(Task) is { } named ? (TableSetup.TaskNamed(named), "--task") : schema.InferTask(rows);
        TableSetup.CheckLabels(rows, task, schema);
        schema = TableSetup.WithBinaryTextLabel(schema, task, rows, new List<TableRow>());
        schema = GapIndicators.Informative(schema, task, rows, notes.Add); // like the roles, from the first rows
        double fraction = result.GetValue(TestFraction);
        Holdout.CheckFraction(fraction); // now, not on the first row read
        string? testPath = result.GetValue(TestData);
        var train = TableRows.StreamLabelled(dataPath, SeparatorOf(result), schema, testPath is null ? i => !Holdout.IsHeld(i, fraction, seed) : null, notes.Add);
        var test = TableRows.StreamLabelled(testPath ?? dataPath, SeparatorOf(result), schema, testPath is null ? i => Holdout.IsHeld(i, fraction, seed) : null, notes.Add);
        notes.Add($"note: streaming '{dataPath}': column roles and the task from its first {sample.RowCount} rows; the rows are read from the file on every pass.");
        Report(result, notes, task, why, schema, stdout, stderr);
        return new StreamedSetup(schema, train, test, task);
    }

    /// <summary>The file's first <paramref name="rows"/> rows (all by default) and the roles inferred from them.</summary>
    private (CsvTable Table, TableSchema Schema) Roles(ParseResult result, string dataPath, int rows, List<string> notes)
    {
        var overrides = new TableSchema.Overrides(Names(result.GetValue(Categorical)), Names(result.GetValue(Text)), Names(result.GetValue(Ignore)), Names(result.GetValue(Date)), ParseDateOrder(result.GetValue(DateOrder)));
        CsvTable table = CsvTable.Read(dataPath, SeparatorOf(result), notes.Add, overrides.Named, rows);
        string label = result.GetValue(Label) ?? (table.Header.Contains("Label") ? "Label" : table.Header[^1]);
        TableSchema schema = TableSchema.Infer(table, label, overrides);
        notes.AddRange(schema.Columns.Where(c => c.Role == ColumnRole.Ignored && c.Why != "--ignore").Select(c => $"note: column '{c.Name}' is not used: {c.Why}."));
        return (table, schema);
    }

    // The notes and the task line (stderr); with --show-columns every role (stdout).
    private void Report(ParseResult result, List<string> notes, QatTask task, string why, TableSchema schema, TextWriter stdout, TextWriter stderr)
    {
        foreach (string note in notes.Append($"task: {CliModelInfo.Name(task)} ({why})"))
        {
            stderr.WriteLine(note);
        }

        if (result.GetValue(ShowColumns))
        {
            foreach (string line in schema.Describe())
            {
                stdout.WriteLine(line);
            }
        }
    }

    private char? SeparatorOf(ParseResult result) => ParseSeparator(result.GetValue(Separator));

    private static string[] Names(string? list) => list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? Array.Empty<string>();

    private static char? ParseSeparator(string? text) => text switch
    {
        null => null,
        "," or "comma" => ',',
        ";" or "semicolon" => ';',
        "\t" or "\\t" or "tab" => '\t',
        "|" or "pipe" => '|',
        _ => throw new ArgumentOutOfRangeException("separator", $"--separator: '{text}' is not ',', ';', tab or '|'."),
    };

    private static DateOrder ParseDateOrder(string? text) => text switch
    {
        null => Cli.DateOrder.None,
        "mdy" => Cli.DateOrder.MonthFirst,
        "dmy" => Cli.DateOrder.DayFirst,
        _ => throw new ArgumentOutOfRangeException("date-order", $"--date-order: '{text}' is not mdy or dmy."),
    };
}
