using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.MlNet;

/// <summary><see cref="MissingValueImputingTransformer"/>: regression imputation against closed-form cases, its rules for NaN and infinities, persistence and bad input.</summary>
[TestClass]
public sealed class ImputationTests
{
    private sealed class Row
    {
        [VectorType(3)] public float[] X { get; set; } = new float[3];
    }

    /// <summary>x1 = 2 x0 + 3 exactly, x2 independent of both; x0 and x1 missing in rows 2 and 5 (so each is fitted on rows where the other is present, and the fit is exact).</summary>
    private static List<Row> Training()
    {
        float[] noise = { 0.3f, -1.2f, 0.8f, 2.1f, -0.4f, 1.7f, -2.2f, 0.5f, 1.1f, -0.9f };
        var rows = Enumerable.Range(0, 10).Select(i => new Row { X = new[] { (float)i, (2f * i) + 3, noise[i] } }).ToList();
        rows[2].X[0] = rows[2].X[1] = float.NaN;
        rows[5].X[0] = rows[5].X[1] = float.NaN;
        return rows;
    }

    private static float[] Apply(MLContext ml, ITransformer model, params float[][] rows) =>
        model.Transform(ml.Data.LoadFromEnumerable(rows.Select(x => new Row { X = x }))).GetColumn<float[]>("Y").Single();

    private static float[][] ApplyAll(MLContext ml, ITransformer model, params float[][] rows) =>
        model.Transform(ml.Data.LoadFromEnumerable(rows.Select(x => new Row { X = x }))).GetColumn<float[]>("Y").ToArray();

    private static MissingValueImputingTransformer Fit(MLContext ml, double ridge = 0) =>
        ml.Transforms.ImputeMissingValues(new MissingValueImputingOptions { OutputColumnName = "Y", InputColumnName = "X", Ridge = ridge }).Fit(ml.Data.LoadFromEnumerable(Training()));

    [TestMethod]
    public void ExactLinearRelation_MissingCellTakesItsValue()
    {
        var ml = new MLContext(seed: 1);
        var model = Fit(ml);
        CollectionAssert.AreEqual(new[] { 0, 1 }, model.RegressedSlots.ToArray(), "slots 0 and 1 had gaps; slot 2 did not");
        float[][] y = ApplyAll(ml, model, new[] { 4f, float.NaN, 0f }, new[] { 11.5f, float.NaN, -3f }, new[] { float.NaN, 13f, 1f });
        Assert.AreEqual(11f, y[0][1], 1e-3f, "2 * 4 + 3");
        Assert.AreEqual(26f, y[1][1], 1e-3f, "2 * 11.5 + 3, outside the training range");
        Assert.AreEqual(5f, y[2][0], 1e-3f, "x0 = (13 - 3) / 2");
        Assert.AreEqual(4f, y[0][0], "present values pass unchanged");
        Assert.AreEqual(-3f, y[1][2]);
    }

    [TestMethod]
    public void MeanImputationWouldMissIt_ThisIsTheDifference()
    {
        var ml = new MLContext(seed: 1);
        var mean = ml.Transforms.ReplaceMissingValues("Y", "X", Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean).Fit(ml.Data.LoadFromEnumerable(Training()));
        float[] byMean = Apply(ml, mean, new[] { 0f, float.NaN, 0f });
        float[] byRegression = Apply(ml, Fit(ml), new[] { 0f, float.NaN, 0f });
        Assert.AreEqual(3f, byRegression[1], 1e-3f);
        Assert.AreEqual((3f + 5 + 9 + 11 + 15 + 17 + 19 + 21) / 8, byMean[1], 1e-4f, "ML.NET's mean of the present cells, for contrast");
    }

    [TestMethod]
    public void UnknownPredictors_CountAsTheirMean_InfinitiesPassUnchanged()
    {
        var ml = new MLContext(seed: 1);
        var model = Fit(ml);
        float mean0 = (0f + 1 + 3 + 4 + 6 + 7 + 8 + 9) / 8; // x0 over its present training cells
        float[][] y = ApplyAll(ml, model,
            new[] { float.PositiveInfinity, float.NaN, 0f },
            new[] { float.NaN, float.NaN, float.NaN },
            new[] { 1f, 2f, float.NaN });
        Assert.AreEqual(float.PositiveInfinity, y[0][0], "an infinity is a value, not a gap");
        Assert.AreEqual((2 * mean0) + 3, y[0][1], 1e-3f, "an infinite predictor counts as its mean");
        Assert.AreEqual((2 * mean0) + 3, y[1][1], 1e-3f, "every predictor missing: the slot's intercept");
        Assert.AreEqual(mean0, y[1][0], 1e-3f);
        float mean2 = new[] { 0.3f, -1.2f, 0.8f, 2.1f, -0.4f, 1.7f, -2.2f, 0.5f, 1.1f, -0.9f }.Average();
        Assert.AreEqual(mean2, y[1][2], 1e-5f, "a slot without gaps in training takes its training mean");
        Assert.AreEqual(mean2, y[2][2], 1e-5f);
        Assert.IsTrue(y.SelectMany(r => r).All(v => !float.IsNaN(v)), "no NaN is left");
    }

