using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>
/// What <c>mlround train</c> records beside the ML.NET model, as the zip entry <c>MlRounding/cli.json</c> (ML.NET
/// ignores it): the task and the table's column roles, so that <c>evaluate</c>, <c>predict</c> and <c>export</c> read
/// new files as the training file was read. Records of the first development builds (a label and numeric feature names,
/// no schema) are read as a schema of numeric columns.
/// </summary>
internal sealed record CliModelInfo(string Task, TableSchema? Schema = null, string? Label = null, string[]? Features = null)
{
    /// <summary>The file the record was loaded from (not stored), for messages about what the model needs.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? ModelPath { get; init; }

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

    /// <summary>
    /// Loads a model written by <see cref="Save"/>: checksums and loader assemblies first (<c>ModelFiles.Verify</c>),
    /// then our entry, then ML.NET's loader, all from one open file. Whatever a damaged or foreign file makes any of them
    /// throw becomes one <see cref="FormatException"/> "PATH: innermost message" (<see cref="ModelFileError"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is not an intact model written by mlround train.</exception>
    public static (ITransformer Model, CliModelInfo Info) Load(MLContext ml, string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file '{path}' does not exist.", path);
        }

        // ML.NET's readers can loop forever on a damaged entry whose checksum was recomputed (docs/reliability.md):
        // the load runs on a background thread, and a load that outlasts the limit is reported as a bad file.
        var load = System.Threading.Tasks.Task.Factory.StartNew(() => LoadCore(ml, path), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!((IAsyncResult)load).AsyncWaitHandle.WaitOne(LoadTimeout(path))) // Wait() would throw a fault as an AggregateException
        {
            throw new FormatException($"{path}: loading did not finish within {LoadTimeout(path).TotalSeconds:0} s; a damaged entry can make ML.NET's readers loop (set MLROUND_LOAD_TIMEOUT to allow more seconds).");
        }

        return load.GetAwaiter().GetResult(); // the exception itself, not an AggregateException
    }

    /// <summary>60 s plus 10 s per MB of model file, or MLROUND_LOAD_TIMEOUT seconds.</summary>
    private static TimeSpan LoadTimeout(string path) =>
        double.TryParse(Environment.GetEnvironmentVariable("MLROUND_LOAD_TIMEOUT"), System.Globalization.CultureInfo.InvariantCulture, out double seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromSeconds(60 + (10.0 * new FileInfo(path).Length / 1e6));

    private static (ITransformer Model, CliModelInfo Info) LoadCore(MLContext ml, string path)
    {
        using var stream = File.OpenRead(path);
        CliModelInfo info;
        try
        {
            ModelFiles.Verify(stream);
            using (var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true))
            {
                var entry = zip.GetEntry(EntryName) ?? throw new FormatException($"not a model written by mlround train (no {EntryName}).");
                using var reader = new StreamReader(entry.Open());
                info = Checked(JsonSerializer.Deserialize<CliModelInfo>(reader.ReadToEnd())) with { ModelPath = path };
            }

            stream.Position = 0;
            return (ml.Model.Load(stream, out _), info);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw ModelFileError(path, e);
        }
    }

    /// <summary>
    /// A failure caused by a model file's content as one line for the command line: "PATH: message". The message is
    /// that of the zip container's or our own check when one of them raised it (InvalidDataException,
    /// ModelFormatException), else of the innermost exception: ML.NET wraps its loaders' exceptions in
    /// TargetInvocationException and InvalidOperationException, and the innermost says what was wrong.
    /// </summary>
    public static FormatException ModelFileError(string path, Exception e)
    {
        Exception? chosen = null, inner = e;
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            chosen ??= x is InvalidDataException or ModelFormatException ? x : null;
            inner = x;
        }

        return new FormatException($"{path}: {MlroundCli.FirstLine((chosen ?? inner).Message)}", e);
    }

    /// <summary>The column roles (a first-development-build record's numeric features as a schema).</summary>
    public TableSchema Table => Schema ?? new TableSchema(Label!, false, null, Features!.Select(f => new TableColumn(f, ColumnRole.Numeric, "numbers")).ToArray(), Array.Empty<string>());

    private static CliModelInfo Checked(CliModelInfo? info)
    {
        bool schema = info?.Schema is { } s && !string.IsNullOrEmpty(s.Label) && s.Columns is { } columns && columns.All(c => c is not null && !string.IsNullOrEmpty(c.Name) && Enum.IsDefined(c.Role))
            && s.MissingIndicators is { } gaps && gaps.All(g => columns.Any(c => c.Name == g && c.Role == ColumnRole.Numeric)) && (s.Classes is null || (s.TextLabel && s.Classes.Length == 2));
        bool legacy = info is { Schema: null, Label.Length: > 0, Features: { Length: > 0 } f } && f.All(n => !string.IsNullOrEmpty(n));
        if (info is null || info.Task is not ("regression" or "binary" or "multiclass") || !(schema || legacy))
        {
            throw new FormatException($"{EntryName} is incomplete: it needs a task (regression, binary or multiclass), the label and the columns' roles.");
        }

        return info;
    }

    /// <summary>The rows of <paramref name="table"/> read as the training file was; notes (skipped rows, extra columns) go to <paramref name="notes"/>.</summary>
    public List<TableRow> Rows(CsvTable table, bool labelRequired, Action<string> notes) => Rows(table, labelRequired, notes, out _);

    /// <summary>As <see cref="Rows(CsvTable, bool, Action{string})"/>, with the number of rows skipped because their label is missing.</summary>
    public List<TableRow> Rows(CsvTable table, bool labelRequired, Action<string> notes, out int skipped) => TableRows.Read(table, Table, labelRequired, notes, out skipped, ModelPath ?? "the model");
}
