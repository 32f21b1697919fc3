using MlRounding.Tests.Shared;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.MlNet;

[TestClass]
public sealed class EstimatorContractTests
{
    public sealed class TextOnly
    {
        public string F { get; set; } = "x";

        public string FV { get; set; } = "y";
    }

    private static (MLContext Ml, IDataView Valid, IDataView Invalid) Data()
    {
        var ml = new MLContext(seed: 1);
        return (ml, ml.Data.LoadFromEnumerable(TestRow.Make(100)), ml.Data.LoadFromEnumerable(new[] { new TextOnly() }));
    }

    [TestMethod]
    public void Round_AllOverloads()
    {
        var (ml, valid, invalid) = Data();
        EstimatorHarness.Check(ml, ml.Transforms.Round("F", decimals: 1), valid, invalid);
        EstimatorHarness.Check(ml, ml.Transforms.Round(new[] { new InputOutputColumnPair("A", "F"), new InputOutputColumnPair("B", "FV") }, -1, MidpointRounding.AwayFromZero), valid);
        EstimatorHarness.Check(ml, ml.Transforms.Round(new RoundOptions { OutputColumnName = "Out", InputColumnName = "VarF", Decimals = 2 }), valid);
    }

    [TestMethod]
    public void RoundToStep_AllOverloads()
    {
        var (ml, valid, invalid) = Data();
        EstimatorHarness.Check(ml, ml.Transforms.RoundToStep("F", step: 0.25), valid, invalid);
        EstimatorHarness.Check(ml, ml.Transforms.RoundToStep(new[] { new InputOutputColumnPair("A", "D"), new InputOutputColumnPair("B", "DV") }, 0.1, 0.05), valid);
        EstimatorHarness.Check(ml, ml.Transforms.RoundToStep(new RoundToStepOptions { OutputColumnName = "Out", InputColumnName = "VarF", Step = 2, Offset = 1 }), valid);
    }

    [TestMethod]
    public void Quantize_AllOverloads()
    {
        var (ml, valid, invalid) = Data();
        EstimatorHarness.Check(ml, ml.Transforms.Quantize("F", bits: 4), valid, invalid);
        EstimatorHarness.Check(ml, ml.Transforms.Quantize(new[] { new InputOutputColumnPair("A", "FV"), new InputOutputColumnPair("B", "DV") }, 8, symmetric: true, perSlot: true), valid);
        EstimatorHarness.Check(ml, ml.Transforms.Quantize(new QuantizeOptions
        {
            OutputColumnName = "Out", InputColumnName = "VarF", Bits = 3, Calibration = QuantizeCalibration.Percentile, Percentile = 99, CodesColumnName = "Codes", NarrowRange = true,
        }), valid);
    }

    [TestMethod]
    public void VectorSizeDifferingBetweenFitAndTransform_IsRejected()
    {
        var ml = new MLContext();
        var four = ml.Data.LoadFromEnumerable(TestRow.Make(20));
        var transformer = ml.Transforms.Quantize("Q", "FV", perSlot: true).Fit(four);
        var three = ml.Data.LoadFromEnumerable(TestRow.Make(20));
        var renamed = ml.Transforms.CopyColumns("FV", "DV").Append(ml.Transforms.Conversion.ConvertType("FV", outputKind: DataKind.Single)).Fit(three).Transform(three);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => transformer.Transform(renamed));
        StringAssert.Contains(e.Message, "Schema mismatch for input column 'FV': expected known-size vector of Single with 4 slots");
    }

    [TestMethod]
    public void Quantize_EmptyOrAllNaNData_FailsNamingTheColumn()
    {
        var ml = new MLContext();
        var empty = ml.Data.LoadFromEnumerable(new List<TestRow>());
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.Quantize("Q", "F").Fit(empty));
        StringAssert.Contains(e.Message, "'F' has no finite values");
        var nan = ml.Data.LoadFromEnumerable(new[] { new TestRow { F = float.NaN } });
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.Quantize("Q", "F").Fit(nan)).Message, "0 rows read".Replace("0", "1"));
    }

    [TestMethod]
    public void ParallelCursors_GiveTheSameValuesAsOneCursor()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(TestRow.Make(5000));
        var transformed = ml.Transforms.Round("R", "FV", 1).Append(ml.Transforms.Quantize("Q", "DV", perSlot: true)).Fit(data).Transform(ml.Data.Cache(data));
        foreach (string column in new[] { "R", "Q" })
        {
            var single = DataViewReader.Rows(transformed, column).ToDictionary(r => r.Id, r => r.Values);
            var parallel = DataViewReader.Rows(transformed, column, cursors: 4);
            Assert.HasCount(single.Count, parallel);
            foreach (var (id, values) in parallel)
            {
                CollectionAssert.AreEqual(single[id], values, $"{column} row {id}");
            }
        }
    }

    public sealed class Input
    {
        public float F { get; set; }

        [VectorType(3)]
        public double[] DV { get; set; } = new double[3];
    }

    public sealed class Output
    {
        public float R { get; set; }

        [VectorType(3)]
        public double[] Q { get; set; } = new double[3];
    }

    [TestMethod]
    public void PredictionEngine_GivesTheTransformedValues()
    {
        var ml = new MLContext();
        var rows = TestRow.Make(50);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Round("R", "F", 2).Append(ml.Transforms.Quantize("Q", "DV", bits: 6)).Fit(data);
        var expectedR = DataViewReader.Column(model.Transform(data), "R");
        var expectedQ = DataViewReader.Column(model.Transform(data), "Q");
        var engine = ml.Model.CreatePredictionEngine<Input, Output>(model);
        for (int i = 0; i < rows.Count; i++)
        {
            var output = engine.Predict(new Input { F = rows[i].F, DV = rows[i].DV });
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(expectedR[i][0]), BitConverter.DoubleToInt64Bits(output.R), $"row {i}");
            CollectionAssert.AreEqual(expectedQ[i], output.Q, $"row {i}");
        }
    }

    [TestMethod]
    public void MixedPipeline_WithBuiltInTransforms_SavesAndLoads()
    {
        var ml = new MLContext(seed: 3);
        var data = ml.Data.LoadFromEnumerable(TestRow.Make(300));
        var pipeline = ml.Transforms.NormalizeMinMax("N", "FV")
            .Append(ml.Transforms.Round("R", "N", 2))
            .Append(ml.Transforms.Conversion.ConvertType("DF", "DV", DataKind.Single))
            .Append(ml.Transforms.Concatenate("C", "R", "DF"))
            .Append(ml.Transforms.Quantize("Q", "C", bits: 4, perSlot: true, calibration: QuantizeCalibration.Percentile));
        EstimatorHarness.Check(ml, pipeline, data);
    }
}
