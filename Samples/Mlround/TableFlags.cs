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
        char? separator = ParseSeparator(result.GetValue(Separator));
        var overrides = new TableSchema.Overrides(Names(result.GetValue(Categorical)), Names(result.GetValue(Text)), Names(result.GetValue(Ignore)), Names(result.GetValue(Date)), ParseDateOrder(result.GetValue(DateOrder)));
        CsvTable table = CsvTable.Read(dataPath, separator, notes.Add, overrides.Named);
        string label = result.GetValue(Label) ?? (table.Header.Contains("Label") ? "Label" : table.Header[^1]);
        TableSchema schema = TableSchema.Infer(table, label, overrides);
        notes.AddRange(schema.Columns.Where(c => c.Role == ColumnRole.Ignored && c.Why != "--ignore").Select(c => $"note: column '{c.Name}' is not used: {c.Why}."));
        var (train, test, skipped) = TableSetup.SplitRows(table, schema, result.GetValue(TestData) is { } testPath ? CsvTable.Read(testPath, separator, notes.Add, schema.TextColumns) : null, result.GetValue(TestFraction), seed, notes.Add);
        var (task, why) = result.GetValue(Task) is { } named ? (TableSetup.TaskNamed(named), "--task") : schema.InferTask(train);
        TableSetup.CheckLabels(train.Concat(test), task, schema);
        schema = TableSetup.WithBinaryTextLabel(schema, task, train, test);
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

        return new TableSetup(table, schema, train, test, task, skipped);
    }

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
