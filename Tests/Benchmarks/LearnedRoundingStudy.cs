using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Benchmarks;

/// <summary>
/// Learned rounding against nearest rounding on the float networks of <see cref="AccuracyStudy"/>'s split
/// (<c>-- learned-study DATASET SPEC SEEDS BITS [FILE] [KEY=VALUE;...]</c>): per seed, the default float network of
/// SPEC (trained once and kept under /tmp for later runs, with its training time), then for each weight width of BITS
/// nearest and learned rounding from the seed's calibration sample of the training rows (no labels), each with the
/// deployed integer model's test accuracy and its time. The last argument sets learned-rounding options
/// (rows, iterations, batch, abits).
/// </summary>
internal static class LearnedRoundingStudy
{
    public const string Header = "dataset,spec,seed,float_test_acc,float_train_seconds,weight_bits,rounding,test_acc,seconds,calibration_rows,iterations,parameter_bytes";

    public static void Run(TextWriter log, string dataset, string spec, IEnumerable<int> seeds, int[] bits, string file, string settings)
    {
        var (trainRows, testRows, d) = AccuracyStudy.Load(dataset);
        if (!File.Exists(file))
        {
            File.WriteAllText(file, Header + Environment.NewLine);
        }

        foreach (int seed in seeds)
        {
            var ml = new MLContext(seed);
            var schema = SchemaDefinition.Create(typeof(AccuracyStudy.Row));
            schema[nameof(AccuracyStudy.Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
            schema[nameof(AccuracyStudy.Row.LabelKey)].ColumnType = new KeyDataViewType(typeof(uint), 10);
            IDataView train = ml.Data.LoadFromEnumerable(trainRows, schema);
            IDataView test = ml.Data.LoadFromEnumerable(testRows, schema);
            int[] labels = testRows.Select(r => (int)r.LabelKey).ToArray();
            var (floatModel, floatSeconds) = FloatModel(ml, dataset, spec, seed, train);
            double floatAccuracy = Accuracy(ml, floatModel, test, labels);
            foreach (int b in bits)
            {
                foreach (var rounding in new[] { PostTrainingRounding.Nearest, PostTrainingRounding.Learned })
                {
                    var options = Options(settings, b, rounding, seed);
                    options.Progress = new LayerLines(log);
                    var watch = Stopwatch.StartNew();
                    var quantized = ml.Model.QuantizeNetwork(floatModel, train, options);
                    double seconds = watch.Elapsed.TotalSeconds;
                    double accuracy = Accuracy(ml, quantized, test, labels);
                    string line = string.Join(',', new object[]
                    {
                        dataset, $"\"{spec}\"", seed, F(floatAccuracy), F(floatSeconds), b, rounding, F(accuracy), F(seconds),
                        options.CalibrationRows, options.Iterations, Network(quantized).ParameterBytes,
                    }.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));
                    File.AppendAllText(file, line + Environment.NewLine);
                    log.WriteLine(line);
                }
            }
        }
    }

    private static LearnedRoundingOptions Options(string settings, int bits, PostTrainingRounding rounding, int seed)
    {
        var o = new LearnedRoundingOptions { WeightBits = bits, Rounding = rounding, Seed = seed };
        foreach (string pair in settings.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, text) = (pair.Split('=')[0], pair.Split('=')[1]);
            int value = int.Parse(text, CultureInfo.InvariantCulture);
            switch (key)
            {
                case "threads": o.NumberOfThreads = value; break;
                case "rows": o.CalibrationRows = value; break;
                case "iterations": o.Iterations = value; break;
                case "batch": o.BatchSize = value; break;
                case "abits": o.ActivationBits = value; break;
                default: throw new ArgumentException($"unknown learned-rounding setting '{key}'");
            }
        }

        return o;
    }

    /// <summary>The float pipeline (normalizer, network) of the spec and seed, trained now or read from /tmp.</summary>
    private static (ITransformer Model, double Seconds) FloatModel(MLContext ml, string dataset, string spec, int seed, IDataView train)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-float-{dataset}-{new string(spec.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray())}-{seed}.zip");
        string timePath = path + ".seconds";
        if (File.Exists(path) && File.Exists(timePath))
        {
            return (ml.Model.Load(path, out _), double.Parse(File.ReadAllText(timePath), CultureInfo.InvariantCulture));
        }

        QatOptions options = AccuracyStudy.Options(spec + ";mode=float", seed);
        var watch = Stopwatch.StartNew();
        var pipeline = ml.Transforms.NormalizeMinMax("Features").Append(ml.MulticlassClassification.Trainers.QuantizationAware(options));
        ITransformer model = pipeline.Fit(train);
        double seconds = watch.Elapsed.TotalSeconds;
        ml.Model.Save(model, train.Schema, path);
        File.WriteAllText(timePath, seconds.ToString(CultureInfo.InvariantCulture));
        return (model, seconds);
    }

    private static QuantizedMlp Network(ITransformer model) =>
        model is IEnumerable<ITransformer> chain ? Network(chain.Last()) : ((ISingleFeaturePredictionTransformer<QatMulticlassModelParameters>)model).Model.Network;

    private static double Accuracy(MLContext ml, ITransformer model, IDataView test, int[] labels)
    {
        IDataView scored = model.Transform(test);
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        return (double)predicted.Where((p, i) => (int)p - 1 == labels[i]).Count() / labels.Length;
    }

    private sealed class LayerLines(TextWriter log) : IProgress<LearnedRoundingProgress>
    {
        public void Report(LearnedRoundingProgress value) => log.WriteLine("  " + value);
    }

    private static string F(double v) => v.ToString("0.#####", CultureInfo.InvariantCulture);
}