    [TestMethod]
    public void OppositeInfinities_WithoutAGap_PassUnchanged_WithAGap_TheGapIsFilled()
    {
        // +∞ and -∞ together make a NaN sum: the fast check for gaps must not take that for a gap, nor miss a real one.
        var ml = new MLContext(seed: 1);
        var model = Fit(ml);
        float[][] y = ApplyAll(ml, model, new[] { float.PositiveInfinity, float.NegativeInfinity, 1f }, new[] { float.PositiveInfinity, float.NaN, float.NegativeInfinity });
        CollectionAssert.AreEqual(new[] { float.PositiveInfinity, float.NegativeInfinity, 1f }, y[0]);
        Assert.AreEqual(float.PositiveInfinity, y[1][0]);
        Assert.AreEqual(float.NegativeInfinity, y[1][2]);
        Assert.AreEqual(12.5f, y[1][1], 1e-3f, "both predictors infinite: the intercept, 2 * 4.75 + 3");
    }

    [TestMethod]
    public void Ridge_ShrinksTheWeightsTowardTheMean()
    {
        var ml = new MLContext(seed: 1);
        float exact = Apply(ml, Fit(ml, ridge: 0), new[] { 9f, float.NaN, 0f })[1];
        float shrunk = Apply(ml, Fit(ml, ridge: 10), new[] { 9f, float.NaN, 0f })[1];
        Assert.AreEqual(21f, exact, 1e-3f);
        Assert.IsTrue(shrunk < exact - 1 && shrunk > 11, $"ridge 10 pulls 21 toward the mean of about 12: {shrunk}");
    }

    [TestMethod]
    public void SaveLoad_SameBits_PredictionEngineWorks()
    {
        var ml = new MLContext(seed: 1);
        var model = Fit(ml, ridge: 0.001);
        var data = ml.Data.LoadFromEnumerable(Training());
        string path = Path.Combine(Path.GetTempPath(), $"imputation-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            ITransformer loaded = new MLContext(seed: 2).Model.Load(path, out _);
            float[] before = model.Transform(data).GetColumn<float[]>("Y").SelectMany(v => v).ToArray();
            float[] after = loaded.Transform(data).GetColumn<float[]>("Y").SelectMany(v => v).ToArray();
            CollectionAssert.AreEqual(before.Select(BitConverter.SingleToInt32Bits).ToArray(), after.Select(BitConverter.SingleToInt32Bits).ToArray());
            var engine = ml.Model.CreatePredictionEngine<Row, Imputed>(loaded);
            Assert.AreEqual(11f, engine.Predict(new Row { X = new[] { 4f, float.NaN, 0f } }).Y[1], 0.05f, "the default ridge shrinks the exact 11 a little");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class Imputed
    {
        [VectorType(3)] public float[] Y { get; set; } = new float[3];
    }

    [TestMethod]
    public void Payload_RoundTrips_EveryTruncationIsAFormatException()
    {
        var model = Fit(new MLContext(seed: 1)).Model;
        byte[] payload = ImputationPayload.Write("Y", "X", model);
        var read = ImputationPayload.Read(new MLContext(seed: 1), payload);
        CollectionAssert.AreEqual(model.Weights, read.Model.Weights);
        CollectionAssert.AreEqual(model.Intercepts, read.Model.Intercepts);
        for (int length = 0; length < payload.Length; length++)
        {
            Assert.ThrowsExactly<ModelFormatException>(() => ImputationPayload.Read(new MLContext(seed: 1), payload[..length]), $"length {length}");
        }

        Assert.ThrowsExactly<ModelFormatException>(() => ImputationPayload.Read(new MLContext(seed: 1), payload.Append((byte)0).ToArray()), "trailing byte");
        byte[] huge = (byte[])payload.Clone();
        int slotsAt = 4 + 4 + 1 + 4 + 1; // version, "Y", "X"
        BitConverter.GetBytes(int.MaxValue).CopyTo(huge, slotsAt);
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => ImputationPayload.Read(new MLContext(seed: 1), huge)).Message, "slot count");
        byte[] nan = (byte[])payload.Clone();
        BitConverter.GetBytes(float.NaN).CopyTo(nan, slotsAt + 4);
        StringAssert.Contains(Assert.ThrowsExactly<ModelFormatException>(() => ImputationPayload.Read(new MLContext(seed: 1), nan)).Message, "finite");
    }

