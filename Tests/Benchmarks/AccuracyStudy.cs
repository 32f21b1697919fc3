using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Onnx;
using MlRounding.Trainers;

namespace MlRounding.Benchmarks;

/// <summary>
/// The accuracy study behind the trainer's defaults and the results tables (<c>-- study DATASET SPEC SEEDS [FILE]</c>):
/// trains one configuration through the public trainer (<c>QuantizationAware</c>) on Fashion-MNIST (60,000 / 10,000) or
/// the bundled digits (the fixed split), once per seed, and appends one CSV line per run to FILE: the kept and trained
/// epochs, the validation accuracy of the kept model (what the defaults are chosen on), its test accuracy, the test
/// accuracy at the epoch with the best validation accuracy, the model's parameter and ONNX bytes, and the time per
/// quantized and per float epoch. SPEC is key=value pairs separated by ';' (see <see cref="Options"/>); keys left out
/// keep the trainer's defaults. Three keys belong to the study: <c>holdout=F</c> (a fixed fraction of the training rows
/// kept from the trainer, the deployed model's accuracy on them in the last column), <c>timing=1</c> (no per-epoch
/// test scoring) and <c>minmax=0</c> (no NormalizeMinMax in front of a float network). Quantized networks take the raw
/// features (their input grid normalizes them); float ones get NormalizeMinMax first, as `mlround train` does.
/// </summary>
internal static class AccuracyStudy
{
    public const string Header = "dataset,spec,seed,mode,hidden,weight_bits,epochs_trained,best_epoch,val_acc,test_acc,best_val_acc_epoch,test_acc_at_best_val_acc,model_bytes,onnx_bytes,train_seconds,seconds_per_quantized_epoch,seconds_per_float_epoch,seconds_before_first_epoch,holdout_acc";

