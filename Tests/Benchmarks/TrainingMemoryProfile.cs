using System.Globalization;
using MlRounding.Trainers;

namespace MlRounding.Benchmarks;

/// <summary>
/// Resident memory of 50 epochs of training on digits (the default MLP 64-128-64-10, batch 64, no early stopping): RSS read
/// from /proc/self/status after each epoch, quantization-aware (W4A8, LSQ) beside float training of the same network,
/// in one process. Run with <c>dotnet run -c Release --project Tests/Benchmarks -- memory</c>; prints a Markdown table.
/// RSS is a process-wide figure, so this runs outside BenchmarkDotNet's harness (which allocates while it measures).
/// </summary>
internal static class TrainingMemoryProfile
{
    public static void Run(TextWriter output)
    {
        QatData train = TrainingBenchmarks.LoadDigitsTrain();
        output.WriteLine("| run | RSS after epoch 1 | epoch 10 | epoch 25 | epoch 50 | growth 10 -> 50 |");
        output.WriteLine("|---|---|---|---|---|---|");
        foreach (var (name, mode, bits) in new[] { ("float", QatMode.Float, 32), ("QAT W4A8 (LSQ)", QatMode.QuantizationAware, 4), ("float (again)", QatMode.Float, 32), ("QAT W4A8 (again)", QatMode.QuantizationAware, 4) })
        {
            var rss = new Dictionary<int, double>();
            var options = new QatOptions
            {
                Mode = mode, WeightBits = bits, ActivationBits = bits == 32 ? 32 : 8, MaxEpoch = 50, ValidationFraction = 0, EarlyStoppingPatience = 0, NumberOfThreads = 2,
            };
            QatTraining.Train(train, 10, options, progress: new Sampler(rss));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {rss[1]:F0} MB | {rss[10]:F0} MB | {rss[25]:F0} MB | {rss[50]:F0} MB | {rss[50] - rss[10]:+0.0;-0.0} MB |"));
        }
    }

    /// <summary>The resident set size of this process in MB.</summary>
    public static double ResidentMegabytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    // Called synchronously by the trainer at the end of each epoch.
    private sealed class Sampler(Dictionary<int, double> rss) : IProgress<QatProgress>
    {
        public void Report(QatProgress value)
        {
            rss[value.Epoch] = ResidentMegabytes();
        }
    }
}
