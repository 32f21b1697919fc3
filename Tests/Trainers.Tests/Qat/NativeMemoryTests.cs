using TorchSharp;

namespace MlRounding.Trainers.Tests.Qat;

/// <summary>
/// What training leaks, counted rather than timed: TorchSharp's count of live tensors on the training thread, taken in
/// the progress report at the end of each epoch, is the same after every epoch (any tensor a step or an epoch leaves
/// alive would raise it by at least one per epoch). The resident-memory figures over long runs are measured in
/// Tests/Benchmarks (TrainingMemoryProfile) and recorded in docs/benchmarks.md.
/// </summary>
[TestClass]
public sealed class NativeMemoryTests
{
    [TestMethod]
    [DataRow(4, false)]
    [DataRow(32, false)]
    [DataRow(2, true)]
    public void LiveTensors_SameAfterEveryEpoch(int bits, bool distilled)
    {
        var live = new List<long>();
        var options = new QatOptions
        {
            HiddenLayers = new[] { 32 }, WeightBits = bits, ActivationBits = bits == 32 ? 32 : 8, MaxEpoch = 12, EarlyStoppingPatience = 0, NumberOfThreads = 1,
            DistillationWeight = distilled ? 0.5 : 0, TeacherEpochs = 3, WarmupEpochs = distilled ? 2 : 0,
        };
        QatTraining.Train(Digits.Train, 10, options, validation: Digits.Test, progress: new Sampler(live));
        Assert.HasCount(12, live);
        // From epoch 3 on (after the float warm-up and the first kept copy of the weights) the count is constant.
        CollectionAssert.AreEqual(Enumerable.Repeat(live[2], 10).ToArray(), live.Skip(2).ToArray(), "live tensors per epoch: " + string.Join(", ", live));
    }

    private sealed class Sampler(List<long> live) : IProgress<QatProgress>
    {
        public void Report(QatProgress value) => live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
