using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MlRounding.Trainers;

namespace MlRounding.Cli.Commands;

/// <summary>
/// <c>mlround compare</c>: float, post-training and quantization-aware MLPs at each bit width on one split, beside
/// ML.NET's LightGbm, as a table (metric, model size, training time), optionally JSON and a chart of the metric against bits. Without
/// <c>--data</c> it runs on the bundled digits data.
/// </summary>
internal static class CompareCommand
{
    /// <summary>Fewer test rows than this get a warning: each row moves accuracy by more than 3 points.</summary>
    public const int SmallTestSplit = 30;

    public static Command Create(TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        var data = new Option<string?>("--data") { Description = "CSV file with a header row; columns get their roles as in train (default: the bundled digits data)" };
        var table = new TableFlags();
        var bits = new Option<string>("--bits") { Description = "Weight bit widths to compare, comma-separated (1..8)", DefaultValueFactory = _ => "8,4,2" };
        var epochs = new Option<int?>("--epochs") { Description = $"Maximum epochs per model (default: the trainer's, 60 below {QatOptions.LargeDataRows:N0} training rows, 30 from there on)" };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object as the last line" };
        var png = new Option<string?>("--png") { Description = "Draw the metric against bits into this PNG file" };
        var threads = TrainingFlags.Threads();
        var image = new ImageFlags();
        var command = new Command("compare", "Compare float, post-training and quantization-aware training at several bit widths.")
        {
            data, bits, epochs, seed, json, png, threads,
        };
        foreach (Option flag in table.All.Concat(image.All))
        {
            command.Options.Add(flag);
        }

        command.SetAction(result =>
        {
            string path = result.GetValue(data) ?? Path.Combine(AppContext.BaseDirectory, "data", "digits.csv");
            int[] widths = ParseBits(result.GetValue(bits)!);
            int threadCount = TrainingFlags.ThreadsOf(result, threads);
            if (result.GetValue(epochs) is < 1)
            {
                throw new ArgumentOutOfRangeException("epochs", "--epochs must be positive.");
            }

            QatOptions Options()
            {
                var options = new QatOptions { MaxEpoch = result.GetValue(epochs), Seed = result.GetValue(seed), NumberOfThreads = threadCount, CancellationToken = cancellation };
                image.Apply(result, options);
                return options;
            }

            TrainingFlags.Validate(Options()); // bad --image or --conv values fail before the table is read
            var (csv, schema, train, test, task, _) = table.Load(result, path, result.GetValue(seed), stdout, stderr);
            image.Check(result, Options(), schema);
            WarnIfSmall(stderr, test.Count);
            stderr.WriteLine($"{Path.GetFileName(path)}: {csv.RowCount} rows, label '{schema.Label}', task {task}, {train.Count} train / {test.Count} test");
            var rows = Comparison.Run(train, test, task, schema, widths, Options, new Progress(stderr));
            PrintTable(stdout, rows);
            if (result.GetValue(png) is { } file)
            {
                ComparisonChart.Save(file, rows, task);
            }

            if (result.GetValue(json))
            {
                stdout.WriteLine(Json(task, rows));
            }

            return 0;
        });
        return command;
    }

    /// <summary>Warns when the test rows are too few for the metrics to say much.</summary>
    private static void WarnIfSmall(TextWriter stderr, int testRows)
    {
        if (testRows < SmallTestSplit)
        {
            stderr.WriteLine($"warning: the test rows are {testRows}, fewer than {SmallTestSplit}: the metrics below move by a whole row's share ({1.0 / Math.Max(1, testRows):P1}) and say little.");
        }
    }

    private static int[] ParseBits(string text)
    {
        var widths = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int b) || b < 1 || b > 8)
            {
                throw new ArgumentOutOfRangeException("bits", $"--bits: '{part}' is not a bit width in 1..8.");
            }

            widths.Add(b);
        }

        return widths.Count > 0 ? widths.ToArray() : throw new ArgumentOutOfRangeException("bits", "--bits needs at least one bit width.");
    }

    private static void PrintTable(TextWriter writer, IReadOnlyList<ComparisonRow> rows)
    {
        string[] metrics = rows[0].Metrics.Keys.ToArray();
        writer.WriteLine(string.Join("  ", new[] { "mode".PadRight(8), "weights", "acts" }.Concat(metrics.Select(m => m.PadLeft(14))).Append("model bytes".PadLeft(12)).Append("zip bytes".PadLeft(10)).Append("train s".PadLeft(8))));
        foreach (var row in rows)
        {
            writer.WriteLine(string.Join("  ", new[]
            {
                row.Mode.PadRight(8), $"W{row.WeightBits}".PadLeft(7), $"A{row.ActivationBits}".PadLeft(4),
            }.Concat(metrics.Select(m => row.Metrics[m].ToString("0.0000", CultureInfo.InvariantCulture).PadLeft(14)))
             .Append((row.ModelBytes?.ToString(CultureInfo.InvariantCulture) ?? "-").PadLeft(12))
             .Append(row.ZipBytes.ToString(CultureInfo.InvariantCulture).PadLeft(10))
             .Append(row.TrainSeconds.ToString("0.0", CultureInfo.InvariantCulture).PadLeft(8))));
        }
    }

    internal static string Json(QatTask task, IReadOnlyList<ComparisonRow> rows)
    {
        string name = task switch
        {
            QatTask.Regression => "regression",
            QatTask.BinaryClassification => "binary",
            _ => "multiclass",
        };
        var payload = new Dictionary<string, object>
        {
            ["task"] = name,
            ["rows"] = rows.Select(r =>
            {
                var o = new Dictionary<string, object> { ["mode"] = r.Mode, ["weight_bits"] = r.WeightBits, ["activation_bits"] = r.ActivationBits };
                foreach (var m in r.Metrics)
                {
                    o[m.Key] = m.Value;
                }

                if (r.ModelBytes is long bytes)
                {
                    o["model_bytes"] = bytes;
                }

                o["zip_bytes"] = r.ZipBytes;
                o["train_seconds"] = r.TrainSeconds;
                return o;
            }).ToArray(),
        };
        return JsonSerializer.Serialize(payload);
    }

    private sealed class Progress(TextWriter writer) : IProgress<string>
    {
        public void Report(string value) => writer.WriteLine(value);
    }
}
