using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.MlNet;

/// <summary>Vectors wide enough for the SIMD loops (and their scalar tails), with special values in every lane.</summary>
[TestClass]
public sealed class WideVectorTests
{
    private static (MLContext, IDataView, List<float[]>) Data() => WideRows.Data();

    /// <summary>Compares the transform's column with the independent reference applied slot by slot.</summary>
    private static void Compare(IDataView transformed, List<float[]> rows, Func<float, int, float> reference, string what)
    {
        var actual = DataViewReader.Column(transformed, "Out");
        var expected = rows.Select(r => r.Select((x, i) => (double)reference(x, i)).ToArray()).ToList();
        DataViewReader.AssertIdentical(expected, actual, what);
    }

    [TestMethod]
    public void Round_Simd_EqualsTheDocumentedRule()
    {
        var (ml, data, rows) = Data();
        foreach (int decimals in new[] { -2, 0, 2, 8 })
        {
            foreach (var midpoint in new[] { MidpointRounding.ToEven, MidpointRounding.AwayFromZero })
            {
                Compare(ml.Transforms.Round("Out", "X", decimals, midpoint).Fit(data).Transform(data), rows, (x, _) => GridReference.Decimals(x, decimals, midpoint), $"d={decimals} {midpoint}");
            }
        }
    }

    [TestMethod]
    public void RoundToStep_Simd_EqualsTheDocumentedRule()
    {
        var (ml, data, rows) = Data();
        foreach (var (step, offset) in new[] { (0.25, 0.0), (0.1, 0.05), (1e-30, 0.0), (1000.0, 7.0) })
        {
            Compare(ml.Transforms.RoundToStep("Out", "X", step, offset, MidpointRounding.AwayFromZero).Fit(data).Transform(data), rows, (x, _) => GridReference.Step(x, step, offset, MidpointRounding.AwayFromZero), $"step={step}");
            Compare(ml.Transforms.RoundToStep("Out", "X", step, offset).Fit(data).Transform(data), rows, (x, _) => GridReference.Step(x, step, offset, MidpointRounding.ToEven), $"step={step}");
        }
    }

    [TestMethod]
    public void Quantize_Simd_EqualsTheDocumentedRule()
    {
        var (ml, data, rows) = Data();
        var single = ml.Transforms.Quantize("Out", "X", bits: 8, calibration: QuantizeCalibration.Percentile).Fit(data);
        var grid = (AffineGrid)single.GridOf("Out");
        Compare(single.Transform(data), rows, (x, _) => GridReference.Affine(x, grid.Scales[0], grid.ZeroPoints[0], grid.Range.Min, grid.Range.Max), "per column");
        var perSlot = ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "Out", InputColumnName = "X", Bits = 5, PerSlot = true, Symmetric = true, CodesColumnName = "Codes" }).Fit(data);
        var slots = (AffineGrid)perSlot.GridOf("Out");
        Compare(perSlot.Transform(data), rows, (x, i) => GridReference.Affine(x, slots.Scales[i], slots.ZeroPoints[i], slots.Range.Min, slots.Range.Max), "per slot");
        var codes = DataViewReader.Column(perSlot.Transform(data), "Codes");
        var values = DataViewReader.Column(perSlot.Transform(data), "Out");
        for (int r = 0; r < codes.Count; r++)
        {
            for (int i = 0; i < 37; i++)
            {
                double expected = (codes[r][i] - slots.ZeroPoints[i]) * (float)slots.Scales[i];
                Assert.AreEqual((float)expected, (float)values[r][i], $"row {r} slot {i}: value = (code - z) s");
            }
        }
    }
}
