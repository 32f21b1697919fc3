using System.CommandLine;
using System.Globalization;
using Microsoft.ML;

namespace MlRounding.Cli.Commands;

/// <summary><c>mlround evaluate</c> and <c>mlround predict</c>: load a model written by <c>train</c> and score a CSV.</summary>
internal static class EvaluateCommand
{
    public static Command CreateEvaluate(TextWriter stdout, TextWriter stderr)
    {
        var model = ModelOption();
        var data = new Option<string>("--data") { Required = true, Description = "CSV with the model's feature columns and its label" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object as the last line" };
        var command = new Command("evaluate", "Evaluate a trained model on a CSV.") { model, data, json };
        command.SetAction(result =>
        {
            var ml = new MLContext();
            string path = result.GetValue(model)!;
            var (loaded, info, rows, notes, skipped) = Load(ml, path, result.GetValue(data)!, labelRequired: true);
            int unseen = 0;
            var metrics = Scoring(path, () => TaskPipeline.Evaluate(ml, info.QatTask, loaded, TableRows.ToDataView(ml, rows, info.Table), info.Table.TextLabel, out unseen));
            if (unseen > 0)
            {
                notes.Add($"note: {unseen} of {rows.Count} rows have a label the model never saw in training; they count as wrong.");
            }

            foreach (var m in metrics)
            {
                stdout.WriteLine($"{m.Key}: {m.Value.ToString("0.0000", CultureInfo.InvariantCulture)}");
            }

            if (result.GetValue(json))
            {
                var counts = new Dictionary<string, object> { ["rows"] = rows.Count, ["skipped"] = new Dictionary<string, int> { ["label_missing"] = skipped }, ["unseen_label_rows"] = unseen };
                stdout.WriteLine(TrainCommand.Json(info.Task, metrics, TaskPipeline.ModelBytes(loaded), null, counts: counts));
            }

            notes.ForEach(stderr.WriteLine); // at the end: an error stays one line
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Scores with a loaded model. The data's columns were checked against the model's record before, so a failure here
    /// comes from the model's content (e.g. a damaged file whose entries still load): it names the model file.
    /// </summary>
    internal static T Scoring<T>(string modelPath, Func<T> score)
    {
        try
        {
            return score();
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw CsvRowException.In(e) ?? CliModelInfo.ModelFileError(modelPath, e); // a row's fault, however ML.NET's cursor wrapped it, else the model's
        }
    }

    public static Command CreatePredict(TextWriter stdout, TextWriter stderr)
    {
        var model = ModelOption();
        var data = new Option<string>("--data") { Required = true, Description = "CSV with the model's feature columns" };
        var output = new Option<string>("--out") { Required = true, Description = "Predictions CSV to write" };
        var keep = new Option<string?>("--keep") { Description = "Input columns to copy into the output beside the predictions, comma-separated (e.g. an id)" };
        var command = new Command("predict", "Write a trained model's predictions for a CSV.") { model, data, output, keep };
        command.SetAction(result =>
        {
            var ml = new MLContext();
            string path = result.GetValue(model)!, outPath = result.GetValue(output)!;
            string[] keepNames = result.GetValue(keep)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? Array.Empty<string>();
            var (loaded, info) = CliModelInfo.Load(ml, path);
            var notes = new List<string> { $"task: {info.Task} (the model's)" };
            var rows = TableRows.Stream(result.GetValue(data)!, info.Table, path, keepNames, notes.Add);
            AtomicFile.CheckFolder(outPath);
            int count = 0;
            // Read, scored and written a block at a time: memory does not grow with the file. A row that does not fit
            // fails the command and leaves no output (the file is written under a temporary name).
            AtomicFile.Write(outPath, temp =>
            {
                using var writer = new StreamWriter(temp, append: false, new System.Text.UTF8Encoding(false), 1 << 16);
                count = Scoring(path, () => Predictions.Write(loaded.Transform(TableRows.ToDataView(ml, rows, info.Table, keepNames.Length)), info, writer, keepNames));
            });
            stdout.WriteLine($"wrote {count} predictions to {outPath}");
            notes.ForEach(stderr.WriteLine); // at the end: an error stays one line
            return 0;
        });
        return command;
    }

    private static Option<string> ModelOption() => new("--model") { Required = true, Description = "Model file written by mlround train" };

    /// <summary>The model file, the rows of the data file read by the model's column roles, and the notes to print once the command has worked (the task line first).</summary>
    private static (ITransformer Model, CliModelInfo Info, List<TableRow> Rows, List<string> Notes, int Skipped) Load(MLContext ml, string modelPath, string dataPath, bool labelRequired)
    {
        var (loaded, info) = CliModelInfo.Load(ml, modelPath);
        var notes = new List<string> { $"task: {info.Task} (the model's)" };
        CsvTable table = CsvTable.Read(dataPath, notes: notes.Add, textColumns: info.Table.TextColumns);
        var rows = info.Rows(table, labelRequired, notes.Add, out int skipped);
        return (loaded, info, rows, notes, skipped);
    }
}
