using MlRounding.Ops;

namespace MlRounding.Tests.Ops;

[TestClass]
public sealed class HardnessScheduleTests
{
    [TestMethod]
    public void Linear_Exponential_Cosine_HandComputed()
    {
        var linear = new HardnessSchedule(ScheduleCurve.Linear, 1, 11, 10);
        Assert.AreEqual(1, linear.ValueAt(0));
        Assert.AreEqual(6, linear.ValueAt(5), 1e-12);
        Assert.AreEqual(11, linear.ValueAt(10));
        Assert.AreEqual(11, linear.ValueAt(1000));

        var exponential = new HardnessSchedule(ScheduleCurve.Exponential, 1, 1000, 3);
        Assert.AreEqual(10, exponential.ValueAt(1), 1e-9);
        Assert.AreEqual(100, exponential.ValueAt(2), 1e-9);

        var cosine = new HardnessSchedule(ScheduleCurve.Cosine, 0, 10, 4);
        Assert.AreEqual(0, cosine.ValueAt(0), 1e-12);
        Assert.AreEqual(5, cosine.ValueAt(2), 1e-12);
        Assert.AreEqual(10 * (1 - Math.Cos(Math.PI / 4)) / 2, cosine.ValueAt(1), 1e-12);
    }

    [TestMethod]
    public void Apply_SetsTheModulesHardness()
    {
        var module = Rounding.Modules.Softmax(1);
        new HardnessSchedule(ScheduleCurve.Exponential, 1, 100, 2).Apply(module, 1);
        Assert.AreEqual(10, module.Hardness, 1e-9);
    }

    [TestMethod]
    public void InvalidArguments_NameTheParameter()
    {
        Assert.AreEqual("start", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new HardnessSchedule(ScheduleCurve.Exponential, 0, 1, 5)).ParamName);
        Assert.AreEqual("end", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new HardnessSchedule(ScheduleCurve.Linear, 0, double.NaN, 5)).ParamName);
        Assert.AreEqual("steps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new HardnessSchedule(ScheduleCurve.Linear, 0, 1, 0)).ParamName);
        Assert.AreEqual("curve", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new HardnessSchedule((ScheduleCurve)9, 0, 1, 1)).ParamName);
        Assert.AreEqual("step", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new HardnessSchedule(ScheduleCurve.Linear, 0, 1, 1).ValueAt(-1)).ParamName);
    }
}
