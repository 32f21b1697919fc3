using System.CommandLine;
using Microsoft.ML;
using MlRounding.Trainers;
using MlRounding.Onnx;

namespace MlRounding.Cli.Commands;

/// <summary><c>mlround export</c>: a model written by <c>train</c> as ONNX (the whole scoring pipeline), and optionally its network as safetensors.</summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new Option<string>("--model") { Required = true, Description = "Model file written by mlround train" };
        var output = new Option<string>("--out") { Required = true, Description = "ONNX file to write (inputs: 'Numeric', 'Gappy', 'Categorical' as the model uses them; see docs/cli.md)" };
        var safetensors = new Option<string?>("--safetensors") { Description = "Also write the trained weights and quantization parameters as safetensors" };
        var weights = new Option<string>("--onnx-weights")
        {
            DefaultValueFactory = _ => "packed",
            Description = "packed (INT2/INT4 weight codes, opset 25/21), int4 (opset 21) or int8 (opset 13; what ML.NET's ApplyOnnxModel reads)",
        };
        var command = new Command("export", "Export a trained model to ONNX (and safetensors).") { model, output, safetensors, weights };
        command.SetAction(result =>
        {
            var storage = Storage(result.GetValue(weights)!);
            var ml = new MLContext();
            string modelPath = result.GetValue(model)!;
            var (loaded, info) = CliModelInfo.Load(ml, modelPath);
            string onnx = result.GetValue(output)!;
            AtomicFile.CheckFolder(onnx);
            string? weightsPath = result.GetValue(safetensors);
            QuantizedMlp? network = null;
            if (info.Table.TextFeatures.Length > 0)
            {
                // FeaturizeText has no ONNX form here: say so by the columns the user named, before the library's own refusal.
                throw new NotSupportedException($"{modelPath}: its free-text columns ({string.Join(", ", info.Table.TextFeatures.Select(c => $"'{c}'"))}, featurized by FeaturizeText with --text) cannot be exported to ONNX; train without --text to export.");
            }

            if (weightsPath is not null)
            {
                AtomicFile.CheckFolder(weightsPath);
                network = TaskPipeline.Network(loaded) ?? throw new FormatException($"{modelPath}: holds no quantization-aware network to write as safetensors.");
            }

            // Both files are built in memory before either is written: a failure leaves neither.
            TableSchema table = info.Table;
            var schema = TableRows.ToDataView(ml, Array.Empty<TableRow>(), table).Schema;
            byte[] onnxBytes = EvaluateCommand.Scoring(modelPath, () =>
            {
                using var buffer = new MemoryStream();
                ml.Model.ExportToOnnx(loaded, schema, buffer, new OnnxExportOptions { WeightStorage = storage });
                return buffer.ToArray();
            });
            if (network is not null && network.Roundings.Count > 0)
            {
                throw new NotSupportedException($"{modelPath}: its network has extra rounding layers, which safetensors cannot hold; export it to ONNX alone.");
            }

            AtomicFile.Write(onnx, (Stream stream) => stream.Write(onnxBytes));
            stdout.WriteLine($"wrote {onnx} (inputs: {Inputs(table)})");
            if (network is not null)
            {
                network.SaveSafetensors(weightsPath!);
                stdout.WriteLine($"wrote {weightsPath}");
            }

            return 0;
        });
        return command;
    }

    private static OnnxWeightStorage Storage(string name) => name switch
    {
        "packed" => OnnxWeightStorage.Packed,
        "int4" => OnnxWeightStorage.Int4,
        "int8" => OnnxWeightStorage.Int8,
        var other => throw new ArgumentOutOfRangeException("onnx-weights", $"--onnx-weights: '{other}' is not packed, int4 or int8."),
    };

    /// <summary>The ONNX graph's inputs and the CSV columns they hold, in order.</summary>
    internal static string Inputs(TableSchema table)
    {
        var inputs = new List<string>();
        if (table.NumericFeatures.Length > 0)
        {
            inputs.Add($"'Numeric' = {string.Join(", ", table.NumericFeatures)}");
        }

        if (table.MissingIndicators.Length > 0)
        {
            inputs.Add($"'Gappy' = {string.Join(", ", table.MissingIndicators)}");
        }

        if (table.CategoricalFeatures.Length > 0)
        {
            inputs.Add($"'Categorical' = {string.Join(", ", table.CategoricalFeatures)}");
        }

        return string.Join("; ", inputs);
    }
}
