using System.Globalization;
using BenchmarkDotNet.Attributes;
using MlRounding.Trainers;

namespace MlRounding.Benchmarks;

/// <summary>
/// Training time of the MLP (64-128-64-10, the default hidden layers, and 64-64-32-10) on the digits training split, 20 epochs, no early stopping: float against
/// quantization-aware at W8A8 and W4A8 (LSQ) and W4A8 with the straight-through estimator, same process and threads.
/// </summary>
[Config(typeof(BenchmarkConfigs.Training))]
public class TrainingBenchmarks
{
    private QatData _train = null!;

    /// <summary>Gets or sets the hidden layers: the default 128-64 and the smaller 64-32.</summary>
    [Params("128-64", "64-32")]
    public string Hidden { get; set; } = "128-64";

    [GlobalSetup]
    public void Setup() => _train = LoadDigitsTrain();

    /// <summary>The digits training split (every row whose index is not a multiple of 5), pixels divided by 16.</summary>
    internal static QatData LoadDigitsTrain()
    {
        string[] lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"));
        var features = new List<float>();
        var labels = new List<float>();
        for (int i = 1; i < lines.Length; i++)
        {
            if ((i - 1) % 5 == 0)
            {
                continue; // the test rows of the fixed split
            }

            float[] v = lines[i].Split(',').Select(x => float.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            features.AddRange(v[..64].Select(x => x / 16f));
            labels.Add(v[64]);
        }

        return new QatData(features.ToArray(), labels.ToArray(), 64);
    }

    private QuantizedMlp Train(QatMode mode, int weightBits, int activationBits, QatQuantizer estimator = QatQuantizer.LearnedStepSize) =>
        QatTraining.Train(_train, 10, new QatOptions
        {
            HiddenLayers = Hidden.Split('-').Select(int.Parse).ToArray(), Mode = mode, WeightBits = weightBits, ActivationBits = activationBits, Quantizer = estimator, MaxEpoch = 20, ValidationFraction = 0, EarlyStoppingPatience = 0, NumberOfThreads = 2,
        });

    [Benchmark(Baseline = true, Description = "float MLP (peer)")]
    public QuantizedMlp Float() => Train(QatMode.Float, 32, 32);

    [Benchmark(Description = "QAT W8A8 (LSQ)")]
    public QuantizedMlp W8A8() => Train(QatMode.QuantizationAware, 8, 8);

    [Benchmark(Description = "QAT W4A8 (LSQ)")]
    public QuantizedMlp W4A8() => Train(QatMode.QuantizationAware, 4, 8);

    [Benchmark(Description = "QAT W4A8 (straight-through)")]
    public QuantizedMlp W4A8Ste() => Train(QatMode.QuantizationAware, 4, 8, QatQuantizer.StraightThrough);
}