    public sealed class Row
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        /// <summary>Gets or sets the class, 0-based: ML.NET's LoadFromEnumerable stores it as the key class + 1.</summary>
        public uint LabelKey { get; set; }
    }

    public static void Run(TextWriter log, string dataset, string spec, IEnumerable<int> seeds, string file)
    {
        var (train, test, features) = Load(dataset);
        if (!File.Exists(file))
        {
            File.WriteAllText(file, Header + Environment.NewLine);
        }

        foreach (int seed in seeds)
        {
            string line = RunOne(dataset, spec, seed, train, test, features);
            File.AppendAllText(file, line + Environment.NewLine);
            log.WriteLine(line);
        }
    }

    /// <summary>The training and test rows (raw features) and the feature count.</summary>
    public static (List<Row> Train, List<Row> Test, int Features) Load(string dataset)
    {
        if (dataset == "fashion")
        {
            var (pixels, labels) = FashionMnist.Load(train: true);
            var (testPixels, testLabels) = FashionMnist.Load(train: false);
            return (Rows(pixels, labels, 784), Rows(testPixels, testLabels, 784), 784);
        }

        if (dataset == "digits")
        {
            string[] lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"));
            var all = lines.Skip(1).Select(l => l.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
            List<Row> Take(bool testRows) => all.Where((_, i) => (i % 5 == 0) == testRows).Select(v => new Row { Features = v[..64], LabelKey = (uint)v[64] }).ToList();
            return (Take(false), Take(true), 64);
        }

        throw new ArgumentException($"unknown data set '{dataset}' (fashion or digits)", nameof(dataset));
    }

    private static List<Row> Rows(float[] pixels, float[] labels, int d) =>
        Enumerable.Range(0, labels.Length).Select(i => new Row { Features = pixels.AsSpan(i * d, d).ToArray(), LabelKey = (uint)labels[i] }).ToList();

    private static string RunOne(string dataset, string spec, int seed, List<Row> trainRows, List<Row> testRows, int d)
    {
        // holdout=F keeps a fixed fraction F of the training rows (the same rows for every seed and spec) away from the
        // trainer and reports the deployed model's accuracy on them: settings that change the trainer's own validation
        // rows (valfrac) are compared there, never on the test rows.
        // timing=1 leaves out the per-epoch test scoring, so that seconds per epoch time the training alone.
        var (holdoutText, withoutHoldout) = StudyKey(spec, "holdout");
        var (timing, withoutTiming) = StudyKey(withoutHoldout, "timing");
        var (minMax, trainerSpec) = StudyKey(withoutTiming, "minmax");
        double holdout = holdoutText is null ? 0 : double.Parse(holdoutText, CultureInfo.InvariantCulture);
        List<Row> held = new();
        if (holdout > 0)
        {
            int[] order = Enumerable.Range(0, trainRows.Count).ToArray();
            new Random(20261202).Shuffle(order);
            int n = (int)Math.Round(trainRows.Count * holdout);
            held = order.Take(n).Select(i => trainRows[i]).ToList();
            trainRows = order.Skip(n).Select(i => trainRows[i]).ToList();
        }

        var ml = new MLContext(seed);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        schema[nameof(Row.LabelKey)].ColumnType = new KeyDataViewType(typeof(uint), 10);
        IDataView train = ml.Data.LoadFromEnumerable(trainRows, schema);
        IDataView test = ml.Data.LoadFromEnumerable(testRows, schema);
        QatOptions options = Options(trainerSpec, seed);
        ITransformer? normalizer = null;
        if ((options.Mode == QatMode.Float || options.InputBits == 32) && minMax != "0")
        {
            normalizer = ml.Transforms.NormalizeMinMax("Features").Fit(train);
            train = ml.Data.Cache(normalizer.Transform(train));
            test = normalizer.Transform(test);
        }

        float[] testFeatures = test.GetColumn<float[]>("Features").SelectMany(r => r).ToArray();
        IDataView heldView = ml.Data.LoadFromEnumerable(held, schema);
        float[] heldFeatures = (normalizer?.Transform(heldView) ?? heldView).GetColumn<float[]>("Features").SelectMany(r => r).ToArray();
        int[] heldLabels = held.Select(r => (int)r.LabelKey).ToArray();
        int[] testLabels = testRows.Select(r => (int)r.LabelKey).ToArray(); // LoadFromEnumerable reads a key property as 0-based
        var epochTimes = new List<(int Epoch, double Seconds)>();
        var reports = new List<QatProgress>();
        var testAccuracy = new Dictionary<int, double>();
        var watch = Stopwatch.StartNew();
        double last = 0;
        options.Progress = new Progress(p =>
        {
            double now = watch.Elapsed.TotalSeconds;
            epochTimes.Add((p.Epoch, now - last));
            last = now;
            reports.Add(p);
        });
        if (timing is null)
        {
            options.EpochModel = (epoch, model) => testAccuracy[epoch] = Accuracy(model, testFeatures, testLabels);
        }
        var trainer = ml.MulticlassClassification.Trainers.QuantizationAware(options);
        var fitted = trainer.Fit(train);
        double seconds = watch.Elapsed.TotalSeconds;
        QuantizedMlp network = fitted.Model.Network;
        double accuracy = Accuracy(network, testFeatures, testLabels);
        long onnxBytes;
        using (var stream = new MemoryStream())
        {
            ITransformer whole = normalizer is null ? fitted : normalizer.Append(fitted);
            try
            {
                ml.Model.ExportToOnnx(whole, ml.Data.LoadFromEnumerable(trainRows.Take(1), schema).Schema, stream);
                onnxBytes = stream.Length;
            }
            catch (NotSupportedException)
            {
                onnxBytes = -1;
            }
        }

        QatProgress kept = reports.FirstOrDefault(r => r.Epoch == reports[^1].BestEpoch);
        int warmup = options.Mode == QatMode.QuantizationAware ? options.WarmupEpochs : 0;
        var quantized = reports.Where(r => r.Epoch > warmup).ToList();
        int bestAccuracyEpoch = quantized.Count == 0 ? 0 : quantized.OrderByDescending(r => r.ValidationMetric).ThenBy(r => r.Epoch).First().Epoch;
        // The first report's time includes a teacher's training and the reading of the rows: reported apart.
        double firstEpoch = epochTimes.Count > 1 ? epochTimes.Skip(1).Average(e => e.Seconds) : epochTimes[0].Seconds;
        double before = epochTimes[0].Seconds - firstEpoch;
        double perQuantized = Mean(epochTimes.Skip(1).Where(e => e.Epoch > warmup).Select(e => e.Seconds));
        double perFloat = Mean(epochTimes.Skip(1).Where(e => e.Epoch <= warmup).Select(e => e.Seconds));
        string bits = options.LayerWeightBits is { } l ? string.Join("-", l) : options.Mode == QatMode.Float ? "32" : options.WeightBits.ToString(CultureInfo.InvariantCulture);
        return string.Join(',', new object[]
        {
            dataset, $"\"{spec}\"", seed, options.Mode, string.Join("-", options.HiddenLayers), bits, reports.Count, reports[^1].BestEpoch,
            F(kept.ValidationMetric), F(accuracy), bestAccuracyEpoch, F(testAccuracy.GetValueOrDefault(bestAccuracyEpoch, double.NaN)),
            network.ParameterBytes, onnxBytes, F(seconds), F(perQuantized), F(perFloat), F(Math.Max(0, before)),
            F(held.Count == 0 ? double.NaN : Accuracy(network, heldFeatures, heldLabels)),
        }.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));
    }

    /// <summary>The value of a study key (not a trainer option) in a spec, or null, and the spec without it.</summary>
    private static (string? Value, string Others) StudyKey(string spec, string key)
    {
        var pairs = spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        string? pair = pairs.FirstOrDefault(p => p.StartsWith(key + "=", StringComparison.Ordinal));
        return pair is null ? (null, spec) : (pair[(key.Length + 1)..], string.Join(';', pairs.Where(p => p != pair)));
    }

    private static double Mean(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? double.NaN : list.Average();
    }

    private static string F(double v) => v.ToString("0.#####", CultureInfo.InvariantCulture);

    public static double Accuracy(QuantizedMlp network, float[] features, int[] labels)
    {
        var outputs = new float[labels.Length * network.OutputCount];
        network.ForwardBatch(features, outputs);
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            correct += System.Numerics.Tensors.TensorPrimitives.IndexOfMax(outputs.AsSpan(i * network.OutputCount, network.OutputCount)) == labels[i] ? 1 : 0;
        }

        return (double)correct / labels.Length;
    }

    /// <summary>
    /// The trainer's options from a spec: mode (qat, ptq, float), hidden (e.g. 256,128), bits (one number, or one per
    /// layer: 2,8,8), abits, inbits, gradient (lsq, ste), epochs, lr, batch, schedule (constant, cosine), warmup, distill
    /// (the weight), temp, teacher (hidden sizes), tepochs, patience, valfrac, wd; image (HxW or HxWxC, a convolutional
    /// network), conv (the blocks' channels), kernel, threads (LibTorch's, 2 by default here).
    /// </summary>
    public static QatOptions Options(string spec, int seed)
    {
        var o = new QatOptions { Seed = seed, NumberOfThreads = 2, LabelColumnName = nameof(Row.LabelKey) };
        foreach (string pair in spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = pair.Split('=', 2);
            string key = kv[0], value = kv.Length > 1 ? kv[1] : "";
            int[] Ints() => value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            double D() => double.Parse(value, CultureInfo.InvariantCulture);
            switch (key)
            {
                case "mode": o.Mode = value switch { "float" => QatMode.Float, "ptq" => QatMode.PostTraining, _ => QatMode.QuantizationAware }; break;
                case "hidden": o.HiddenLayers = Ints(); break;
                case "bits":
                    int[] b = Ints();
                    if (b.Length == 1) { o.WeightBits = b[0]; } else { o.LayerWeightBits = b; }
                    break;
                case "abits": o.ActivationBits = Ints()[0]; break;
                case "inbits": o.InputBits = Ints()[0]; break;
                case "gradient": o.Quantizer = value == "ste" ? QatQuantizer.StraightThrough : QatQuantizer.LearnedStepSize; break;
                case "epochs": o.MaxEpoch = Ints()[0]; break;
                case "lr": o.LearningRate = D(); break;
                case "batch": o.BatchSize = Ints()[0]; break;
                case "schedule": o.LearningRateSchedule = value == "cosine" ? LearningRateSchedule.Cosine : LearningRateSchedule.Constant; break;
                case "warmup": o.WarmupEpochs = Ints()[0]; break;
                case "distill": o.DistillationWeight = D(); break;
                case "temp": o.DistillationTemperature = D(); break;
                case "teacher": o.TeacherHiddenLayers = Ints(); break;
                case "tepochs": o.TeacherEpochs = Ints()[0]; break;
                case "patience": o.EarlyStoppingPatience = Ints()[0]; break;
                case "valfrac": o.ValidationFraction = D(); break;
                case "wd": o.WeightDecay = D(); break;
                case "image": o.ImageShape = Image(value); break;
                case "conv": o.ConvolutionChannels = Ints(); break;
                case "kernel": o.ConvolutionKernelSize = Ints()[0]; break;
                case "threads": o.NumberOfThreads = Ints()[0]; break;
                default: throw new ArgumentException($"unknown spec key '{key}'", nameof(spec));
            }
        }

        if (o.Mode == QatMode.Float)
        {
            o.WeightBits = o.ActivationBits = 32;
            o.LayerWeightBits = null;
        }

        return o;
    }

    /// <summary>An image shape from "HxW" (one channel) or "HxWxC".</summary>
    private static ImageShape Image(string text)
    {
        int[] sides = text.Split('x').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return new ImageShape(sides.Length > 2 ? sides[2] : 1, sides[0], sides[1]);
    }

    private sealed class Progress(Action<QatProgress> report) : IProgress<QatProgress>
    {
        public void Report(QatProgress value) => report(value);
    }
}

