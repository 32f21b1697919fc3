using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Modules;

/// <summary>
/// The ML.NET transforms (MlRounding.Transforms, plain C#) and the ops library (MlRounding.Ops, TorchSharp tensors)
/// implement each grid twice; here they are held to the same bits on every input shape, and a transform's rounding as
/// a TorchSharp layer (<see cref="RoundingLayers.CreateModule(RoundingGrid, RoundingGradient?)"/>) to the transform.
/// </summary>
[TestClass]
public sealed class GridParityTests
{
    private static readonly string[] Inputs = { "F", "D", "FV", "DV", "VarF" };

    private static (MLContext Ml, IDataView Data) Load(int rows = 200)
    {
        var ml = new MLContext(seed: 1);
        return (ml, ml.Data.LoadFromEnumerable(TestRow.Make(rows)));
    }

    /// <summary>The same rounding through the ops library on a tensor of the column's type, read back as doubles.</summary>
    private static List<double[]> ThroughOps(IDataView data, string input, Func<Tensor, Tensor> op)
    {
        bool isFloat = (data.Schema[input].Type is VectorDataViewType v ? v.ItemType : data.Schema[input].Type) == NumberDataViewType.Single;
        return DataViewReader.Column(data, input).Select(row =>
        {
            using var scope = NewDisposeScope();
            Tensor t = isFloat ? tensor(row.Select(x => (float)x).ToArray()) : tensor(row);
            return op(t).to_type(ScalarType.Float64).data<double>().ToArray();
        }).ToList();
    }

    [TestMethod]
    public void Quantize_EveryShape_BitIdenticalToFakeQuantize()
    {
        var (ml, data) = Load();
        foreach (string input in Inputs)
        {
            var transformer = ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "Q", InputColumnName = input, Bits = 6, Symmetric = true }).Fit(data);
            var grid = (AffineGrid)transformer.GridOf("Q");
            var expected = ThroughOps(data, input, t => Rounding.FakeQuantize(t, grid.Scales[0], 0, -32, 31));
            DataViewReader.AssertIdentical(expected, DataViewReader.Column(transformer.Transform(data), "Q"), input);
        }

        foreach (string input in new[] { "FV", "DV" })
        {
            var transformer = ml.Transforms.Quantize("Q", input, bits: 8, perSlot: true).Fit(data);
            var grid = (AffineGrid)transformer.GridOf("Q");
            var expected = ThroughOps(data, input, t => Rounding.FakeQuantizePerChannel(t.unsqueeze(0), tensor(grid.Scales.ToArray()), tensor(grid.ZeroPoints.ToArray()), 1, 0, 255).squeeze(0));
            DataViewReader.AssertIdentical(expected, DataViewReader.Column(transformer.Transform(data), "Q"), input + " per slot");
        }
    }
    [TestMethod]
    [DataRow(0, MidpointRounding.ToEven)]
    [DataRow(2, MidpointRounding.ToEven)]
    [DataRow(-1, MidpointRounding.AwayFromZero)]
    [DataRow(3, MidpointRounding.AwayFromZero)]
    public void Round_EveryInputShape_BitIdenticalToOpsLibrary(int decimals, MidpointRounding midpoint)
    {
        var (ml, data) = Load();
        foreach (string input in Inputs)
        {
            var transformed = ml.Transforms.Round("Out", input, decimals, midpoint).Fit(data).Transform(data);
            Assert.AreEqual(data.Schema[input].Type, transformed.Schema["Out"].Type, input);
            var expected = ThroughOps(data, input, t => Rounding.RoundDecimals(t, decimals, midpoint));
            DataViewReader.AssertIdentical(expected, DataViewReader.Column(transformed, "Out"), $"{input} d={decimals} {midpoint}");
        }
    }

    [TestMethod]
    [DataRow(0.25, 0.0)]
    [DataRow(0.05, 0.01)]
    [DataRow(10.0, -3.0)]
    public void RoundToStep_EveryInputShape_BitIdenticalToOpsLibrary(double step, double offset)
    {
        var (ml, data) = Load();
        foreach (string input in Inputs)
        {
            var transformed = ml.Transforms.RoundToStep("Out", input, step, offset).Fit(data).Transform(data);
            var expected = ThroughOps(data, input, t => Rounding.RoundToStep(t, step, offset));
            DataViewReader.AssertIdentical(expected, DataViewReader.Column(transformed, "Out"), $"{input} step={step} offset={offset}");
        }
    }

    [TestMethod]
    public void CreateModule_IsTheSameRoundingAsATorchModule()
    {
        var (ml, data) = Load();
        var chain = ml.Transforms.Round("R", "FV", 1).Append(ml.Transforms.Quantize("Q", "FV", bits: 5, perSlot: true)).Fit(data);
        var transformed = chain.Transform(data);
        foreach (var (step, name) in chain.Cast<RoundingTransformer>().Zip(new[] { "R", "Q" }))
        {
            using var layer = step.CreateModule(name);
            var viaLayer = DataViewReader.Column(data, "FV").Select(row =>
            {
                using var scope = NewDisposeScope();
                return layer.call(tensor(row.Select(x => (float)x).ToArray()).unsqueeze(0)).squeeze(0).to_type(ScalarType.Float64).data<double>().ToArray();
            }).ToList();
            DataViewReader.AssertIdentical(DataViewReader.Column(transformed, name), viaLayer, name);
        }

        Assert.AreEqual("outputColumnName", Assert.ThrowsExactly<ArgumentException>(() => chain.LastTransformer.CreateModule("nope")).ParamName);
    }}
