using System.CommandLine;
using System.Globalization;
using Microsoft.ML;
using MlRounding.Onnx;
using MlRounding.Trainers;

namespace MlRounding.Cli.Commands;

/// <summary>
/// <c>mlround quantize</c>: a float network (a model <c>mlround train --mode float</c> wrote, or an ONNX file) becomes an
/// integer model by learned (or nearest) rounding on a CSV of calibration rows; with a label in the CSV, the float and
/// the quantized model's metrics on those rows.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        var o = new QuantizeOptions();
        var command = new Command("quantize", "Quantize a float network (mlround train --mode float, or ONNX) by learned rounding on calibration rows.")
        {
            o.Model, o.Data, o.Output, o.WeightBits, o.ActivationBits, o.Rounding, o.CalibrationRows, o.Iterations, o.Seed, o.Label, o.Task, o.Threads, o.Json,
        };
        command.SetAction(result => Run(result, o, stdout, stderr, cancellation));
        return command;
    }

    private sealed class QuantizeOptions
    {
        public readonly Option<string> Model = new("--model") { Required = true, Description = "The float model: a .zip of mlround train --mode float, or a float .onnx network" };
        public readonly Option<string> Data = new("--data") { Required = true, Description = "Calibration CSV: for a .zip, read as train reads it; for .onnx, every column but the label, in file order, is the network's input" };
        public readonly Option<string> Output = new("--out") { DefaultValueFactory = _ => "quantized.zip", Description = "Model file to write" };
        public readonly Option<string> WeightBits = new("--weight-bits") { DefaultValueFactory = _ => "4", Description = "Bits per weight: one number, or one per weight matrix (convolutions first); each 1, 2..8 or 32" };
        public readonly Option<int> ActivationBits = new("--activation-bits") { DefaultValueFactory = _ => 8, Description = "2..16 or 32" };
        public readonly Option<string> Rounding = new("--rounding") { DefaultValueFactory = _ => "learned", Description = "learned (AdaRound) or nearest" };
        public readonly Option<int> CalibrationRows = new("--calibration-rows") { DefaultValueFactory = _ => 1024, Description = "Most calibration rows used (a seeded sample of a larger file)" };
        public readonly Option<int> Iterations = new("--iterations") { DefaultValueFactory = _ => new LearnedRoundingOptions().Iterations, Description = "Optimization steps of learned rounding per weight matrix" };
        public readonly Option<int> Seed = new("--seed") { DefaultValueFactory = _ => 1, Description = "Seed of the sample and of the optimization" };
        public readonly Option<string?> Label = new("--label") { Description = "ONNX: the label column (default: Label if present, else the last column when the file has one column more than the network's input)" };
        public readonly Option<string?> Task = new("--task") { Description = "ONNX: regression, binary or multiclass (default: multiclass for several outputs, binary for one output and a Sigmoid, else regression)" };
        public readonly Option<int> Threads = TrainingFlags.Threads();
        public readonly Option<bool> Json = new("--json") { Description = "Print one JSON object as the last line" };
    }

    private static int Run(ParseResult result, QuantizeOptions o, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        string output = result.GetValue(o.Output)!;
        AtomicFile.CheckFolder(output);
        LearnedRoundingOptions options = Options(result, o, stderr, cancellation);
        var ml = new MLContext(options.Seed);
        string modelPath = result.GetValue(o.Model)!;
        var notes = new List<string>();
        var (model, info, view, labelled) = modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
            ? OnnxModel(ml, modelPath, result.GetValue(o.Data)!, result.GetValue(o.Label), result.GetValue(o.Task), notes)
            : OurModel(ml, modelPath, result.GetValue(o.Data)!, notes);
        QuantizedMlp network = TaskPipeline.Network(model)!;
        if (network.Convolutions.Select(c => c.Filters).Concat(network.Layers).Any(l => !l.HasFloatWeights) || network.InputGrid is not null)
        {
            throw new ArgumentException($"{modelPath}: the network is already quantized; quantize starts from a float network (mlround train --mode float, or a float ONNX file).");
        }

        stderr.WriteLine($"task: {info.Task}; calibrating on up to {options.CalibrationRows} rows of {result.GetValue(o.Data)}");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        ITransformer quantized = ml.Model.QuantizeNetwork(model, view, options);
        double seconds = watch.Elapsed.TotalSeconds;
        var metrics = new Dictionary<string, double>();
        if (labelled)
        {
            foreach (var (name, value) in TaskPipeline.Evaluate(ml, info.QatTask, quantized, view, info.Table.TextLabel, out _))
            {
                metrics[name] = value;
            }

            foreach (var (name, value) in TaskPipeline.Evaluate(ml, info.QatTask, model, view, info.Table.TextLabel, out _))
            {
                metrics["float_" + name] = value;
            }
        }

        info.Save(ml, quantized, view.Schema, output);
        Report(stdout, result.GetValue(o.Json) ? result.GetValue(o.Rounding) : null, info, metrics, network, TaskPipeline.Network(quantized)!, seconds, output);
        notes.ForEach(stderr.WriteLine);
        return 0;
    }

    /// <summary>The options of learned rounding from the flags; progress lines go to stderr.</summary>
    private static LearnedRoundingOptions Options(ParseResult result, QuantizeOptions o, TextWriter stderr, CancellationToken cancellation)
    {
        var options = new LearnedRoundingOptions
        {
            ActivationBits = result.GetValue(o.ActivationBits),
            Rounding = result.GetValue(o.Rounding) switch
            {
                "learned" => PostTrainingRounding.Learned,
                "nearest" => PostTrainingRounding.Nearest,
                var r => throw new ArgumentException($"--rounding: '{r}' is not learned or nearest."),
            },
            CalibrationRows = result.GetValue(o.CalibrationRows),
            Iterations = result.GetValue(o.Iterations),
            Seed = result.GetValue(o.Seed),
            NumberOfThreads = TrainingFlags.ThreadsOf(result, o.Threads),
            CancellationToken = cancellation,
            Progress = new Progress(stderr),
        };
        SetBits(options, result.GetValue(o.WeightBits)!);
        return options;
    }

    /// <summary>The metrics beside the float model's, the size and the file; with <paramref name="jsonRounding"/>, the JSON line too.</summary>
    private static void Report(TextWriter stdout, string? jsonRounding, CliModelInfo info, Dictionary<string, double> metrics, QuantizedMlp network, QuantizedMlp quantized, double seconds, string output)
    {
        foreach (var m in metrics.Where(m => !m.Key.StartsWith("float_", StringComparison.Ordinal)))
        {
            stdout.WriteLine($"{m.Key}: {F(m.Value)} (float: {F(metrics["float_" + m.Key])}, on the calibration file's rows)");
        }

        stdout.WriteLine($"model_bytes: {quantized.ParameterBytes} (float: {network.FloatParameterBytes})");
        stdout.WriteLine($"saved: {output}");
        if (jsonRounding is not null)
        {
            var counts = new Dictionary<string, object>
            {
                ["rounding"] = jsonRounding,
                ["architecture"] = TrainCommand.Architecture(quantized),
                ["float_model_bytes"] = network.FloatParameterBytes,
                ["quantize_seconds"] = seconds,
            };
            stdout.WriteLine(TrainCommand.Json(info.Task, metrics, quantized.ParameterBytes, null, counts: counts));
        }
    }

    private static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>One width for every matrix, or one per matrix.</summary>
    private static void SetBits(LearnedRoundingOptions options, string text)
    {
        int[] bits = text.Split(',').Select(t => int.TryParse(t.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int b) ? b
            : throw new ArgumentException($"--weight-bits: '{text}' is not a number or a comma-separated list of numbers.")).ToArray();
        if (bits.Length == 1)
        {
            options.WeightBits = bits[0];
        }
        else
        {
            options.LayerWeightBits = bits;
        }
    }

    /// <summary>The rows of the calibration file with their labels when it has the label column (rows whose label is missing are skipped then, with a note).</summary>
    private static (IDataView Rows, bool Labelled) Calibration(MLContext ml, CsvTable table, CliModelInfo info, List<string> notes)
    {
        bool labelled = table.Header.Contains(info.Table.Label);
        var rows = info.Rows(table, labelled, notes.Add);
        return (TableRows.ToDataView(ml, rows, info.Table), labelled);
    }

    /// <summary>A model of mlround train: the calibration CSV read as train read its file.</summary>
    private static (ITransformer Model, CliModelInfo Info, IDataView Rows, bool Labelled) OurModel(MLContext ml, string path, string data, List<string> notes)
    {
        var (model, info) = CliModelInfo.Load(ml, path);
        var (view, labelled) = Calibration(ml, CsvTable.Read(data, notes: notes.Add, textColumns: info.Table.TextColumns), info, notes);
        return (model, info, view, labelled);
    }

    /// <summary>
    /// An ONNX network as a model of ours: every CSV column but the label, in file order, concatenated into its input; for
    /// a multiclass network the label's numbers are class indices (0 is the first output).
    /// </summary>
    private static (ITransformer Model, CliModelInfo Info, IDataView Rows, bool Labelled) OnnxModel(MLContext ml, string path, string data, string? label, string? task, List<string> notes)
    {
        QatTask? chosen = task switch
        {
            null => null,
            "regression" => QatTask.Regression,
            "binary" => QatTask.BinaryClassification,
            "multiclass" => QatTask.MulticlassClassification,
            _ => throw new ArgumentException($"--task: '{task}' is not regression, binary or multiclass."),
        };
        ITransformer network = ml.Model.LoadOnnxNetwork(path, new OnnxNetworkOptions { Task = chosen, FeatureColumnName = "Features" });
        QuantizedMlp read = TaskPipeline.Network(network)!;
        int width = read.FeatureCount;
        CsvTable table = CsvTable.Read(data, notes: notes.Add);
        string[] header = table.Header;
        if (label is not null && Array.IndexOf(header, label) < 0)
        {
            throw new ArgumentException($"--label: data file '{data}' has no column '{label}'.");
        }

        label ??= header.Contains("Label") ? "Label" : header.Length == width + 1 ? header[^1] : null;
        string[] features = header.Where(h => h != label).ToArray();
        if (features.Length != width)
        {
            throw new FormatException($"data file '{data}' has {features.Length} feature columns{(label is null ? "" : $" besides the label '{label}'")}; the ONNX network '{path}' takes {width} inputs.");
        }

        var schema = new TableSchema(label ?? "Label", false, null, features.Select(f => new TableColumn(f, ColumnRole.Numeric, "an ONNX network input")).ToArray(), Array.Empty<string>());
        var info = new CliModelInfo(CliModelInfo.Name(read.Task), schema);
        var (view, labelled) = Calibration(ml, table, info, notes);
        IEstimator<ITransformer> featurize = ml.Transforms.Concatenate("Features", nameof(TableRow.Numeric));
        if (read.Task == QatTask.MulticlassClassification)
        {
            var classes = ml.Data.LoadFromEnumerable(Enumerable.Range(0, read.Classes).Select(i => new ClassIndex { Label = i }));
            featurize = featurize.Append(ml.Transforms.Conversion.MapValueToKey(TaskPipeline.LabelKey, nameof(TableRow.Label), keyData: classes));
        }

        return (featurize.Fit(view).Append(network), info, view, labelled);
    }

    private sealed class ClassIndex
    {
        public float Label { get; set; }
    }

    /// <summary>One line per weight matrix on stderr.</summary>
    private sealed class Progress(TextWriter stderr) : IProgress<LearnedRoundingProgress>
    {
        public void Report(LearnedRoundingProgress value) => stderr.WriteLine(value.ToString());
    }
}
