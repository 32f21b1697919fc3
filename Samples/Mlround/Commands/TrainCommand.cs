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
        var data = new Option<string>("--data") { Description = "Training CSV with a header (numbers, text, dates; empty, NA or ? for missing)", Required = true };
        var label = new Option<string?>("--label") { Description = "Label column (default: Label if present, else the last column)" };
        var testData = new Option<string?>("--test-data") { Description = "Held-out CSV (default: a seeded fraction of --data)" };
        var testFraction = new Option<double>("--test-fraction") { Description = "Fraction held out when there is no --test-data", DefaultValueFactory = _ => 0.2 };
        var task = new Option<string?>("--task") { Description = "regression, binary or multiclass (default: inferred from the label)" };
        var categorical = new Option<string?>("--categorical") { Description = "Columns to one-hot encode, comma-separated (default: text columns with few distinct values)" };
        var text = new Option<string?>("--text") { Description = "Free-text columns to featurize (bag of words and character n-grams), comma-separated" };
        var ignore = new Option<string?>("--ignore") { Description = "Columns not to use, comma-separated" };
        var showColumns = new Option<bool>("--show-columns") { Description = "Print each column's inferred role" };
        var normalize = new Option<string>("--normalize") { DefaultValueFactory = _ => "auto", Description = $"Features in front of the network: bins (quantile bins, for skewed columns), min-max, or auto (bins up to {TaskPipeline.MaximumBinnedFeatures} numeric features, else min-max)" };
        var flags = new TrainingFlags();
        var output = new Option<string>("--out") { DefaultValueFactory = _ => "model.zip", Description = "Model file to write" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object as the last line" };
        var command = new Command("train", "Train a quantization-aware MLP on a CSV and save the ML.NET model.")
        {
            data, label, testData, testFraction, task, categorical, text, ignore, showColumns, normalize, output, json,
        };
        foreach (Option flag in flags.All)
        {
            command.Options.Add(flag);
        }

        command.SetAction(result =>
        {
            AtomicFile.CheckFolder(result.GetValue(output)!); // before training, not after
            CsvTable table = CsvTable.Read(result.GetValue(data)!);
            string labelName = result.GetValue(label) ?? (table.Header.Contains("Label") ? "Label" : table.Header[^1]);
            static string[] Names(string? list) => list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? Array.Empty<string>();
            TableSchema schema = TableSchema.Infer(table, labelName, new TableSchema.Overrides(Names(result.GetValue(categorical)), Names(result.GetValue(text)), Names(result.GetValue(ignore))));
            bool bins = TaskPipeline.UsesBins(result.GetValue(normalize)!, schema);
            List<TableRow> rows = TableRows.Read(table, schema, labelRequired: true, stderr.WriteLine);
            List<TableRow> train, test;
            if (result.GetValue(testData) is { } testPath)
            {
                train = rows;
                test = TableRows.Read(CsvTable.Read(testPath), schema, labelRequired: true, stderr.WriteLine);
            }
            else
            {
                (train, test) = Holdout.Split(rows, result.GetValue(testFraction), result.GetValue(flags.Seed));
            }

            if (train.Count < 2)
            {
                throw new FormatException($"data file '{result.GetValue(data)}' leaves {train.Count} training row(s) after holding out the test rows; at least 2 are needed.");
            }

            QatTask qatTask = result.GetValue(task) switch
            {
                null => schema.InferTask(train),
                "regression" => QatTask.Regression,
                "binary" => QatTask.BinaryClassification,
                "multiclass" => QatTask.MulticlassClassification,
                var other => throw new ArgumentOutOfRangeException("task", $"--task: '{other}' is not regression, binary or multiclass."),
            };
            CheckLabels(train.Concat(test), qatTask, schema);
            if (qatTask == QatTask.BinaryClassification && schema.TextLabel)
            {
                // A text binary label: the later of the two values in ordinal order is the positive class.
                schema = schema with { Classes = train.Select(r => r.LabelText).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray() };
                foreach (var row in train.Concat(test))
                {
                    row.BinaryLabel = row.LabelText == schema.Classes[1];
                }
            }

            if (result.GetValue(showColumns))
            {
                foreach (string line in schema.Describe())
                {
                    stdout.WriteLine(line);
                }
            }

            var info = new CliModelInfo(CliModelInfo.Name(qatTask), schema);
            QatOptions options = flags.Options(result, cancellation);
            var ml = new MLContext(seed: options.Seed);
            var trainView = TableRows.ToDataView(ml, train, schema);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            string validation = qatTask == QatTask.Regression ? "rmse" : "accuracy";
            Recording? recording = null;
            ITransformer model = TrainingDisplay.Run(terminal, stderr, options.MaxEpoch ?? 60, validation, progress =>
            {
                options.Progress = recording = new Recording(progress);
                return TaskPipeline.Build(ml, qatTask, options, schema, bins).Fit(trainView);
            });
            QatProgress last = recording!.Last;
            double seconds = watch.Elapsed.TotalSeconds;
            var metrics = TaskPipeline.Evaluate(ml, qatTask, model, TableRows.ToDataView(ml, test, schema));
            long bytes = TaskPipeline.ModelBytes(model);
            info.Save(ml, model, trainView.Schema, result.GetValue(output)!);
            foreach (var m in metrics)
            {
                stdout.WriteLine($"{m.Key}: {m.Value.ToString("0.0000", CultureInfo.InvariantCulture)}");
            }

            stdout.WriteLine($"epochs: {last.Epoch}, kept: {last.BestEpoch}");
            stdout.WriteLine($"model_bytes: {bytes}");
            stdout.WriteLine($"saved: {result.GetValue(output)}");
            if (result.GetValue(json))
            {
                stdout.WriteLine(Json(info.Task, metrics, bytes, seconds, (last.Epoch, last.BestEpoch), schema));
            }

            return 0;
        });
        return command;
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
                .Concat(schema.Columns.Select(c => new Dictionary<string, string> { ["name"] = c.Name, ["role"] = c.Kind.ToString().ToLowerInvariant() })).ToArray();
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
