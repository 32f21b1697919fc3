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
}