    private sealed class Scalar
    {
        public float X { get; set; }
    }

    [TestMethod]
    public void BadInput_NamesTheColumnAndWhatWasExpected()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Training());
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.ImputeMissingValues("Y", "Nope").Fit(data));
        StringAssert.Contains(missing.Message, "'Nope'");
        var scalar = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.ImputeMissingValues("Y", "X").Fit(ml.Data.LoadFromEnumerable(new[] { new Scalar() })));
        StringAssert.Contains(scalar.Message, "known-size vector of Single");
        var model = Fit(ml);
        var narrow = ml.Data.LoadFromEnumerable(new[] { new Narrow() });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.GetOutputSchema(narrow.Schema)).Message, "3 slots");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.ImputeMissingValues(new MissingValueImputingOptions { OutputColumnName = "Y", Ridge = -1 }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.ImputeMissingValues(new MissingValueImputingOptions { OutputColumnName = "Y", Ridge = double.NaN }));
    }

    private sealed class Narrow
    {
        [VectorType(2)] public float[] X { get; set; } = new float[2];
    }

    private sealed class Wide
    {
        [VectorType(100)] public float[] X { get; set; } = new float[100];
    }

    [TestMethod]
    public void TooWideForItsNormalEquations_EverySlotTakesItsMean()
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 20).Select(i => new Wide { X = Enumerable.Range(0, 100).Select(k => (i + k) % 7 == 0 ? float.NaN : i + k).ToArray() }).ToList();
        Assert.IsTrue(100L * 101 * 101 > ImputationFit.MaximumNormalEquations, "the case is beyond the bound");
        var model = ml.Transforms.ImputeMissingValues("Y", "X").Fit(ml.Data.LoadFromEnumerable(rows));
        Assert.IsEmpty(model.RegressedSlots);
        float[] y = model.Transform(ml.Data.LoadFromEnumerable(new[] { new Wide { X = Enumerable.Repeat(float.NaN, 100).ToArray() } })).GetColumn<float[]>("Y").Single();
        double mean0 = rows.Select(r => r.X[0]).Where(v => !float.IsNaN(v)).Average();
        Assert.AreEqual(mean0, y[0], 1e-4);
    }

    private sealed class Slots63
    {
        [VectorType(63)] public float[] X { get; set; } = new float[63];
    }

    private sealed class Slots64
    {
        [VectorType(64)] public float[] X { get; set; } = new float[64];
    }

    [TestMethod]
    public void NormalEquationBound_63GappySlotsRegress_64TakeTheirMeans()
    {
        // 63 x 64² = 258,048 doubles fit the bound of 262,144; 64 x 65² = 270,400 do not.
        var ml = new MLContext(seed: 1);
        float Cell(int i, int k) => (i + k) % 5 == 0 ? float.NaN : (float)Math.Sin(i + (k * 0.37));
        var at63 = ml.Transforms.ImputeMissingValues("Y", "X").Fit(ml.Data.LoadFromEnumerable(Enumerable.Range(0, 30).Select(i => new Slots63 { X = Enumerable.Range(0, 63).Select(k => Cell(i, k)).ToArray() })));
        var at64 = ml.Transforms.ImputeMissingValues("Y", "X").Fit(ml.Data.LoadFromEnumerable(Enumerable.Range(0, 30).Select(i => new Slots64 { X = Enumerable.Range(0, 64).Select(k => Cell(i, k)).ToArray() })));
        Assert.HasCount(63, at63.RegressedSlots);
        Assert.IsEmpty(at64.RegressedSlots);
    }

    [TestMethod]
    public void EstimatorShape_IsTheInputsUnderTheOutputName()
    {
        var ml = new MLContext(seed: 1);
        var shape = MlRounding.Tests.Shared.Shapes.Of(ml.Data.LoadFromEnumerable(Training()).Schema);
        var output = ml.Transforms.ImputeMissingValues("Y", "X").GetOutputSchema(shape);
        var y = output.Single(c => c.Name == "Y");
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, y.Kind);
        Assert.AreEqual(NumberDataViewType.Single, y.ItemType);
    }
}
