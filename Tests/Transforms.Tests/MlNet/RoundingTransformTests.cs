using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.MlNet;

[TestClass]
public sealed class RoundingTransformTests
{
    private static readonly string[] Inputs = { "F", "D", "FV", "DV", "VarF" };

    private static (MLContext Ml, IDataView Data) Load(int rows = 200)
    {
        var ml = new MLContext(seed: 1);
        return (ml, ml.Data.LoadFromEnumerable(TestRow.Make(rows)));
    }

    private static bool IsFloat(IDataView data, string input) =>
        (data.Schema[input].Type is VectorDataViewType v ? v.ItemType : data.Schema[input].Type) == NumberDataViewType.Single;

    /// <summary>The documented rounding of column <paramref name="input"/>, value by value, from the independent reference.</summary>
    private static List<double[]> Reference(IDataView data, string input, Func<float, float> f32, Func<double, double> f64) =>
        GridReference.Apply(DataViewReader.Column(data, input), IsFloat(data, input), f32, f64);

    [TestMethod]
    [DataRow(0, MidpointRounding.ToEven)]
    [DataRow(2, MidpointRounding.ToEven)]
    [DataRow(-1, MidpointRounding.AwayFromZero)]
    [DataRow(3, MidpointRounding.AwayFromZero)]
    public void Round_EveryInputShape_EqualsTheDocumentedRule(int decimals, MidpointRounding midpoint)
    {
        var (ml, data) = Load();
        foreach (string input in Inputs)
        {
            var transformed = ml.Transforms.Round("Out", input, decimals, midpoint).Fit(data).Transform(data);
            Assert.AreEqual(data.Schema[input].Type, transformed.Schema["Out"].Type, input);
            var expected = Reference(data, input, x => GridReference.Decimals(x, decimals, midpoint), x => GridReference.Decimals(x, decimals, midpoint));
            DataViewReader.AssertIdentical(expected, DataViewReader.Column(transformed, "Out"), $"{input} d={decimals} {midpoint}");
        }
    }

    [TestMethod]
    [DataRow(0.25, 0.0)]
    [DataRow(0.05, 0.01)]
    [DataRow(10.0, -3.0)]
    public void RoundToStep_EveryInputShape_EqualsTheDocumentedRule(double step, double offset)
    {
        var (ml, data) = Load();
        foreach (string input in Inputs)
        {
            foreach (var midpoint in new[] { MidpointRounding.ToEven, MidpointRounding.AwayFromZero })
            {
                var transformed = ml.Transforms.RoundToStep("Out", input, step, offset, midpoint).Fit(data).Transform(data);
                var expected = Reference(data, input, x => GridReference.Step(x, step, offset, midpoint), x => GridReference.Step(x, step, offset, midpoint));
                DataViewReader.AssertIdentical(expected, DataViewReader.Column(transformed, "Out"), $"{input} step={step} offset={offset} {midpoint}");
            }
        }
    }

