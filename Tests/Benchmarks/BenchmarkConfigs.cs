using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace MlRounding.Benchmarks;

/// <summary>In-process jobs: short operations get many iterations, whole-dataset passes a few monitored ones.</summary>
public static class BenchmarkConfigs
{
    /// <summary>Tensor ops: 3 warmups, 15 iterations.</summary>
    public sealed class Kernels : ManualConfig
    {
        public Kernels() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15));
    }

    /// <summary>Passes over 1M rows: monitoring strategy, 1 warmup, 9 iterations.</summary>
    public sealed class Passes : ManualConfig
    {
        public Passes() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.Monitoring).WithWarmupCount(1).WithIterationCount(9));
    }

    /// <summary>Scoring passes over 10,000 rows: monitoring strategy, 10 warmups (tiered JIT must reach ML.NET's plumbing; ONNX Runtime's first runs are slow), 20 iterations.</summary>
    public sealed class Scoring : ManualConfig
    {
        public Scoring() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.Monitoring).WithWarmupCount(10).WithIterationCount(20));
    }

    /// <summary>Training runs: monitoring strategy, 3 warmups (tiered JIT and the allocator settle), 15 iterations.</summary>
    public sealed class Training : ManualConfig
    {
        public Training() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.Monitoring).WithWarmupCount(3).WithIterationCount(15));
    }
}
