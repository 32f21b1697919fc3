using System.Diagnostics;
using MlRounding.Trainers;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Benchmarks;

/// <summary>Where a training step's time goes: forward, backward and optimizer step, float against QAT.</summary>
internal static class TrainingStepProfile
{
    public static void Run(TextWriter output, int[] hidden)
    {
        QatData data = TrainingBenchmarks.LoadDigitsTrain();
        set_num_threads(2);
        foreach (var (name, mode, bits, fuse) in new[] { ("float", QatMode.Float, 32, true), ("W4A8", QatMode.QuantizationAware, 4, true), ("W4A8/L", QatMode.QuantizationAware, 4, false), ("float", QatMode.Float, 32, true), ("W4A8", QatMode.QuantizationAware, 4, true), ("W4A8/L", QatMode.QuantizationAware, 4, false) })
        {
            var options = new QatOptions { HiddenLayers = hidden, Mode = mode, WeightBits = bits, ActivationBits = bits == 32 ? 32 : 8 };
            manual_seed(1);
            using var network = new QatNetwork(64, 10, options);
            network.train();
            network.FuseTrainingPass = fuse;
            using var optimizer = optim.AdamW(network.parameters(), 0.003, weight_decay: 1e-4);
            using var x = tensor(data.Features.AsSpan(0, 64 * 64).ToArray()).reshape(64, 64);
            using var y = tensor(data.Labels.AsSpan(0, 64).ToArray().Select(v => (long)v).ToArray());
            var fwd = new Stopwatch();
            var bwd = new Stopwatch();
            var opt = new Stopwatch();
            var all = Stopwatch.StartNew();
            const int steps = 3000;
            for (int i = 0; i < steps; i++)
            {
                if (i % 460 == 0)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }

                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                fwd.Start();
                Tensor loss = nn.functional.cross_entropy(network.call(x), y);
                fwd.Stop();
                bwd.Start();
                loss.backward();
                bwd.Stop();
                opt.Start();
                optimizer.step();
                opt.Stop();
            }

            all.Stop();
            double us(Stopwatch s) => s.Elapsed.TotalMilliseconds * 1000 / steps;
            output.WriteLine($"{name,-6} params {network.parameters().Count(),2}: step {us(all),6:F0} µs = forward {us(fwd),5:F0} + backward {us(bwd),5:F0} + optimizer {us(opt),5:F0}");
        }
    }
}
