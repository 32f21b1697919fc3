using System.Diagnostics;

namespace MlRounding.Benchmarks;

/// <summary>
/// The runs of <see cref="TrainingBenchmarks"/> interleaved (<c>-- training-interleaved [rounds]</c>): each round trains
/// every configuration once, in turn, so that a slow spell of a shared machine falls on all of them rather than on
/// whichever BenchmarkDotNet was measuring then. Prints each configuration's median and its ratio to float's median.
/// </summary>
internal static class InterleavedTrainingTimes
{
    public static void Run(TextWriter output, int rounds)
    {
        var configurations = new (string Name, Func<TrainingBenchmarks, object> Train)[]
        {
            ("float MLP (peer)", b => b.Float()),
            ("QAT W8A8 (LSQ)", b => b.W8A8()),
            ("QAT W4A8 (LSQ)", b => b.W4A8()),
            ("QAT W4A8 (straight-through)", b => b.W4A8Ste()),
        };
        output.WriteLine($"{rounds} rounds after one warm-up round; median of each, ratio of medians");
        foreach (string hidden in new[] { "128-64", "64-32" })
        {
            var bench = new TrainingBenchmarks { Hidden = hidden };
            bench.Setup();
            var times = configurations.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round <= rounds; round++)
            {
                for (int c = 0; c < configurations.Length; c++)
                {
                    var clock = Stopwatch.StartNew();
                    configurations[c].Train(bench);
                    if (round > 0)
                    {
                        times[c].Add(clock.Elapsed.TotalMilliseconds);
                    }
                }
            }

            double floatMedian = Median(times[0]);
            for (int c = 0; c < configurations.Length; c++)
            {
                double median = Median(times[c]);
                output.WriteLine($"{hidden,-7} {configurations[c].Name,-28} median {median,7:F1} ms  ratio {median / floatMedian:F2}  ({times[c].Min():F0}-{times[c].Max():F0} ms)");
            }
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
