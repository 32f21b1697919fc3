using System.CommandLine;
using System.Globalization;
using Microsoft.ML;

namespace MlRounding.Cli.Commands;

/// <summary><c>mlround evaluate</c> and <c>mlround predict</c>: load a model written by <c>train</c> and score a CSV.</summary>
internal static class EvaluateCommand
{
    public static Command CreateEvaluate(TextWriter stdout)
    {
        var model = new Option<string>("--model") { Required = true, Description = "Model file written by mlround train" };
        var data = new Option<string>("--data") { Required = true, Description = "CSV with the model's feature columns and its label" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object as the last line" };
        var command = new Command("evaluate", "Evaluate a trained model on a CSV.") { model, data, json };
        command.SetAction(result =>
        {
            var ml = new MLContext();
            var (loaded, info) = CliModelInfo.Load(ml, result.GetValue(model)!);
            var rows = info.Rows(CsvTable.Read(result.GetValue(data)!), labelRequired: true);
            var metrics = TaskPipeline.Evaluate(ml, info.QatTask, loaded, TaskPipeline.ToDataView(ml, rows));
            foreach (var m in metrics)
            {
                stdout.WriteLine($"{m.Key}: {m.Value.ToString("0.0000", CultureInfo.InvariantCulture)}");
            }

            if (result.GetValue(json))
            {
                stdout.WriteLine(TrainCommand.Json(info.Task, metrics, TaskPipeline.ModelBytes(loaded), null));
            }

            return 0;
        });
        return command;
    }

    public static Command CreatePredict(TextWriter stdout)
    {
        var model = new Option<string>("--model") { Required = true, Description = "Model file written by mlround train" };
        var data = new Option<string>("--data") { Required = true, Description = "CSV with the model's feature columns" };
        var output = new Option<string>("--out") { Required = true, Description = "Predictions CSV to write" };
        var command = new Command("predict", "Write a trained model's predictions for a CSV.") { model, data, output };
        command.SetAction(result =>
        {
            var ml = new MLContext();
            var (loaded, info) = CliModelInfo.Load(ml, result.GetValue(model)!);
            var rows = info.Rows(CsvTable.Read(result.GetValue(data)!), labelRequired: false);
            var scored = loaded.Transform(TaskPipeline.ToDataView(ml, rows));
            AtomicFile.Write(result.GetValue(output)!, temp =>
            {
                using var writer = new StreamWriter(temp);
                Predictions.Write(scored, info, writer);
            });
            stdout.WriteLine($"wrote {rows.Count} predictions to {result.GetValue(output)}");
            return 0;
        });
        return command;
    }
}
