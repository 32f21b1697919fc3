using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>One row of <c>mlround compare</c>: a training mode at a bit width, its held-out metrics, size and time.</summary>
/// <param name="Mode">float, ptq, learned, qat, or lightgbm for the peer; with --image cnn-float, cnn-ptq, cnn-learned, cnn-qat and mlp-qat (the default MLP).</param>
/// <param name="WeightBits">The weights' bits (32: float).</param>
/// <param name="ActivationBits">The activations' bits (32: float).</param>
/// <param name="Metrics">The held-out metrics.</param>
/// <param name="ModelBytes">The network's parameter bytes (null for the peer, which has no network).</param>
/// <param name="ZipBytes">The bytes of the pipeline saved by <c>mlContext.Model.Save</c>.</param>
/// <param name="TrainSeconds">The time of <c>Fit</c>; for learned rounding, the time of quantizing the float model (whose training is the float row's).</param>
internal sealed record ComparisonRow(string Mode, int WeightBits, int ActivationBits, IReadOnlyDictionary<string, double> Metrics, long? ModelBytes, long ZipBytes, double TrainSeconds);

/// <summary>
/// Trains float, post-training-quantized and quantization-aware MLPs on one split of a table through ordinary ML.NET
/// pipelines (the table's featurization, then the trainer), quantizes the float one by learned rounding on the training
/// rows (no labels used), and measures them on the held-out rows, beside ML.NET's LightGbm with its defaults on the same
/// featurization.
/// </summary>
internal static class Comparison
{
    /// <summary>Trains and evaluates every configuration, each with fresh options from <paramref name="makeOptions"/>.</summary>
    public static IReadOnlyList<ComparisonRow> Run(List<TableRow> train, List<TableRow> test, QatTask task, TableSchema schema, int[] bits, Func<QatOptions> makeOptions, IProgress<string>? progress = null)
    {
        var ml = new MLContext(seed: makeOptions().Seed);
        IDataView trainView = TableRows.ToDataView(ml, train, schema);
        IDataView testView = TableRows.ToDataView(ml, test, schema);
        bool image = makeOptions().ImageShape is not null;
        var configurations = new List<(QatMode Mode, int Weights, int Activations, bool Dense)> { (QatMode.Float, 32, 32, false) };
        foreach (int b in bits)
        {
            configurations.Add((QatMode.PostTraining, b, 8, false));
            configurations.Add((QatMode.QuantizationAware, b, 8, false));
        }

        if (image)
        {
            configurations.Add((QatMode.QuantizationAware, bits[0], 8, true)); // the default MLP on the same pixels, beside the CNNs
        }

        var rows = new List<ComparisonRow>();
        ITransformer? floatModel = null;
        foreach (var (mode, weights, activations, dense) in configurations)
        {
            if (mode == QatMode.QuantizationAware && !dense && floatModel is not null)
            {
                rows.Add(Learned(ml, floatModel, task, schema, trainView, testView, weights, makeOptions(), image, progress));
            }

            QatOptions options = makeOptions();
            string name = (image ? (dense ? "mlp-" : "cnn-") : "") + Name(mode);
            options.ImageShape = dense ? null : options.ImageShape;
            options.Mode = mode;
            options.WeightBits = weights;
            options.ActivationBits = activations;
            var watch = Stopwatch.StartNew();
            ITransformer model = TaskPipeline.Build(ml, task, options, schema, !image && TaskPipeline.UsesBins("auto", schema)).Fit(trainView);
            double seconds = watch.Elapsed.TotalSeconds;
            var metrics = TaskPipeline.Evaluate(ml, task, model, testView, schema.TextLabel, out _);
            rows.Add(new ComparisonRow(name, weights, activations, metrics, TaskPipeline.ModelBytes(model), ZipBytes(ml, model, trainView), seconds));
            floatModel = mode == QatMode.Float ? model : floatModel;
            progress?.Report($"{name} W{weights}A{activations}: {string.Join(", ", metrics.Select(m => $"{m.Key} {m.Value:G4}"))}");
        }

        var peerWatch = Stopwatch.StartNew();
        ITransformer peer;
        try
        {
            peer = TaskPipeline.LightGbm(ml, task, schema).Fit(trainView);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException || e.InnerException is DllNotFoundException or BadImageFormatException)
        {
            progress?.Report($"lightgbm: not available on {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} ({e.GetBaseException().Message}); its row is left out");
            return rows;
        }

        double peerSeconds = peerWatch.Elapsed.TotalSeconds;
        var peerMetrics = TaskPipeline.Evaluate(ml, task, peer, testView, schema.TextLabel, out _);
        rows.Add(new ComparisonRow("lightgbm", 32, 32, peerMetrics, null, ZipBytes(ml, peer, trainView), peerSeconds));
        progress?.Report($"lightgbm: {string.Join(", ", peerMetrics.Select(m => $"{m.Key} {m.Value:G4}"))}");
        return rows;
    }

    /// <summary>The float model quantized to <paramref name="bits"/> by learned rounding on the training rows, its metrics and time.</summary>
    private static ComparisonRow Learned(MLContext ml, ITransformer floatModel, QatTask task, TableSchema schema, IDataView trainView, IDataView testView, int bits, QatOptions options, bool image, IProgress<string>? progress)
    {
        string name = (image ? "cnn-" : "") + "learned";
        var learnedOptions = new LearnedRoundingOptions { WeightBits = bits, ActivationBits = 8, Seed = options.Seed, NumberOfThreads = options.NumberOfThreads, CancellationToken = options.CancellationToken };
        var watch = Stopwatch.StartNew();
        ITransformer model = ml.Model.QuantizeNetwork(floatModel, trainView, learnedOptions);
        double seconds = watch.Elapsed.TotalSeconds;
        var metrics = TaskPipeline.Evaluate(ml, task, model, testView, schema.TextLabel, out _);
        progress?.Report($"{name} W{bits}A8: {string.Join(", ", metrics.Select(m => $"{m.Key} {m.Value:G4}"))}");
        return new ComparisonRow(name, bits, 8, metrics, TaskPipeline.ModelBytes(model), ZipBytes(ml, model, trainView), seconds);
    }

    private static long ZipBytes(MLContext ml, ITransformer model, IDataView data)
    {
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        return stream.Length;
    }

    public static string Name(QatMode mode) => mode switch
    {
        QatMode.Float => "float",
        QatMode.PostTraining => "ptq",
        _ => "qat",
    };
}
