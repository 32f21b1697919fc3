using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Tests.Shared;

namespace MlRounding.Tests.MlNet;

/// <summary>
/// The transforms' bad-input matrix, one test per entry: catalog arguments and options out of range, wrong column
/// types, missing columns (the exception type, the option or column named, ML.NET's standard wording for schemas);
/// then values near the float limits, whose results are defined. Empty data and vector sizes that differ between fit
/// and transform have their own tests in <see cref="EstimatorContractTests"/>.
/// </summary>
[TestClass]
public sealed class BadInputMatrixTests
{
    private static readonly MLContext Ml = new(seed: 1);

    private static readonly Dictionary<string, (Action Call, string Named)> OptionEntries = new()
    {
        ["Round decimals too large"] = (() => Ml.Transforms.Round("A", decimals: 9), "decimals"),
        ["Round decimals too small"] = (() => Ml.Transforms.Round("A", decimals: -16), "decimals"),
        ["Round midpoint rule"] = (() => Ml.Transforms.Round("A", midpoint: MidpointRounding.ToZero), "midpoint"),
        ["Round options decimals"] = (() => Ml.Transforms.Round(new RoundOptions { OutputColumnName = "A", Decimals = 99 }), "Decimals"),
        ["RoundToStep step = 0"] = (() => Ml.Transforms.RoundToStep("A", step: 0), "step"),
        ["RoundToStep step < 0"] = (() => Ml.Transforms.RoundToStep("A", step: -1), "step"),
        ["RoundToStep step NaN"] = (() => Ml.Transforms.RoundToStep("A", step: double.NaN), "step"),
        ["RoundToStep offset NaN"] = (() => Ml.Transforms.RoundToStep("A", offset: double.NaN), "offset"),
        ["RoundToStep options step"] = (() => Ml.Transforms.RoundToStep(new RoundToStepOptions { OutputColumnName = "A", Step = -2 }), "Step"),
        ["Quantize bits = 1"] = (() => Ml.Transforms.Quantize("A", bits: 1), "bits"),
        ["Quantize bits = 17"] = (() => Ml.Transforms.Quantize("A", bits: 17), "bits"),
        ["Quantize options bits"] = (() => Ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "A", Bits = 0 }), "Bits"),
        ["Quantize percentile"] = (() => Ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "A", Percentile = 40 }), "Percentile"),
        ["Quantize example count"] = (() => Ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "A", MaximumExampleCount = 0 }), "MaximumExampleCount"),
        ["Quantize calibration"] = (() => Ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "A", Calibration = (QuantizeCalibration)7 }), "Calibration"),
    };

    public static IEnumerable<object[]> OptionNames => OptionEntries.Keys.Select(k => new object[] { k });

    [TestMethod]
    [DynamicData(nameof(OptionNames))]
    public void OptionOutOfRange_ArgumentOutOfRangeNamingIt(string entry)
    {
        var (call, named) = OptionEntries[entry];
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(call, entry);
        Assert.AreEqual(named, e.ParamName, entry);
        StringAssert.Contains(e.Message, named, entry);
    }

    [TestMethod]
    public void EmptyOutputColumnName_ArgumentExceptionNamingIt() =>
        Assert.AreEqual("outputColumnName", Assert.ThrowsExactly<ArgumentException>(() => Ml.Transforms.Round("")).ParamName);

    private static readonly Dictionary<string, (Func<IEstimator<ITransformer>> Estimator, string Message)> SchemaEntries = new()
    {
        ["Round on text"] = (() => Ml.Transforms.Round("Out", "Text"), "Schema mismatch for input column 'Text': expected vector or scalar of Single or Double, got String"),
        ["RoundToStep on Int32"] = (() => Ml.Transforms.RoundToStep("Out", "I"), "Schema mismatch for input column 'I': expected vector or scalar of Single or Double, got Int32"),
        ["Quantize on Int32"] = (() => Ml.Transforms.Quantize("Out", "I"), "Schema mismatch for input column 'I': expected vector or scalar of Single or Double, got Int32"),
        ["Round missing column"] = (() => Ml.Transforms.Round("Out", "Missing"), "Could not find input column 'Missing'"),
        ["Quantize missing column"] = (() => Ml.Transforms.Quantize("Out", "Missing"), "Could not find input column 'Missing'"),
        ["Quantize per slot on a variable-size vector"] = (() => Ml.Transforms.Quantize("Out", "VarF", perSlot: true), "Schema mismatch for input column 'VarF': expected known-size vector"),
    };

    public static IEnumerable<object[]> SchemaNames => SchemaEntries.Keys.Select(k => new object[] { k });

    [TestMethod]
    [DynamicData(nameof(SchemaNames))]
    public void WrongOrMissingColumn_FitAndGetOutputSchemaNameIt(string entry)
    {
        var (estimator, message) = SchemaEntries[entry];
        var data = Ml.Data.LoadFromEnumerable(TestRow.Make(20));
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator().Fit(data)).Message, message, entry);
        StringAssert.StartsWith(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator().GetOutputSchema(Shapes.Of(data.Schema))).Message, message, entry);
    }

    private static float[] Column(IEstimator<ITransformer> estimator, float[] values)
    {
        var data = Ml.Data.LoadFromEnumerable(values.Select(v => new TestRow { F = v }));
        return estimator.Fit(data).Transform(data).GetColumn<float>("Out").ToArray();
    }

    [TestMethod]
    public void Round_NearFloatLimits_HugeValuesAreAlreadyWhole_TinyOnesRoundToZero()
    {
        float[] output = Column(Ml.Transforms.Round("Out", "F", decimals: 2), new[] { float.MaxValue, -float.MaxValue, float.Epsilon, -1e-30f, 1e30f });
        CollectionAssert.AreEqual(new[] { float.MaxValue, -float.MaxValue, 0f, -0f, 1e30f }, output);
        Assert.IsTrue(float.IsNegative(output[3]), "the sign of zero is kept");
    }

    [TestMethod]
    public void RoundToStep_NearFloatLimits_OverflowReturnsTheValue()
    {
        // x / step overflows for x near float.MaxValue and a step below 1: the value is returned unchanged (documented).
        float[] output = Column(Ml.Transforms.RoundToStep("Out", "F", step: 0.1), new[] { float.MaxValue, -float.MaxValue, 3e38f, float.Epsilon });
        CollectionAssert.AreEqual(new[] { float.MaxValue, -float.MaxValue, 3e38f, 0f }, output);
    }

    [TestMethod]
    public void Quantize_CalibratedOnTheFullFloatRange_SaturatesAtTheLargestGrid()
    {
        // Scales are at most 1e30, so unsigned 8-bit codes span 255e30 at most. The range [-max, max] is shrunk towards 0
        // in proportion to [-127.5e30, 127.5e30]: scale 1e30, zero point round(127.5) = 128 (half to even); zero stays
        // exact, both signs keep their share of the codes, and the extremes saturate at the grid's ends.
        float[] input = { -float.MaxValue, -1e31f, 0f, 1e31f, float.MaxValue };
        var data = Ml.Data.LoadFromEnumerable(input.Select(v => new TestRow { F = v }));
        var transformer = Ml.Transforms.Quantize("Out", "F", bits: 8).Fit(data);
        var grid = (AffineGrid)transformer.GridOf("Out");
        Assert.AreEqual(1e30, grid.Scales[0]);
        Assert.AreEqual(128L, grid.ZeroPoints[0]);
        float s = 1e30f;
        float[] output = transformer.Transform(data).GetColumn<float>("Out").ToArray();
        CollectionAssert.AreEqual(new[] { -128 * s, -10 * s, 0f, 10 * s, 127 * s }, output);
    }
}
