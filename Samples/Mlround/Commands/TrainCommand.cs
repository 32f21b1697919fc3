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
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes", DefaultValueFactory = _ => "128,64" };
        var weightBits = new Option<int>("--weight-bits") { DefaultValueFactory = _ => 8, Description = "1, 2..8 or 32" };
        var activationBits = new Option<int>("--activation-bits") { DefaultValueFactory = _ => 8, Description = "2..16 or 32" };
        var gradient = new Option<string>("--gradient") { DefaultValueFactory = _ => "lsq", Description = "lsq, ste, sigmoid, softmax, finite-difference, soft-round, noise" };
        var mode = new Option<string>("--mode") { DefaultValueFactory = _ => "qat", Description = "qat, ptq or float" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 60, Description = "Maximum epochs" };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 64, Description = "Minibatch size" };
        var rate = new Option<double>("--learning-rate") { DefaultValueFactory = _ => 0.003, Description = "Adam's learning rate" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1, Description = "Seed" };
        var output = new Option<string>("--out") { DefaultValueFactory = _ => "model.zip", Description = "Model file to write" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object as the last line" };
        var command = new Command("train", "Train a quantization-aware MLP on a CSV and save the ML.NET model.")
        {
            data, label, testData, testFraction, task, hidden, weightBits, activationBits, gradient, mode, epochs, batch, rate, seed, output, json,
        };
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

                var random = new Random(result.GetValue(seed));
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
            var options = new QatOptions
            {
                HiddenLayers = ParseSizes(result.GetValue(hidden)!),
                WeightBits = result.GetValue(weightBits),
                ActivationBits = result.GetValue(activationBits),
                Gradient = ParseGradient(result.GetValue(gradient)!),
                Mode = result.GetValue(mode) switch
                {
                    "qat" => QatMode.QuantizationAware,
                    "ptq" => QatMode.PostTraining,
                    "float" => QatMode.Float,
                    var other => throw new ArgumentOutOfRangeException("mode", $"--mode: '{other}' is not qat, ptq or float."),
                },
                MaxEpoch = result.GetValue(epochs),
                BatchSize = result.GetValue(batch),
                LearningRate = result.GetValue(rate),
                Seed = result.GetValue(seed),
                NumberOfThreads = 2,
                CancellationToken = cancellation,
            };
            if (options.Mode == QatMode.Float)
            {
                options.WeightBits = options.ActivationBits = 32;
            }

            ValidateNamingFlags(options);
            var ml = new MLContext(seed: options.Seed);
            var trainView = TaskPipeline.ToDataView(ml, train);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            string validation = qatTask == QatTask.Regression ? "rmse" : "accuracy";
            ITransformer model = TrainingDisplay.Run(terminal, stderr, options.MaxEpoch, validation, progress =>
            {
                options.Progress = progress;
                return TaskPipeline.Build(ml, qatTask, options).Fit(trainView);
            });
            double seconds = watch.Elapsed.TotalSeconds;
            var metrics = TaskPipeline.Evaluate(ml, qatTask, model, TaskPipeline.ToDataView(ml, test));
            long bytes = TaskPipeline.ModelBytes(model);
            info.Save(ml, model, trainView.Schema, result.GetValue(output)!);
            foreach (var m in metrics)
            {
                stdout.WriteLine($"{m.Key}: {m.Value.ToString("0.0000", CultureInfo.InvariantCulture)}");
            }

            stdout.WriteLine($"model_bytes: {bytes}");
            stdout.WriteLine($"saved: {result.GetValue(output)}");
            if (result.GetValue(json))
            {
                stdout.WriteLine(Json(info.Task, metrics, bytes, seconds));
            }

            return 0;
        });
        return command;
    }

    internal static string Json(string task, Dictionary<string, double> metrics, long? bytes, double? seconds)
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

        return System.Text.Json.JsonSerializer.Serialize(payload);
    }

    /// <summary>The trainer's own checks, with the command-line flag named before the option's message.</summary>
    internal static void ValidateNamingFlags(QatOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName is { } name && Flags.TryGetValue(name, out string? flag))
        {
            throw new ArgumentOutOfRangeException(flag, $"{flag}: {MlroundCli.FirstLine(e.Message)}");
        }
    }

    private static readonly Dictionary<string, string> Flags = new()
    {
        [nameof(QatOptions.WeightBits)] = "--weight-bits",
        [nameof(QatOptions.ActivationBits)] = "--activation-bits",
        [nameof(QatOptions.MaxEpoch)] = "--epochs",
        [nameof(QatOptions.BatchSize)] = "--batch-size",
        [nameof(QatOptions.LearningRate)] = "--learning-rate",
        [nameof(QatOptions.HiddenLayers)] = "--hidden",
    };

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

    private static int[] ParseSizes(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v
            : throw new ArgumentOutOfRangeException("hidden", $"--hidden: '{p}' is not a positive layer size."))
        .ToArray();

    private static QatGradient ParseGradient(string name) => name switch
    {
        "lsq" => QatGradient.LearnedStepSize,
        "ste" => QatGradient.StraightThrough,
        "sigmoid" => QatGradient.Sigmoid,
        "softmax" => QatGradient.Softmax,
        "finite-difference" => QatGradient.FiniteDifference,
        "soft-round" => QatGradient.SoftRound,
        "noise" => QatGradient.Noise,
        _ => throw new ArgumentOutOfRangeException("gradient", $"--gradient: '{name}' is not lsq, ste, sigmoid, softmax, finite-difference, soft-round or noise."),
    };
}
