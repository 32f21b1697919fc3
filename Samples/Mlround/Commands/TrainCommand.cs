using System.CommandLine;
using System.Globalization;
using Microsoft.ML;
using MlRounding.Trainers;
using Spectre.Console;

namespace MlRounding.Cli.Commands;

/// <summary><c>mlround train</c>: trains a model on a CSV through an ML.NET pipeline, prints held-out metrics and size, saves it.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, IAnsiConsole? terminal, CancellationToken cancellation)
    {
        var o = new TrainOptions();
        var command = new Command("train", "Train a quantization-aware MLP on a CSV and save the ML.NET model.")
        {
            o.Data, o.Label, o.TestData, o.TestFraction, o.Task, o.Categorical, o.Text, o.Ignore, o.ShowColumns, o.Normalize, o.Output, o.Json,
        };
        foreach (Option flag in o.Flags.All)
        {
            command.Options.Add(flag);
        }

        command.SetAction(result => Run(result, o, stdout, stderr, terminal, cancellation));
        return command;
    }

    /// <summary>The options of <c>train</c>.</summary>
    private sealed class TrainOptions
    {
        public readonly Option<string> Data = new("--data") { Description = "Training CSV with a header (numbers, text, dates; empty, NA or ? for missing)", Required = true };
        public readonly Option<string?> Label = new("--label") { Description = "Label column (default: Label if present, else the last column)" };
        public readonly Option<string?> TestData = new("--test-data") { Description = "Held-out CSV (default: a seeded fraction of --data)" };
        public readonly Option<double> TestFraction = new("--test-fraction") { Description = "Fraction held out when there is no --test-data", DefaultValueFactory = _ => 0.2 };
        public readonly Option<string?> Task = new("--task") { Description = "regression, binary or multiclass (default: inferred from the label)" };
        public readonly Option<string?> Categorical = new("--categorical") { Description = "Columns to one-hot encode, comma-separated (default: text columns with few distinct values)" };
        public readonly Option<string?> Text = new("--text") { Description = "Free-text columns to featurize (bag of words and character n-grams), comma-separated" };
        public readonly Option<string?> Ignore = new("--ignore") { Description = "Columns not to use, comma-separated" };
        public readonly Option<bool> ShowColumns = new("--show-columns") { Description = "Print each column's inferred role" };
        public readonly Option<string> Normalize = new("--normalize") { DefaultValueFactory = _ => "auto", Description = $"Features in front of the network: bins (quantile bins, for skewed columns), min-max, or auto (bins up to {TaskPipeline.MaximumBinnedFeatures} numeric features, else min-max)" };
        public readonly TrainingFlags Flags = new();
        public readonly Option<string> Output = new("--out") { DefaultValueFactory = _ => "model.zip", Description = "Model file to write" };
        public readonly Option<bool> Json = new("--json") { Description = "Print one JSON object as the last line" };
    }

    private static int Run(ParseResult result, TrainOptions o, TextWriter stdout, TextWriter stderr, IAnsiConsole? terminal, CancellationToken cancellation)
    {
        AtomicFile.CheckFolder(result.GetValue(o.Output)!); // before training, not after
        CsvTable table = CsvTable.Read(result.GetValue(o.Data)!);
        string labelName = result.GetValue(o.Label) ?? (table.Header.Contains("Label") ? "Label" : table.Header[^1]);
        static string[] Names(string? list) => list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? Array.Empty<string>();
        TableSchema schema = TableSchema.Infer(table, labelName, new TableSchema.Overrides(Names(result.GetValue(o.Categorical)), Names(result.GetValue(o.Text)), Names(result.GetValue(o.Ignore))));
        bool bins = TaskPipeline.UsesBins(result.GetValue(o.Normalize)!, schema);
        var (train, test) = SplitRows(result, o, table, schema, stderr);
        QatTask qatTask = TaskOf(result.GetValue(o.Task), schema, train);
        CheckLabels(train.Concat(test), qatTask, schema);
        schema = WithBinaryTextLabel(schema, qatTask, train, test);
        if (result.GetValue(o.ShowColumns))
        {
            foreach (string line in schema.Describe())
            {
                stdout.WriteLine(line);
            }
        }

        QatOptions options = o.Flags.Options(result, cancellation);
        var ml = new MLContext(seed: options.Seed);
        var trainView = TableRows.ToDataView(ml, train, schema);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Recording? recording = null;
        ITransformer model = TrainingDisplay.Run(terminal, stderr, options.MaxEpoch ?? 60, qatTask == QatTask.Regression ? "rmse" : "accuracy", progress =>
        {
            options.Progress = recording = new Recording(progress);
            return TaskPipeline.Build(ml, qatTask, options, schema, bins).Fit(trainView);
        });
        double seconds = watch.Elapsed.TotalSeconds;
        var metrics = TaskPipeline.Evaluate(ml, qatTask, model, TableRows.ToDataView(ml, test, schema));
        var info = new CliModelInfo(CliModelInfo.Name(qatTask), schema);
        info.Save(ml, model, trainView.Schema, result.GetValue(o.Output)!);
        Report(stdout, info, metrics, TaskPipeline.ModelBytes(model), seconds, recording!.Last, result.GetValue(o.Output)!, result.GetValue(o.Json) ? schema : null);
        return 0;
    }

    /// <summary>The training and test rows: --test-data, or a seeded fraction of --data held out.</summary>
    private static (List<TableRow> Train, List<TableRow> Test) SplitRows(ParseResult result, TrainOptions o, CsvTable table, TableSchema schema, TextWriter stderr)
    {
        List<TableRow> rows = TableRows.Read(table, schema, labelRequired: true, stderr.WriteLine);
        var (train, test) = result.GetValue(o.TestData) is { } testPath
            ? (rows, TableRows.Read(CsvTable.Read(testPath), schema, labelRequired: true, stderr.WriteLine))
            : Holdout.Split(rows, result.GetValue(o.TestFraction), result.GetValue(o.Flags.Seed));
        if (train.Count < 2)
        {
            throw new FormatException($"data file '{result.GetValue(o.Data)}' leaves {train.Count} training row(s) after holding out the test rows; at least 2 are needed.");
        }

        return (train, test);
    }

    /// <summary>The task named by --task, or inferred from the training rows' labels.</summary>
    private static QatTask TaskOf(string? name, TableSchema schema, List<TableRow> train) => name switch
    {
        null => schema.InferTask(train),
        "regression" => QatTask.Regression,
        "binary" => QatTask.BinaryClassification,
        "multiclass" => QatTask.MulticlassClassification,
        var other => throw new ArgumentOutOfRangeException("task", $"--task: '{other}' is not regression, binary or multiclass."),
    };

    /// <summary>A text binary label: the later of the two values in ordinal order is the positive class (set on every row).</summary>
    private static TableSchema WithBinaryTextLabel(TableSchema schema, QatTask task, List<TableRow> train, List<TableRow> test)
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

    /// <summary>The held-out metrics, the trained and kept epochs, the size and the file; with a schema, the JSON line too.</summary>
    private static void Report(TextWriter stdout, CliModelInfo info, Dictionary<string, double> metrics, long bytes, double seconds, QatProgress last, string path, TableSchema? jsonSchema)
    {
        foreach (var m in metrics)
        {
            stdout.WriteLine($"{m.Key}: {m.Value.ToString("0.0000", CultureInfo.InvariantCulture)}");
        }

        stdout.WriteLine($"epochs: {last.Epoch}, kept: {last.BestEpoch}");
        stdout.WriteLine($"model_bytes: {bytes}");
        stdout.WriteLine($"saved: {path}");
        if (jsonSchema is not null)
        {
            stdout.WriteLine(Json(info.Task, metrics, bytes, seconds, (last.Epoch, last.BestEpoch), jsonSchema));
        }
    }

    internal static string Json(string task, Dictionary<string, double> metrics, long? bytes, double? seconds, (int Trained, int Kept)? epochs = null, TableSchema? schema = null)
    {
        var payload = new Dictionary<string, object> { ["task"] = task };
        foreach (var m in metrics)
        {
            payload[m.Key] = m.Value;
        }

        if (bytes is long b)
        {
            payload["model_bytes"] = b;
        }

        if (seconds is double s)
        {
            payload["train_seconds"] = s;
        }

        if (epochs is var (trained, kept))
        {
            payload["epochs"] = trained;
            payload["best_epoch"] = kept;
        }

        if (schema is not null)
        {
            payload["columns"] = new[] { new Dictionary<string, string> { ["name"] = schema.Label, ["role"] = "label" } }
                .Concat(schema.Columns.Select(c => new Dictionary<string, string> { ["name"] = c.Name, ["role"] = c.Role.ToString().ToLowerInvariant() })).ToArray();
        }

        return System.Text.Json.JsonSerializer.Serialize(payload);
    }

    private static void CheckLabels(IEnumerable<TableRow> rows, QatTask task, TableSchema schema)
    {
        if (schema.TextLabel)
        {
            if (task == QatTask.Regression)
            {
                string example = rows.First(r => !TableSchema.TryNumber(r.LabelText, out _)).LabelText;
                throw new FormatException($"label column '{schema.Label}' holds '{example}', which does not fit a regression task.");
            }

            int classes = rows.Select(r => r.LabelText).Distinct(StringComparer.Ordinal).Count();
            if (classes < 2 || (task == QatTask.BinaryClassification && classes != 2))
            {
                throw new FormatException($"label column '{schema.Label}' has {classes} distinct value(s); a {CliModelInfo.Name(task)} task needs {(task == QatTask.BinaryClassification ? "exactly 2" : "at least 2")}.");
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
                throw new FormatException($"label column '{schema.Label}' holds {row.Label.ToString(CultureInfo.InvariantCulture)}, which does not fit a {CliModelInfo.Name(task)} task.");
            }
        }

        if (task != QatTask.Regression && rows.Select(r => r.Label).Distinct().Count() < 2)
        {
            throw new FormatException($"label column '{schema.Label}' has 1 distinct value; a {CliModelInfo.Name(task)} task needs at least 2.");
        }
    }

    /// <summary>Passes reports on and keeps the last (the trained and the kept epoch).</summary>
    private sealed class Recording(IProgress<QatProgress> inner) : IProgress<QatProgress>
    {
        public QatProgress Last { get; private set; }

        public void Report(QatProgress value)
        {
            Last = value;
            inner.Report(value);
        }
    }
}
