using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlRounding.Cli;

namespace MlRounding.Benchmarks;

/// <summary>
/// Scoring with the models `mlround train` itself writes (its featurization in front of the network), beside ONNX
/// Runtime on each model's own export in the same process: Fashion-MNIST's 784 pixel columns (6,000 training rows,
/// --weight-bits 4, 2 epochs; as a dense network, and as the default CNN with --image 28x28), and two real-world tables with the defaults and --weight-bits 4: Vega's cars
/// (regression; numbers with missing cells, imputed from the other numbers, a date, a categorical, quantile bins) and Seattle weather
/// (multiclass; a date, quantile bins). 10,000 rows through ML.NET (<c>Transform</c> + one cursor over cached rows) and
/// ONNX Runtime (one call); 2,000 rows one at a time through <c>PredictionEngine</c> and ONNX Runtime. The small
/// tables' rows are repeated to 10,000. Needs Fashion-MNIST for the first two (apt-get install dataset-fashion-mnist).
/// </summary>
[Config(typeof(BenchmarkConfigs.Scoring))]
public class CliScoringBenchmarks
{
    private const int Rows = 10_000;
    private const int RowByRow = 2_000;
    private readonly MLContext _ml = new(seed: 1);
    private ITransformer _model = null!;
    private CliModelInfo _info = null!;
    private IDataView _rows = null!;
    private List<TableRow> _list = null!;
    private InferenceSession _onnx = null!;
    private Func<float> _predict = null!;
    private Inputs _batch = null!;
    private Inputs[] _single = Array.Empty<Inputs>();

    /// <summary>Gets or sets the table: fashion, fashion-cnn (the same pixels as an image), cars or seattle.</summary>
    [Params("fashion", "fashion-cnn", "cars", "seattle")]
    public string Table { get; set; } = "fashion";

    [GlobalSetup]
    public void Setup()
    {
        var (model, data) = CliModels.Trained(Table);
        (_model, _info) = CliModelInfo.Load(_ml, model);
        var read = _info.Rows(CsvTable.Read(data, textColumns: _info.Table.TextColumns), labelRequired: false, _ => { });
        _list = Enumerable.Range(0, Rows).Select(i => read[i % read.Count]).ToList();
        _rows = _ml.Data.Cache(TableRows.ToDataView(_ml, _list, _info.Table));
        using (var buffer = new MemoryStream())
        {
            MlRounding.Onnx.OnnxExport.ExportToOnnx(_ml.Model, _model, TableRows.ToDataView(_ml, Array.Empty<TableRow>(), _info.Table).Schema, buffer);
            _onnx = new InferenceSession(buffer.ToArray());
        }

        _predict = _info.QatTask == QatTask.Regression ? Engine<ScalarScore>(s => s.Score) : Engine<VectorScore>(s => s.Score[0]);
        // The peer's inputs are flattened here, as ML.NET's rows are cached: the timed calls only wrap them in tensors.
        _batch = new Inputs(_list);
        _single = Enumerable.Range(0, RowByRow).Select(i => new Inputs(_list.GetRange(i, 1))).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _onnx.Dispose();

    [Benchmark(Baseline = true, Description = "ML.NET Transform + one cursor (10,000 rows)")]
    public float MlNetCursor()
    {
        IDataView scored = _model.Transform(_rows);
        using var cursor = scored.GetRowCursor(new[] { scored.Schema["Score"] });
        return SumFirstScores(scored, cursor);
    }

    /// <summary>
    /// The same rows through one unsplit cursor (<c>GetRowCursorSet(columns, 1)</c>, as <c>mlround predict</c> reads
    /// them): <c>GetRowCursor</c> hands out ML.NET's split cursor, which scores on two threads and consolidates their
    /// rows in batches, a hand-over that costs more than cheap rows do.
    /// </summary>
    [Benchmark(Description = "ML.NET Transform + one unsplit cursor (10,000 rows)")]
    public float MlNetUnsplitCursor()
    {
        IDataView scored = _model.Transform(_rows);
        using var cursor = scored.GetRowCursorSet(new[] { scored.Schema["Score"] }, 1)[0];
        return SumFirstScores(scored, cursor);
    }

    private static float SumFirstScores(IDataView scored, DataViewRowCursor cursor)
    {
        var column = scored.Schema["Score"];
        float sum = 0;
        if (column.Type is VectorDataViewType)
        {
            var get = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> v = default;
            while (cursor.MoveNext())
            {
                get(ref v);
                sum += v.GetValues()[0];
            }
        }
        else
        {
            var get = cursor.GetGetter<float>(column);
            float v = 0;
            while (cursor.MoveNext())
            {
                get(ref v);
                sum += v;
            }
        }

        return sum;
    }

    [Benchmark(Description = "ML.NET PredictionEngine, row by row (2,000 rows)")]
    public float MlNetPredictionEngine() => _predict();

    [Benchmark(Description = "ONNX Runtime, the model's export, one call (10,000 rows)")]
    public float OnnxBatched() => Score(_batch);

    [Benchmark(Description = "ONNX Runtime, the model's export, row by row (2,000 rows)")]
    public float OnnxRowByRow()
    {
        float sum = 0;
        for (int i = 0; i < RowByRow; i++)
        {
            sum += Score(_single[i]);
        }

        return sum;
    }

    private float Score(Inputs rows)
    {
        var inputs = new List<NamedOnnxValue>();
        foreach (var (name, meta) in _onnx.InputMetadata)
        {
            int width = meta.Dimensions[1];
            inputs.Add(name switch
            {
                nameof(TableRow.Numeric) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(rows.Numeric, new[] { rows.Count, width })),
                nameof(TableRow.Gappy) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(rows.Gappy, new[] { rows.Count, width })),
                nameof(TableRow.Categorical) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<string>(rows.Categorical, new[] { rows.Count, width })),
                _ => throw new InvalidOperationException($"unexpected graph input '{name}'"),
            });
        }

        using var results = _onnx.Run(inputs);
        return results.First(r => r.Name == "Score").AsTensor<float>().GetValue(0);
    }

    /// <summary>Rows as the exported graph's inputs take them: each role's values, row-major.</summary>
    private sealed class Inputs(List<TableRow> rows)
    {
        public int Count { get; } = rows.Count;

        public float[] Numeric { get; } = rows.SelectMany(r => r.Numeric).ToArray();

        public float[] Gappy { get; } = rows.SelectMany(r => r.Gappy).ToArray();

        public string[] Categorical { get; } = rows.SelectMany(r => r.Categorical).ToArray();
    }

    private Func<float> Engine<TScore>(Func<TScore, float> first)
        where TScore : class, new()
    {
        var engine = _ml.Model.CreatePredictionEngine<TableRow, TScore>(_model, inputSchemaDefinition: TableRows.Definition(_info.Table));
        var prediction = new TScore();
        return () =>
        {
            float sum = 0;
            for (int i = 0; i < RowByRow; i++)
            {
                engine.Predict(_list[i], ref prediction);
                sum += first(prediction);
            }

            return sum;
        };
    }

    public sealed class ScalarScore
    {
        public float Score { get; set; }
    }

    public sealed class VectorScore
    {
        public float[] Score { get; set; } = Array.Empty<float>();
    }
}

