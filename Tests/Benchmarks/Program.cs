using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using MlRounding.Native;

// Each benchmark class sets its own in-process job (see BenchmarkConfigs): the peers (LibTorch's kernels, ML.NET's
// transforms) and our code share one process, one allocator and one thread pool.
TorchSharpNative.EnsureLoaded();
if (args is ["memory"])
{
    MlRounding.Benchmarks.TrainingMemoryProfile.Run(Console.Out);
    return;
}

if (args is ["training-interleaved", ..])
{
    MlRounding.Benchmarks.InterleavedTrainingTimes.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 15);
    return;
}

if (args is ["scoring-profile", ..])
{
    MlRounding.Benchmarks.ScoringProfile.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 4, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 32);
    return;
}

if (args is ["scoring-loop", var bits, var seconds])
{
    // For a profiler: score the whole model through ML.NET again and again (see ScoringProfile).
    var s = MlRounding.Benchmarks.MlNetScoring.Build(int.Parse(bits, System.Globalization.CultureInfo.InvariantCulture), 8);
    var until = DateTime.UtcNow.AddSeconds(int.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture));
    while (DateTime.UtcNow < until)
    {
        var scored = s.Model.Transform(s.Test);
        using var cursor = scored.GetRowCursor(new[] { scored.Schema["Score"] });
        var get = cursor.GetGetter<Microsoft.ML.Data.VBuffer<float>>(scored.Schema["Score"]);
        Microsoft.ML.Data.VBuffer<float> v = default;
        while (cursor.MoveNext())
        {
            get(ref v);
        }
    }

    return;
}

if (args is ["study", var dataset, var spec, var seeds, ..])
{
    MlRounding.Benchmarks.AccuracyStudy.Run(Console.Out, dataset, spec, seeds.Split(',').Select(int.Parse), args.Length > 4 ? args[4] : "study.csv");
    return;
}

if (args is ["learned-study", var learnedDataset, var learnedSpec, var learnedSeeds, var learnedBits, ..])
{
    MlRounding.Benchmarks.LearnedRoundingStudy.Run(Console.Out, learnedDataset, learnedSpec, learnedSeeds.Split(',').Select(int.Parse), learnedBits.Split(',').Select(int.Parse).ToArray(),
        args.Length > 5 ? args[5] : "learned.csv", args.Length > 6 ? args[6] : "");
    return;
}

if (args is ["study-peers", var peerDataset, ..])
{
    MlRounding.Benchmarks.PeerStudy.Run(Console.Out, peerDataset, args.Length > 2 ? args[2] : "peers.csv");
    return;
}

if (args is ["accuracy-chart", var chartInput, var chartOutput])
{
    MlRounding.Benchmarks.AccuracyChart.Run(chartInput, chartOutput, Console.Out);
    return;
}

if (args is ["synthetic-csv", var syntheticPath, var syntheticRows])
{
    MlRounding.Benchmarks.SyntheticTable.Write(syntheticPath, long.Parse(syntheticRows, System.Globalization.CultureInfo.InvariantCulture));
    return;
}

if (args is ["fashion-mnist-csv", var folder])
{
    MlRounding.Benchmarks.FashionMnist.WriteCsv(folder, Console.Out);
    return;
}

if (args is ["scalar-race", ..])
{
    MlRounding.Benchmarks.ScalarRace.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
    return;
}

if (args is ["overhead"])
{
    MlRounding.Benchmarks.OverheadProfile.Run(Console.Out);
    return;
}

if (args is ["step-profile", ..])
{
    MlRounding.Benchmarks.TrainingStepProfile.Run(Console.Out, args.Length > 1 ? args[1].Split('-').Select(int.Parse).ToArray() : new MlRounding.Trainers.QatOptions().HiddenLayers);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
    .Run(args, DefaultConfig.Instance.WithOptions(ConfigOptions.DisableOptimizationsValidator));
