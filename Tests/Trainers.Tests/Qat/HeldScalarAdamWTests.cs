using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Qat;

/// <summary>The trainer's optimizer (<see cref="HeldScalarAdamW"/>) against TorchSharp's own AdamW: the same parameters, bit for bit.</summary>
[TestClass]
public sealed class HeldScalarAdamWTests
{
    private static (Linear First, Linear Second) Network(long seed)
    {
        manual_seed(seed);
        return (nn.Linear(7, 5), nn.Linear(5, 3));
    }

    private static long[] Bits(IEnumerable<Parameter> parameters) =>
        parameters.SelectMany(p => p.detach().to_type(ScalarType.Float64).data<double>().ToArray()).Select(BitConverter.DoubleToInt64Bits).ToArray();

    [TestMethod]
    public void Steps_AreBitIdenticalToTorchSharpsAdamW_WithWeightDecayAndACosineSchedule()
    {
        using var scope = NewDisposeScope();
        var (a1, a2) = Network(3);
        var (b1, b2) = Network(3);
        var reference = a1.parameters().Concat(a2.parameters()).ToList();
        var ours = b1.parameters().Concat(b2.parameters()).ToList();
        CollectionAssert.AreEqual(Bits(reference), Bits(ours), "the same start");
        using var torchSharps = optim.AdamW(reference, 0.01, weight_decay: 0.05);
        using var held = new HeldScalarAdamW(ours, 0.01, 0.05);
        var decayA = optim.lr_scheduler.CosineAnnealingLR(torchSharps, 30);
        var decayB = optim.lr_scheduler.CosineAnnealingLR(held, 30);
        var generator = new Generator(11);
        for (int step = 0; step < 30; step++)
        {
            using var stepScope = NewDisposeScope();
            Tensor x = randn(new long[] { 16, 7 }, generator: generator);
            Tensor y = randn(new long[] { 16, 3 }, generator: generator);
            foreach (var (first, second, optimizer) in new (Linear, Linear, optim.Optimizer)[] { (a1, a2, torchSharps), (b1, b2, held) })
            {
                optimizer.zero_grad();
                nn.functional.mse_loss(second.call(nn.functional.relu(first.call(x))), y).backward();
                optimizer.step();
            }

            decayA.step();
            decayB.step();
            CollectionAssert.AreEqual(Bits(reference), Bits(ours), $"after step {step + 1}");
        }

        Assert.AreNotEqual(0.01, held.ParamGroups.First().LearningRate, "the schedule changed the learning rate");
        CollectionAssert.AreNotEqual(Bits(Network(3).First.parameters()), Bits(b1.parameters()), "the steps moved the parameters");
    }

    [TestMethod]
    [DataRow(100L, 10_000L, 0.3)]        // 30 / 100 updates
    [DataRow(1_000_000L, 10_000L, 0.01)] // 30 / 10^6 is below the learning rate, which is the floor
    [DataRow(100L, 9_999L, 0.01)]        // the small-data regime keeps the learning rate
    public void TrainersOptimizer_GivesTheLogStepsTheirOwnRate(long updates, long rows, double stepRate)
    {
        // Adam's first update of a parameter whose gradient is 1 is -lr · 1 / (1 + ε) whatever the gradient's scale; the
        // decoupled decay multiplies it by 1 - lr · decay first. So after one step: w' = w (1 - 0.01 · 0.1) - 0.01 for
        // weights and biases, and log s' = log s (1 - r · 0.1) - r for the log steps, r = max(0.01, 30 / updates) from
        // 10,000 rows on, else 0.01.
        using var scope = NewDisposeScope();
        var options = new QatOptions { HiddenLayers = new[] { 3 }, WeightBits = 4, LearningRate = 0.01, WeightDecay = 0.1 };
        manual_seed(5);
        using var network = new QatNetwork(4, 2, options);
        Parameter steps = network.LogSteps!;
        using (no_grad())
        {
            steps.fill_(-2); // as if initialised: the decay then shows
        }

        var before = network.parameters().Select(p => p.detach().clone().data<float>().ToArray()).ToList();
        using var optimizer = TrainingSteps.Optimizer(network, options, updates, rows);
        network.parameters().Aggregate((Tensor)zeros(1), (sum, p) => sum + p.sum()).backward(); // every gradient is 1
        optimizer.step();
        var parameters = network.parameters().ToList();
        Assert.AreEqual(2, optimizer.ParamGroups.Count());
        for (int i = 0; i < parameters.Count; i++)
        {
            bool isStep = parameters[i].Handle == steps.Handle;
            float[] after = parameters[i].detach().data<float>().ToArray();
            for (int k = 0; k < after.Length; k++)
            {
                double expected = isStep ? (before[i][k] * (1 - (stepRate * 0.1))) - (stepRate / (1 + 1e-8)) : (before[i][k] * (1 - (0.01 * 0.1))) - (0.01 / (1 + 1e-8));
                Assert.AreEqual(expected, after[k], 1e-6, $"{(isStep ? "log step" : "parameter")} {i}[{k}]");
            }
        }
    }
}
