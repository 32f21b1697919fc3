using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Modules;

/// <summary>The transforms' SIMD loops (and scalar tails) on wide vectors with special values, bit for bit against the ops library on tensors.</summary>
[TestClass]
public sealed class WideVectorParityTests
{
    private static (MLContext, IDataView, List<float[]>) Data() => WideRows.Data();

    private static void Compare(IDataView transformed, List<float[]> rows, Func<Tensor, Tensor> op, string what)
    {
        var actual = DataViewReader.Column(transformed, "Out");
        var expected = rows.Select(r =>
        {
            using var scope = NewDisposeScope();
            return op(tensor(r)).to_type(ScalarType.Float64).data<double>().ToArray();
        }).ToList();
        DataViewReader.AssertIdentical(expected, actual, what);
    }

    [TestMethod]
    public void Round_Simd_BitIdenticalToOpsLibrary()
    {
        var (ml, data, rows) = Data();
        foreach (int decimals in new[] { -2, 0, 2, 8 })
        {
            foreach (var midpoint in new[] { MidpointRounding.ToEven, MidpointRounding.AwayFromZero })
            {
                Compare(ml.Transforms.Round("Out", "X", decimals, midpoint).Fit(data).Transform(data), rows, t => Rounding.RoundDecimals(t, decimals, midpoint), $"d={decimals} {midpoint}");
            }
        }
    }

    [TestMethod]
    public void RoundToStep_Simd_BitIdenticalToOpsLibrary()
    {
        var (ml, data, rows) = Data();
        foreach (var (step, offset) in new[] { (0.25, 0.0), (0.1, 0.05), (1e-30, 0.0), (1000.0, 7.0) })
        {
            Compare(ml.Transforms.RoundToStep("Out", "X", step, offset, MidpointRounding.AwayFromZero).Fit(data).Transform(data), rows, t => Rounding.RoundToStep(t, step, offset, MidpointRounding.AwayFromZero), $"step={step}");
            Compare(ml.Transforms.RoundToStep("Out", "X", step, offset).Fit(data).Transform(data), rows, t => Rounding.RoundToStep(t, step, offset), $"step={step}");
        }
    }

    [TestMethod]
    public void Quantize_Simd_BitIdenticalToOpsLibrary()
    {
        var (ml, data, rows) = Data();
        var single = ml.Transforms.Quantize("Out", "X", bits: 8, calibration: QuantizeCalibration.Percentile).Fit(data);
        var grid = (AffineGrid)single.GridOf("Out");
        Compare(single.Transform(data), rows, t => Rounding.FakeQuantize(t, grid.Scales[0], grid.ZeroPoints[0], grid.Range), "per column");
        var perSlot = ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "Out", InputColumnName = "X", Bits = 5, PerSlot = true, Symmetric = true, CodesColumnName = "Codes" }).Fit(data);
        var slots = (AffineGrid)perSlot.GridOf("Out");
        Compare(perSlot.Transform(data), rows, t => Rounding.FakeQuantizePerChannel(t, tensor(slots.Scales.ToArray()), tensor(slots.ZeroPoints.ToArray()), 0, slots.Range.Min, slots.Range.Max), "per slot");
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