    [TestMethod]
    public void Round_HandComputedValues_AndSpecialValues()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { 2.5, -2.5, 0.125, 1234.5678, double.NaN, double.PositiveInfinity, -1e300 }.Select(d => new TestRow { D = d }));
        var cents = DataViewReader.Column(ml.Transforms.Round("Out", "D", 2).Fit(data).Transform(data), "Out").Select(r => r[0]).ToArray();
        Assert.AreEqual(0.12, cents[2]);
        Assert.AreEqual(1234.57, cents[3]);
        Assert.IsTrue(double.IsNaN(cents[4]));
        Assert.AreEqual(double.PositiveInfinity, cents[5], "infinities stay under Round");
        Assert.AreEqual(-1e300, cents[6]);
        var away = DataViewReader.Column(ml.Transforms.Round("Out", "D", 0, MidpointRounding.AwayFromZero).Fit(data).Transform(data), "Out").Select(r => r[0]).ToArray();
        CollectionAssert.AreEqual(new[] { 3.0, -3.0, 0.0, 1235.0 }, away[..4]);
        var tens = DataViewReader.Column(ml.Transforms.RoundToStep("Out", "D", 0.5, 0.25).Fit(data).Transform(data), "Out").Select(r => r[0]).ToArray();
        CollectionAssert.AreEqual(new[] { 2.25, -2.75, 0.25, 1234.75 }, tens[..4]); // -2.5: (-2.75 / 0.5) = -5.5 rounds to even -6
    }

    [TestMethod]
    public void Quantize_MinMax_ScaleAndZeroPointFromData_EqualsTheDocumentedRule()
    {
        var ml = new MLContext();
        float[] values = { -1f, 0.3f, 2f, 1.234f, -0.5f };
        var data = ml.Data.LoadFromEnumerable(values.Select(v => new TestRow { F = v }));
        var transformer = ml.Transforms.Quantize("Q", "F", bits: 4).Fit(data);
        var grid = (AffineGrid)transformer.GridOf("Q");
        // range [-1, 2] over codes 0..15: scale 3/15 = 0.2, zero point round(0 - (-1)/0.2) = 5
        Assert.AreEqual(0.2, grid.Scales[0], 1e-15);
        Assert.AreEqual(5L, grid.ZeroPoints[0]);
        var output = DataViewReader.Column(transformer.Transform(data), "Q");
        var expected = Reference(data, "F", x => GridReference.Affine(x, 0.2, 5, 0, 15), x => GridReference.Affine(x, 0.2, 5, 0, 15));
        DataViewReader.AssertIdentical(expected, output, "dequantized");
    }

    [TestMethod]
    public void Quantize_EveryShape_PerSlot_Symmetric_Codes()
    {
        var (ml, data) = Load();
        foreach (string input in Inputs)
        {
            var transformer = ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "Q", InputColumnName = input, Bits = 6, Symmetric = true, CodesColumnName = "Codes" }).Fit(data);
            var grid = (AffineGrid)transformer.GridOf("Q");
            // The calibration, worked out here from the data: symmetric 6-bit, scale = max |x| over finite values / 31,
            // at most RoundingLimits.MaxScale (1e30; the rows hold 3e38).
            double amax = DataViewReader.Column(data, input).SelectMany(r => r).Where(double.IsFinite).Max(Math.Abs);
            double expectedScale = Math.Min(amax / 31, 1e30);
            Assert.AreEqual(expectedScale, grid.Scales[0], 1e-15 * expectedScale, input);
            Assert.AreEqual(0L, grid.ZeroPoints[0]);
            var transformed = transformer.Transform(data);
            var expected = Reference(data, input, x => GridReference.Affine(x, grid.Scales[0], 0, -32, 31), x => GridReference.Affine(x, grid.Scales[0], 0, -32, 31));
            DataViewReader.AssertIdentical(expected, DataViewReader.Column(transformed, "Q"), input);
            var codes = DataViewReader.Column(transformed, "Codes").SelectMany(r => r).Where(double.IsFinite).ToArray();
            Assert.IsTrue(codes.All(c => c == Math.Round(c) && c >= -32 && c <= 31), $"{input}: integer codes in range");
        }

        foreach (string input in new[] { "FV", "DV" })
        {
            var transformer = ml.Transforms.Quantize("Q", input, bits: 8, perSlot: true).Fit(data);
            var grid = (AffineGrid)transformer.GridOf("Q");
            int slots = ((VectorDataViewType)data.Schema[input].Type).Size;
            Assert.HasCount(slots, grid.Scales);
            // Per slot, worked out here: [lo, hi] = [min(min, 0), max(max, 0)] of the slot's finite values, shrunk
            // towards 0 in proportion when (hi - lo) / 255 would exceed 1e30, scale = (hi - lo) / 255, zero point =
            // -round(lo / scale) (codes 0..255).
            var rowsOf = DataViewReader.Column(data, input);
            for (int slot = 0; slot < slots; slot++)
            {
                var finite = rowsOf.Select(r => r[slot]).Where(double.IsFinite).ToList();
                double lo = Math.Min(finite.Min(), 0), hi = Math.Max(finite.Max(), 0);
                if ((hi - lo) / 255 > 1e30)
                {
                    double shrink = 1e30 * 255 / (hi - lo);
                    (lo, hi) = (lo * shrink, hi * shrink);
                }

                double scale = hi > lo ? (hi - lo) / 255 : 1;
                Assert.AreEqual(scale, grid.Scales[slot], 1e-12 * scale, $"{input} slot {slot}: scale");
                Assert.AreEqual(hi > lo ? -(long)Math.Round(lo / scale) : 0, grid.ZeroPoints[slot], $"{input} slot {slot}: zero point");
            }

            bool isFloat = IsFloat(data, input);
            var expected = DataViewReader.Column(data, input).Select(row => row.Select((v, i) => isFloat
                ? GridReference.Affine((float)v, grid.Scales[i], grid.ZeroPoints[i], 0, 255)
                : GridReference.Affine(v, grid.Scales[i], grid.ZeroPoints[i], 0, 255)).ToArray()).ToList();
            DataViewReader.AssertIdentical(expected, DataViewReader.Column(transformer.Transform(data), "Q"), input + " per slot");
        }
    }

    [TestMethod]
    public void Quantize_NaNStays_InfinitiesClamp_CalibrationIgnoresThem()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { -2f, 2f, float.NaN, float.PositiveInfinity, float.NegativeInfinity }.Select(v => new TestRow { F = v }));
        var transformer = ml.Transforms.Quantize("Q", "F", bits: 8, symmetric: true).Fit(data);
        Assert.AreEqual(2.0 / 127, ((AffineGrid)transformer.GridOf("Q")).Scales[0], 1e-15);
        var q = DataViewReader.Column(transformer.Transform(data), "Q").Select(r => r[0]).ToArray();
        Assert.IsTrue(double.IsNaN(q[2]));
        Assert.AreEqual(127 * (double)(float)(2.0 / 127), q[3], 1e-6);
        Assert.AreEqual(-128 * (double)(float)(2.0 / 127), q[4], 1e-6);
    }

    [TestMethod]
    [DataRow(99.0, 991.0)]
    [DataRow(99.9, 1000.0)]
    [DataRow(99.95, 500500.0)]
    public void Quantize_Percentile_TheLinearlyInterpolatedPercentileSetsTheRange(double percentile, double hi)
    {
        // Values 1..1000 and one outlier 1e6, shuffled: 1,001 sorted values v[0..1000]. The p-th percentile sits at
        // position p/100 * 1000 (linear interpolation between neighbours, NumPy's default): p = 99 gives v[990] = 991,
        // p = 99.9 gives v[999] = 1000, p = 99.95 gives halfway between v[999] = 1000 and v[1000] = 1e6, 500,500. The
        // low end (at most 11) widens to 0, so the 8-bit asymmetric grid has scale hi / 255 and zero point 0, while
        // min-max calibration lets the outlier set the step (1e6 / 255).
        var ml = new MLContext();
        var values = Enumerable.Range(1, 1000).Select(i => (float)i).Append(1e6f).OrderBy(v => (v * 7919) % 1001).ToArray();
        var data = ml.Data.LoadFromEnumerable(values.Select(v => new TestRow { F = v }));
        var robust = (AffineGrid)ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "Q", InputColumnName = "F", Calibration = QuantizeCalibration.Percentile, Percentile = percentile }).Fit(data).GridOf("Q");
        Assert.AreEqual(hi / 255, robust.Scales[0], 1e-12 * hi, $"p = {percentile}");
        Assert.AreEqual(0L, robust.ZeroPoints[0]);
        var minMax = (AffineGrid)ml.Transforms.Quantize("Q", "F").Fit(data).GridOf("Q");
        Assert.AreEqual(1e6 / 255, minMax.Scales[0], 1e-6);
    }

    [TestMethod]
    public void SeveralColumnPairsAtOnce()
    {
        var (ml, data) = Load();
        var pairs = new[] { new InputOutputColumnPair("A", "F"), new InputOutputColumnPair("B", "DV") };
        foreach (IEstimator<ITransformer> estimator in new IEstimator<ITransformer>[]
                 {
                     ml.Transforms.Round(pairs, 1), ml.Transforms.RoundToStep(pairs, 0.5), ml.Transforms.Quantize(pairs, 4),
                 })
        {
            var schema = estimator.Fit(data).Transform(data).Schema;
            Assert.AreEqual(NumberDataViewType.Single, schema["A"].Type);
            Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Double, 3), schema["B"].Type);
        }
    }

    [TestMethod]
    public void Annotations_DescribeTheGrid()
    {
        var (ml, data) = Load();
        var schema = ml.Transforms.Round("R", "F", 2).Append(ml.Transforms.RoundToStep("S", "D", 0.25, 0.1))
            .Append(ml.Transforms.Quantize("Q", "FV", bits: 4, perSlot: true)).Fit(data).Transform(data).Schema;
        Assert.AreEqual("decimals", Text(schema["R"], RoundingAnnotations.Grid));
        Assert.AreEqual(2, Value<int>(schema["R"], RoundingAnnotations.Decimals));
        Assert.AreEqual(0.01, Value<double>(schema["R"], RoundingAnnotations.Step), 1e-18);
        Assert.AreEqual("step", Text(schema["S"], RoundingAnnotations.Grid));
        Assert.AreEqual(0.25, Value<double>(schema["S"], RoundingAnnotations.Step));
        Assert.AreEqual(0.1, Value<double>(schema["S"], RoundingAnnotations.Offset));
        Assert.AreEqual("affine", Text(schema["Q"], RoundingAnnotations.Grid));
        Assert.AreEqual(4, Value<int>(schema["Q"], RoundingAnnotations.Bits));
        Assert.AreEqual(15L, Value<long>(schema["Q"], RoundingAnnotations.QuantizationMax));
        VBuffer<double> scales = default;
        schema["Q"].Annotations.GetValue(RoundingAnnotations.Scale, ref scales);
        Assert.AreEqual(4, scales.Length);
    }

    private static string Text(DataViewSchema.Column column, string kind)
    {
        ReadOnlyMemory<char> value = default;
        column.Annotations.GetValue(kind, ref value);
        return value.ToString();
    }

    private static T Value<T>(DataViewSchema.Column column, string kind)
    {
        T value = default!;
        column.Annotations.GetValue(kind, ref value);
        return value;
    }


}