/// <summary>The models `mlround train` writes for the benchmarks, trained once by the command line itself (its own process) and kept in the temporary folder.</summary>
internal static class CliModels
{
    /// <summary>The model file of <paramref name="table"/> and the CSV to score (the test rows for Fashion-MNIST, the table itself otherwise).</summary>
    public static (string Model, string Data) Trained(string table)
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlrounding-benchmarks", "cli");
        Directory.CreateDirectory(folder);
        string model = Path.Combine(folder, $"{table}-w4.zip");
        string bundled = Path.Combine(AppContext.BaseDirectory, "data");
        var (train, data, flags) = table switch
        {
            "fashion" => (FashionCsv(folder, train: true), FashionCsv(folder, train: false), new[] { "--label", "Label", "--epochs", "2" }),
            "fashion-cnn" => (FashionCsv(folder, train: true), FashionCsv(folder, train: false), new[] { "--label", "Label", "--epochs", "2", "--image", "28x28" }),
            "cars" => (Path.Combine(bundled, "cars.csv"), Path.Combine(bundled, "cars.csv"), new[] { "--label", "Miles_per_Gallon" }),
            "seattle" => (Path.Combine(bundled, "seattle-weather.csv"), Path.Combine(bundled, "seattle-weather.csv"), new[] { "--label", "weather" }),
            _ => throw new ArgumentOutOfRangeException(nameof(table), table, "fashion, fashion-cnn, cars or seattle"),
        };
        if (!File.Exists(model))
        {
            // In a process of its own, as a user runs it: training in the measuring process leaves TorchSharp objects to
            // the finalizer thread during the measurements.
            var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "mlround.dll"), "train", "--data", train, "--weight-bits", "4", "--out", model }.Concat(flags))
            {
                start.ArgumentList.Add(arg);
            }

            using var process = System.Diagnostics.Process.Start(start)!;
            process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"mlround train on {table} failed: {stderr}");
            }
        }

        return (model, data);
    }

    // 6,000 training rows or the 10,000 test rows of Fashion-MNIST as the CSV the command line reads (p0..p783, Label).
    private static string FashionCsv(string folder, bool train)
    {
        if (!File.Exists(Path.Combine(folder, "fashion-mnist-test.csv")))
        {
            FashionMnist.WriteCsv(folder, TextWriter.Null);
        }

        string whole = Path.Combine(folder, train ? "fashion-mnist-train.csv" : "fashion-mnist-test.csv");
        string path = train ? Path.Combine(folder, "fashion-mnist-train-6000.csv") : whole;
        if (!File.Exists(path))
        {
            File.WriteAllLines(path, File.ReadLines(whole).Take(6001));
        }

        return path;
    }
}
