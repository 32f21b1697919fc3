using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>What <c>mlround train</c> records beside the ML.NET model, as the zip entry <c>MlRounding/cli.json</c> (ML.NET ignores it).</summary>
internal sealed record CliModelInfo(string Task, string Label, string[] Features)
{
    private const string EntryName = "MlRounding/cli.json";

    public QatTask QatTask => Task switch
    {
        "regression" => QatTask.Regression,
        "binary" => QatTask.BinaryClassification,
        _ => QatTask.MulticlassClassification,
    };

    public static string Name(QatTask task) => task switch
    {
        QatTask.Regression => "regression",
        QatTask.BinaryClassification => "binary",
        _ => "multiclass",
    };

    /// <summary>Saves the model and this record to a temporary file, then moves it to <paramref name="path"/>.</summary>
    public void Save(MLContext ml, ITransformer model, DataViewSchema schema, string path) =>
        AtomicFile.Write(path, temp =>
        {
            using (var file = File.Create(temp))
            {
                ml.Model.SaveDeterministic(model, schema, file); // same seed and threads: the same bytes
            }

            using var zip = ZipFile.Open(temp, ZipArchiveMode.Update);
            var info = zip.CreateEntry(EntryName);
            info.LastWriteTime = ModelFiles.EntryTimestamp;
            using var writer = new StreamWriter(info.Open());
            writer.Write(JsonSerializer.Serialize(this));
        });

    /// <summary>Loads a model written by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is not a model written by mlround train.</exception>
    public static (ITransformer Model, CliModelInfo Info) Load(MLContext ml, string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file '{path}' does not exist.", path);
        }

        // One open file: checksums first, then our entry, then ML.NET's loader, all from the same stream.
        using var stream = File.OpenRead(path);
        CliModelInfo? info;
        try
        {
            ModelFiles.Verify(stream); // every entry's checksum, before anything parses it
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var entry = zip.GetEntry(EntryName) ?? throw new FormatException($"'{path}' is not a model written by mlround train (no {EntryName}).");
            using var reader = new StreamReader(entry.Open());
            info = JsonSerializer.Deserialize<CliModelInfo>(reader.ReadToEnd());
        }
        catch (InvalidDataException e)
        {
            throw new FormatException($"'{path}' is not a valid model file: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new FormatException($"'{path}': {EntryName} is corrupt: {e.Message}", e);
        }

        if (info is null || info.Features is null || info.Features.Length == 0)
        {
            throw new FormatException($"'{path}': {EntryName} is incomplete.");
        }

        stream.Position = 0;
        return (ml.Model.Load(stream, out _), info);
    }

    /// <summary>The rows of <paramref name="table"/> with this model's feature columns (by name); the label is optional.</summary>
    public List<Comparison.Row> Rows(CsvTable table, bool labelRequired)
    {
        int[] features = Features.Select(table.ColumnIndex).ToArray();
        int label = Array.IndexOf(table.Header, Label);
        if (label < 0 && labelRequired)
        {
            table.ColumnIndex(Label); // throws naming the column
        }

        return table.Rows.Select(r => new Comparison.Row
        {
            Features = features.Select(i => r[i]).ToArray(),
            Label = label >= 0 ? r[label] : 0,
            BinaryLabel = label >= 0 && r[label] != 0,
        }).ToList();
    }
}
