using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests;

/// <summary>The 1.0 names kept as [Obsolete] forwarders (docs/glossary.md, "Renamed") still do what they did.</summary>
[TestClass]
public sealed class ObsoleteNamesTests
{
#pragma warning disable CS0618 // the obsolete names are the subject
    [TestMethod]
    public void QatGradient_ReadsAndWritesQuantizer_ValueForValue()
    {
        var options = new QatOptions();
        foreach (QatGradient old in Enum.GetValues<QatGradient>())
        {
            options.Gradient = old;
            Assert.AreEqual(old.ToString(), options.Quantizer.ToString());
            Assert.AreEqual(old, options.Gradient);
        }

        CollectionAssert.AreEqual(Enum.GetNames<QatQuantizer>(), Enum.GetNames<QatGradient>());
    }

    [TestMethod]
    public void RoundingLayers_MakeTheModulesOfRoundingModules()
    {
        using var scope = NewDisposeScope();
        Assert.IsInstanceOfType<RoundDecimalsModule>(Rounding.Layers.RoundDecimals(2));
        Assert.IsInstanceOfType<LearnedStepSizeModule>(Rounding.Layers.LearnedStepSize(QuantizationRange.FromBits(4, signed: true)));
        Tensor x = tensor(new[] { 0.125f, 1.005f, -2.5f });
        Tensor expected = new StepGrid(0.25).CreateModule().call(x);
        Assert.IsTrue(expected.equal(new StepGrid(0.25).CreateLayer().call(x)).all().item<bool>());
    }

    [TestMethod]
    public void ScheduleKind_IsScheduleCurve()
    {
        var schedule = new HardnessSchedule(ScheduleKind.Exponential, 1, 100, 4);
        Assert.AreEqual(ScheduleCurve.Exponential, schedule.Curve);
        Assert.AreEqual(ScheduleKind.Exponential, schedule.Kind);
        Assert.AreEqual(new HardnessSchedule(ScheduleCurve.Exponential, 1, 100, 4).ValueAt(2), schedule.ValueAt(2));
    }
#pragma warning restore CS0618
}
