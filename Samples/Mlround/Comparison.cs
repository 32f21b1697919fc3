using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>One row of <c>mlround compare</c>: a training mode at a bit width, its held-out metrics, size and time.</summary>
internal sealed record ComparisonRow(string Mode, int WeightBits, int ActivationBits, IReadOnlyDictionary<string, double> Metrics, long ModelBytes, double TrainSeconds);

/// <summary>
/// Trains float, post-training-quantized and quantization-aware MLPs on one split of a numeric CSV through ordinary
/// ML.NET pipelines (normalization, then the trainer) and measures them on the held-out rows.
/// </summary>
internal static class Comparison
{
    /// <summary>The task inferred from the label: integers with 2 values are binary, up to 50 values multiclass, else regression.</summary>
    public static QatTask InferTask(IEnumerable<float> labels)
    {
        var distinct = labels.Distinct().ToList();
        bool integers = distinct.All(v => v == MathF.Round(v));
        return integers && distinct.Count == 2 ? QatTask.BinaryClassification
            : integers && distinct.Count <= 50 ? QatTask.MulticlassClassification
            : QatTask.Regression;
    }

    public sealed class Row
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public float Label { get; set; }

        public bool BinaryLabel { get; set; }
    }

    /// <summary>The fixed split: rows whose index is a multiple of 5 are held out (20 %), the others train.</summary>
    public static (List<Row> Train, List<Row> Test) Split(CsvTable table, int labelIndex)
    {
        var rows = table.Rows.Select(r => new Row
        {
            Features = r.Where((_, c) => c != labelIndex).ToArray(),
            Label = r[labelIndex],
            BinaryLabel = r[labelIndex] != 0,
        }).ToList();
        return (rows.Where((_, i) => i % 5 != 0).ToList(), rows.Where((_, i) => i % 5 == 0).ToList());
    }

    /// <summary>Trains and evaluates every configuration, each with fresh options from <paramref name="makeOptions"/>.</summary>
    public static IReadOnlyList<ComparisonRow> Run(List<Row> train, List<Row> test, QatTask task, int[] bits, Func<QatOptions> makeOptions, IProgress<string>? progress = null)
    {
        var ml = new MLContext(seed: makeOptions().Seed);
        IDataView trainView = TaskPipeline.ToDataView(ml, train);
        IDataView testView = TaskPipeline.ToDataView(ml, test);
        var configurations = new List<(QatMode Mode, int Weights, int Activations)> { (QatMode.Float, 32, 32) };
        foreach (int b in bits)
        {
            configurations.Add((QatMode.PostTraining, b, 8));
            configurations.Add((QatMode.QuantizationAware, b, 8));
        }

        var rows = new List<ComparisonRow>();
        foreach (var (mode, weights, activations) in configurations)
        {
            QatOptions options = makeOptions();
            options.Mode = mode;
            options.WeightBits = weights;
            options.ActivationBits = activations;
            var watch = Stopwatch.StartNew();
            ITransformer model = TaskPipeline.Build(ml, task, options).Fit(trainView);
            double seconds = watch.Elapsed.TotalSeconds;
            var metrics = TaskPipeline.Evaluate(ml, task, model, testView);
            rows.Add(new ComparisonRow(Name(mode), weights, activations, metrics, TaskPipeline.ModelBytes(model), seconds));
            progress?.Report($"{Name(mode)} W{weights}A{activations}: {string.Join(", ", metrics.Select(m => $"{m.Key} {m.Value:G4}"))}");
        }

        return rows;
    }

    public static string Name(QatMode mode) => mode switch
    {
        QatMode.Float => "float",
        QatMode.PostTraining => "ptq",
        _ => "qat",
    };
}
