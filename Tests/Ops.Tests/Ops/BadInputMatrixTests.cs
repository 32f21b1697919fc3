using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Tests.Ops;

/// <summary>The ops' bad-input matrix, one test per entry: the exception type and the parameter it names.</summary>
[TestClass]
public sealed class BadInputMatrixTests
{
    private static readonly Dictionary<string, (Action Call, Type Exception, string Parameter)> Entries = new()
    {
        ["FiniteDifference h = 0"] = (() => Rounding.FiniteDifference(X(), 0), typeof(ArgumentOutOfRangeException), "h"),
        ["FiniteDifference h < 0"] = (() => Rounding.FiniteDifference(X(), -0.25), typeof(ArgumentOutOfRangeException), "h"),
        ["FiniteDifference h NaN"] = (() => Rounding.FiniteDifference(X(), double.NaN), typeof(ArgumentOutOfRangeException), "h"),
        ["FiniteDifference module h = 0"] = (() => Rounding.Modules.FiniteDifference(0), typeof(ArgumentOutOfRangeException), "h"),
        ["Sigmoid k < 0"] = (() => Rounding.Sigmoid(X(), -1), typeof(ArgumentOutOfRangeException), "k"),
        ["Sigmoid k infinite"] = (() => Rounding.Sigmoid(X(), double.PositiveInfinity), typeof(ArgumentOutOfRangeException), "k"),
        ["Softmax beta NaN"] = (() => Rounding.Softmax(X(), double.NaN), typeof(ArgumentOutOfRangeException), "beta"),
        ["SoftRound alpha < 0"] = (() => Rounding.SoftRound(X(), -2), typeof(ArgumentOutOfRangeException), "alpha"),
        ["FakeQuantize scale = 0"] = (() => Rounding.FakeQuantize(X(), 0, 0, -8, 7), typeof(ArgumentOutOfRangeException), "scale"),
        ["FakeQuantize scale < 0"] = (() => Rounding.FakeQuantize(X(), -0.1, 0, -8, 7), typeof(ArgumentOutOfRangeException), "scale"),
        ["FakeQuantize scale NaN"] = (() => Rounding.FakeQuantize(X(), double.NaN, 0, -8, 7), typeof(ArgumentOutOfRangeException), "scale"),
        ["FakeQuantize qmin >= qmax"] = (() => Rounding.FakeQuantize(X(), 0.1, 0, 7, 7), typeof(ArgumentOutOfRangeException), "qmax"),
        ["FakeQuantize zero point outside the range"] = (() => Rounding.FakeQuantize(X(), 0.1, 9, -8, 7), typeof(ArgumentOutOfRangeException), "zeroPoint"),
        ["FakeQuantizePerChannel a non-positive scale"] = (() => Rounding.FakeQuantizePerChannel(X().reshape(2, 2), tensor(new[] { 0.1, 0.0 }), tensor(new long[] { 0, 0 }), 0, -8, 7), typeof(ArgumentOutOfRangeException), "scales"),
        ["FakeQuantizePerChannel scales of the wrong length"] = (() => Rounding.FakeQuantizePerChannel(X().reshape(2, 2), tensor(new[] { 0.1 }), tensor(new long[] { 0 }), 0, -8, 7), typeof(ArgumentException), "scales"),
        ["FakeQuantizePerChannel axis out of range"] = (() => Rounding.FakeQuantizePerChannel(X().reshape(2, 2), tensor(new[] { 0.1, 0.1 }), tensor(new long[] { 0, 0 }), 2, -8, 7), typeof(ArgumentOutOfRangeException), "axis"),
        ["bits out of range (1)"] = (() => QuantizationRange.FromBits(1, signed: true), typeof(ArgumentOutOfRangeException), "bits"),
        ["bits out of range (17)"] = (() => QuantizationRange.FromBits(17, signed: false), typeof(ArgumentOutOfRangeException), "bits"),
        ["LearnedStepSize scale of the wrong length"] = (() => Rounding.LearnedStepSize(X(), tensor(new[] { 0.1, 0.2 }), null, -8, 7), typeof(ArgumentException), "scale"),
        ["LearnedStepSize gradient scale = 0"] = (() => Rounding.LearnedStepSize(X(), tensor(new[] { 0.1 }), null, -8, 7, gradientScale: 0), typeof(ArgumentOutOfRangeException), "gradientScale"),
        ["RoundToStep step = 0"] = (() => Rounding.RoundToStep(X(), 0), typeof(ArgumentOutOfRangeException), "step"),
        ["RoundToStep step < 0"] = (() => Rounding.RoundToStep(X(), -0.5), typeof(ArgumentOutOfRangeException), "step"),
        ["RoundToStep offset infinite"] = (() => Rounding.RoundToStep(X(), 0.5, double.NegativeInfinity), typeof(ArgumentOutOfRangeException), "offset"),
        ["RoundDecimals decimals too large"] = (() => Rounding.RoundDecimals(X(), 99), typeof(ArgumentOutOfRangeException), "decimals"),
        ["RoundDecimals unsupported midpoint rule"] = (() => Rounding.RoundDecimals(X(), 1, MidpointRounding.ToZero), typeof(ArgumentOutOfRangeException), "midpoint"),
        ["integer tensor"] = (() => Rounding.StraightThrough(tensor(new[] { 1, 2 })), typeof(ArgumentException), "x"),
        ["null tensor"] = (() => Rounding.StraightThrough(null!), typeof(ArgumentNullException), "x"),
    };

    private static Tensor X() => tensor(new[] { -1.5, -0.5, 0.5, 1.5 });

    public static IEnumerable<object[]> Names => Entries.Keys.Select(k => new object[] { k });

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void Entry_ThrowsTheDocumentedExceptionNamingTheParameter(string entry)
    {
        var (call, type, parameter) = Entries[entry];
        using var scope = NewDisposeScope();
        try
        {
            call();
            Assert.Fail($"{entry}: no exception");
        }
        catch (Exception e) when (e is not AssertFailedException)
        {
            Assert.AreEqual(type, e.GetType(), $"{entry}: {e}");
            Assert.AreEqual(parameter, ((ArgumentException)e).ParamName, entry);
            StringAssert.Contains(e.Message, parameter, entry);
        }
    }
}
