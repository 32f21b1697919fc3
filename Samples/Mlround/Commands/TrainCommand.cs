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
        var data = new Option<string>("--data") { Description = "Training CSV (header, numeric columns)", Required = true };
        var label = new Option<string?>("--label") { Description = "Label column (default: Label if present, else the last column)" };
        var testData = new Option<string?>("--test-data") { Description = "Held-out CSV (default: a seeded fraction of --data)" };
        var testFraction = new Option<double>("--test-fraction") { Description = "Fraction held out when there is no --test-data", DefaultValueFactory = _ => 0.2 };
        var task = new Option<string?>("--task") { Description = "regression, binary or multiclass (default: inferred from the label)" };
        var flags = new TrainingFlags();
        var output = new Option<string>("--out") { DefaultValueFactory = _ => "model.zip", Description = "Model file to write" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object as the last line" };
        var command = new Command("train", "Train a quantization-aware MLP on a CSV and save the ML.NET model.")
        {
            data, label, testData, testFraction, task, output, json,
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
            table.ColumnIndex(labelName);
            var info = new CliModelInfo("multiclass", labelName, table.Header.Where(h => h != labelName).ToArray());
            List<Comparison.Row> rows = info.Rows(table, labelRequired: true);
            List<Comparison.Row> train, test;
            if (result.GetValue(testData) is { } testPath)
            {
                train = rows;
                test = info.Rows(CsvTable.Read(testPath), labelRequired: true);
            }
            else
            {
                double fraction = result.GetValue(testFraction);
                if (!(fraction > 0 && fraction < 1))
                {
                    throw new ArgumentOutOfRangeException("test-fraction", "--test-fraction must be in (0, 1).");
                }

                var random = new Random(result.GetValue(flags.Seed));
                int[] order = Enumerable.Range(0, rows.Count).OrderBy(_ => random.Next()).ToArray();
                int held = Math.Max(1, (int)Math.Round(rows.Count * fraction));
                test = order[..held].Select(i => rows[i]).ToList();
                train = order[held..].Select(i => rows[i]).ToList();
            }

            if (train.Count < 2)
            {
                throw new FormatException($"data file '{result.GetValue(data)}' leaves {train.Count} training row(s) after holding out the test rows; at least 2 are needed.");
            }

            QatTask qatTask = result.GetValue(task) switch
            {
                null => Comparison.InferTask(train.Select(r => r.Label)),
                "regression" => QatTask.Regression,
                "binary" => QatTask.BinaryClassification,
                "multiclass" => QatTask.MulticlassClassification,
                var other => throw new ArgumentOutOfRangeException("task", $"--task: '{other}' is not regression, binary or multiclass."),
            };
            CheckLabels(train.Concat(test), qatTask, labelName);
            info = info with { Task = CliModelInfo.Name(qatTask) };
            QatOptions options = flags.Options(result, cancellation);
            var ml = new MLContext(seed: options.Seed);
            var trainView = TaskPipeline.ToDataView(ml, train);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            string validation = qatTask == QatTask.Regression ? "rmse" : "accuracy";
            Recording? recording = null;
            ITransformer model = TrainingDisplay.Run(terminal, stderr, options.MaxEpoch, validation, progress =>
            {
                options.Progress = recording = new Recording(progress);
                return TaskPipeline.Build(ml, qatTask, options).Fit(trainView);
            });
            QatProgress last = recording!.Last;
            double seconds = watch.Elapsed.TotalSeconds;
            var metrics = TaskPipeline.Evaluate(ml, qatTask, model, TaskPipeline.ToDataView(ml, test));
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
                stdout.WriteLine(Json(info.Task, metrics, bytes, seconds, (last.Epoch, last.BestEpoch)));
            }

            return 0;
        });
        return command;
    }

    internal static string Json(string task, Dictionary<string, double> metrics, long? bytes, double? seconds, (int Trained, int Kept)? epochs = null)
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

        return System.Text.Json.JsonSerializer.Serialize(payload);
    }

    private static void CheckLabels(IEnumerable<Comparison.Row> rows, QatTask task, string label)
    {
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
                throw new FormatException($"label column '{label}' holds {row.Label.ToString(CultureInfo.InvariantCulture)}, which does not fit a {CliModelInfo.Name(task)} task.");
            }
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
