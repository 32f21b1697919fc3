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
        var command = new Command("train", "Train a quantization-aware MLP on a CSV and save the ML.NET model.") { o.Data, o.Normalize, o.Output, o.Json, o.Stream };
        foreach (Option flag in o.Table.All.Concat(o.Flags.All))
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
        public readonly TableFlags Table = new();
        public readonly Option<string> Normalize = new("--normalize") { DefaultValueFactory = _ => "auto", Description = $"Features in front of the network: bins (quantile bins, for skewed columns), min-max, or auto (bins up to {TaskPipeline.MaximumBinnedFeatures} numeric features, else min-max)" };
        public readonly TrainingFlags Flags = new();
        public readonly Option<string> Output = new("--out") { DefaultValueFactory = _ => "model.zip", Description = "Model file to write" };
        public readonly Option<bool> Json = new("--json") { Description = "Print one JSON object as the last line" };
        public readonly Option<bool> Stream = new("--stream") { Description = "Read the rows from the file on every pass instead of holding them (bounded memory; automatic for a file larger than a quarter of the memory available)" };
    }

    /// <summary>Whether <paramref name="path"/> is too large to hold: its rows as floats take about as many bytes as its text, and training holds them about four times over.</summary>
    internal static bool TooLargeToHold(string path) =>
        File.Exists(path) && new FileInfo(path).Length > GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    private static int Run(ParseResult result, TrainOptions o, TextWriter stdout, TextWriter stderr, IAnsiConsole? terminal, CancellationToken cancellation)
    {
        AtomicFile.CheckFolder(result.GetValue(o.Output)!); // before training, not after
        QatOptions options = o.Flags.Options(result, cancellation); // bad flags fail before the table is read
        ImageShape? image = options.ImageShape;
        TaskPipeline.CheckNormalize(result.GetValue(o.Normalize)!);
        string data = result.GetValue(o.Data)!;
        int seed = result.GetValue(o.Flags.Seed);
        bool streamed = result.GetValue(o.Stream) || TooLargeToHold(data);
        IEnumerable<TableRow> train, test;
        TableSchema schema;
        QatTask qatTask;
        Func<(int Train, int Test, int Skipped)> counted;
        if (streamed)
        {
            StreamedSetup setup = o.Table.LoadStreamed(result, data, seed, stdout, stderr);
            (schema, train, test, qatTask) = (setup.Schema, setup.Train, setup.Test, setup.Task);
            counted = () => (setup.Train.Count, setup.Test.Count, setup.Train.Skipped + setup.Test.Skipped); // after the last passes
            options.StreamRows = true;
        }
        else
        {
            var (_, tableSchema, trainRows, testRows, task, skipped) = o.Table.Load(result, data, seed, stdout, stderr);
            (schema, train, test, qatTask) = (tableSchema, trainRows, testRows, task);
            counted = () => (trainRows.Count, testRows.Count, skipped);
        }

        o.Flags.Image.Check(result, options, schema);
        bool bins = image is null && TaskPipeline.UsesBins(result.GetValue(o.Normalize)!, schema); // an image's grid is per channel
        var ml = new MLContext(seed: options.Seed);
        var trainView = TableRows.ToDataView(ml, train, schema);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Recording? recording = null;
        ITransformer model = StreamedRowErrors(() => TrainingDisplay.Run(terminal, stderr, options.MaxEpoch ?? 60, qatTask == QatTask.Regression ? "rmse" : "accuracy", progress =>
        {
            options.Progress = recording = new Recording(progress);
            return TaskPipeline.Build(ml, qatTask, options, schema, bins).Fit(trainView);
        }));
        double seconds = watch.Elapsed.TotalSeconds;
        int unseen = 0;
        var metrics = StreamedRowErrors(() => TaskPipeline.Evaluate(ml, qatTask, model, TableRows.ToDataView(ml, test, schema), schema.TextLabel, out unseen));
        var (trainCount, testCount, skippedCount) = counted();
        if (unseen > 0)
        {
            stderr.WriteLine($"note: {unseen} of {testCount} test rows have a label never seen in training; they count as wrong.");
        }

        var info = new CliModelInfo(CliModelInfo.Name(qatTask), schema);
        info.Save(ml, model, trainView.Schema, result.GetValue(o.Output)!);
        var counts = new Dictionary<string, object> { ["rows"] = trainCount + testCount, ["test_rows"] = testCount, ["skipped"] = new Dictionary<string, int> { ["label_missing"] = skippedCount }, ["unseen_label_rows"] = unseen, ["streamed"] = streamed };
        if (TaskPipeline.Network(model) is { } network)
        {
            Describe(network, counts, stderr);
        }

        Report(stdout, info, metrics, TaskPipeline.ModelBytes(model), seconds, recording!.Last, result.GetValue(o.Output)!, result.GetValue(o.Json) ? schema : null, counts);
        return 0;
    }

    /// <summary>Runs <paramref name="run"/>; a streamed row that does not fit fails as the one-line error it is, however ML.NET's cursor wrapped it.</summary>
    private static T StreamedRowErrors<T>(Func<T> run)
    {
        try
        {
            return run();
        }
        catch (Exception e) when (CsvRowException.In(e) is { } row)
        {
            throw row;
        }
    }

    /// <summary>The network's layers for --json: the input shape and convolution blocks (channels, kernel, pool, bits), the dense layers' sizes and bits.</summary>
    internal static Dictionary<string, object> Architecture(QuantizedMlp network)
    {
        var architecture = new Dictionary<string, object>
        {
            ["dense"] = network.Layers.Select(l => new Dictionary<string, object> { ["inputs"] = l.Inputs, ["outputs"] = l.Outputs, ["weight_bits"] = l.WeightBits, ["activation_bits"] = l.ActivationBits }).ToArray(),
        };
        if (network.InputShape is { } shape)
        {
            architecture["image"] = new[] { shape.Channels, shape.Height, shape.Width };
            architecture["convolutions"] = network.Convolutions.Select(c => new Dictionary<string, object>
            {
                ["channels"] = c.Filters.Outputs, ["kernel"] = c.KernelSize, ["pool"] = c.PoolSize, ["weight_bits"] = c.Filters.WeightBits, ["activation_bits"] = c.Filters.ActivationBits,
            }).ToArray();
        }

        return architecture;
    }

    /// <summary>The network's layers for --json, and a note when it uses only some of its inputs.</summary>
    private static void Describe(QuantizedMlp network, Dictionary<string, object> counts, TextWriter stderr)
    {
        counts["architecture"] = Architecture(network);
        if (UsedInputs(network) is var (used, inputs) && used < inputs)
        {
            stderr.WriteLine($"inputs: the network uses {used} of its {inputs} inputs; the others showed no association with the label on their own, and the network without them did better on the validation rows.");
            counts["inputs_used"] = used;
        }
    }

    /// <summary>
    /// How many of a dense network's inputs its first layer gives a nonzero weight, and how many it has: fewer when the
    /// trainer's input screen kept a network trained on some inputs only (QatOptions.ScreenInputs). Null for a
    /// convolutional network.
    /// </summary>
    internal static (int Used, int Inputs)? UsedInputs(QuantizedMlp network)
    {
        if (network.Convolutions.Count > 0)
        {
            return null;
        }

        QuantizedLayer first = network.Layers[0];
        int used = Enumerable.Range(0, first.Inputs).Count(j => Enumerable.Range(0, first.Outputs)
            .Any(o => first.HasFloatWeights ? first.FloatWeights[(o * first.Inputs) + j] != 0 : first.WeightCodes[(o * first.Inputs) + j] != 0));
        return (used, first.Inputs);
    }

    /// <summary>The held-out metrics, the trained and kept epochs, the size and the file; with a schema, the JSON line too.</summary>
    private static void Report(TextWriter stdout, CliModelInfo info, Dictionary<string, double> metrics, long bytes, double seconds, QatProgress last, string path, TableSchema? jsonSchema, Dictionary<string, object> counts)
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
            stdout.WriteLine(Json(info.Task, metrics, bytes, seconds, (last.Epoch, last.BestEpoch), jsonSchema, counts));
        }
    }

    internal static string Json(string task, Dictionary<string, double> metrics, long? bytes, double? seconds, (int Trained, int Kept)? epochs = null, TableSchema? schema = null, Dictionary<string, object>? counts = null)
    {
        var payload = new Dictionary<string, object> { ["task"] = task };
        foreach (var c in counts ?? new())
        {
            payload[c.Key] = c.Value;
        }

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
