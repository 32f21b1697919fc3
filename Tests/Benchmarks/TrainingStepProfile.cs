using System.Diagnostics;
using MlRounding.Trainers;
using static TorchSharp.torch;

namespace MlRounding.Benchmarks;

/// <summary>
/// Where a training step's time goes (<c>-- step-profile [64-32]</c>): forward, backward and optimizer step of the
/// digits MLP on one 64-row minibatch, for float training, quantization-aware training (W4A8, LSQ) as the trainer runs
/// it (the whole pass in one autograd call) and the same with the per-layer path (one autograd node per quantizer).
/// Each run is 3,000 steps, every configuration twice in turn; read the second round.
/// </summary>
internal static class TrainingStepProfile
{
    public static void Run(TextWriter output, int[] hidden)
    {
        QatData data = TrainingBenchmarks.LoadDigitsTrain();
        set_num_threads(2);
        using var x = tensor(data.Features.AsSpan(0, 64 * 64).ToArray()).reshape(64, 64);
        using var y = tensor(data.Labels.AsSpan(0, 64).ToArray().Select(v => (long)v).ToArray());
        output.WriteLine($"MLP 64-{string.Join("-", hidden)}-10, batch 64, 2 threads");
        for (int round = 1; round <= 2; round++)
        {
            foreach (var (name, mode, fuse) in new[] { ("float", QatMode.Float, false), ("QAT W4A8, one call", QatMode.QuantizationAware, true), ("QAT W4A8, per layer", QatMode.QuantizationAware, false) })
            {
                var options = new QatOptions { HiddenLayers = hidden, Mode = mode, WeightBits = mode == QatMode.Float ? 32 : 4, ActivationBits = mode == QatMode.Float ? 32 : 8 };
                manual_seed(1);
                using var network = new QatNetwork(64, 10, options) { FuseTrainingPass = fuse };
                network.train();
                using var optimizer = optim.AdamW(network.parameters(), options.LearningRateFor(data.Count), weight_decay: options.WeightDecay);
                var (forward, backward, update) = (new Stopwatch(), new Stopwatch(), new Stopwatch());
                var all = Stopwatch.StartNew();
                const int steps = 3000;
                for (int i = 0; i < steps; i++)
                {
                    if (i % 460 == 0)
                    {
                        GC.Collect(); // as the trainer does once per epoch (20 epochs of 23 steps)
                        GC.WaitForPendingFinalizers();
                    }

                    using var scope = NewDisposeScope();
                    optimizer.zero_grad();
                    forward.Start();
                    Tensor loss = nn.functional.cross_entropy(network.call(x), y);
                    forward.Stop();
                    backward.Start();
                    loss.backward();
                    backward.Stop();
                    update.Start();
                    optimizer.step();
                    update.Stop();
                }

                all.Stop();
                double Us(Stopwatch s) => s.Elapsed.TotalMilliseconds * 1000 / steps;
                output.WriteLine($"round {round}  {name,-20} {network.parameters().Count(),2} parameters: step {Us(all),6:F0} µs = forward {Us(forward),5:F0} + backward {Us(backward),5:F0} + optimizer {Us(update),5:F0}");
            }
        }
    }
}