/// <summary>ML.NET's own trainers on the same split as <see cref="AccuracyStudy"/> (<c>-- study-peers DATASET [FILE]</c>): LightGbm (defaults) and SdcaMaximumEntropy (after NormalizeMinMax), with their saved model's bytes.</summary>
internal static class PeerStudy
{
    public static void Run(TextWriter log, string dataset, string file)
    {
        var (trainRows, testRows, d) = AccuracyStudy.Load(dataset);
        var ml = new MLContext(1);
        var schema = SchemaDefinition.Create(typeof(AccuracyStudy.Row));
        schema[nameof(AccuracyStudy.Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        schema[nameof(AccuracyStudy.Row.LabelKey)].ColumnType = new KeyDataViewType(typeof(uint), 10);
        IDataView train = ml.Data.Cache(ml.Data.LoadFromEnumerable(trainRows, schema));
        IDataView test = ml.Data.LoadFromEnumerable(testRows, schema);
        var peers = new (string Name, IEstimator<ITransformer> Pipeline)[]
        {
            ("LightGbm", ml.MulticlassClassification.Trainers.LightGbm(nameof(AccuracyStudy.Row.LabelKey))),
            ("SdcaMaximumEntropy", ml.Transforms.NormalizeMinMax("Features").Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(nameof(AccuracyStudy.Row.LabelKey)))),
        };
        if (!File.Exists(file))
        {
            File.WriteAllText(file, "dataset,peer,test_acc,model_zip_bytes,train_seconds" + Environment.NewLine);
        }

        foreach (var (name, pipeline) in peers)
        {
            var watch = Stopwatch.StartNew();
            ITransformer model = pipeline.Fit(train);
            double seconds = watch.Elapsed.TotalSeconds;
            double accuracy = ml.MulticlassClassification.Evaluate(model.Transform(test), nameof(AccuracyStudy.Row.LabelKey)).MicroAccuracy;
            using var stream = new MemoryStream();
            ml.Model.Save(model, train.Schema, stream);
            string line = string.Join(',', dataset, name, accuracy.ToString("0.#####", CultureInfo.InvariantCulture), stream.Length, seconds.ToString("0.##", CultureInfo.InvariantCulture));
            File.AppendAllText(file, line + Environment.NewLine);
            log.WriteLine(line);
        }
    }
}
