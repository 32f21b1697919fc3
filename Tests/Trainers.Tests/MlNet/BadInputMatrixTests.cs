using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers.Tests.MlNet;

/// <summary>
/// The trainers' bad-input matrix, one test per entry: each gives the documented exception naming the column or option
/// (or, for rows with NaN/infinite values, the documented skip with a warning on ML.NET's log).
/// </summary>
[TestClass]
public sealed class BadInputMatrixTests
{
    private sealed class Row
    {
        [VectorType(3)]
        public float[] Features { get; set; } = new float[3];

        public float Label { get; set; }

        public bool Flag { get; set; }

        public string Text { get; set; } = "";
    }

    private static List<Row> Rows(int count = 40) => Enumerable.Range(0, count).Select(i => new Row
    {
        Features = new[] { i % 3, i % 5 / 4f, i / (float)count }, Label = i % 3, Flag = i % 2 == 0, Text = "t" + i,
    }).ToList();

    private static QatOptions Small(string label = "Label") => new() { LabelColumnName = label, HiddenLayers = new[] { 4 }, MaxEpoch = 2, NumberOfThreads = 1 };

    private static IDataView View(MLContext ml, IEnumerable<Row> rows) => ml.Data.LoadFromEnumerable(rows);

    /// <summary>The warnings ML.NET's log receives from now on.</summary>
    private static List<string> Warnings(MLContext ml)
    {
        var warnings = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning)
            {
                warnings.Add(e.Message);
            }
        };
        return warnings;
    }

    [TestMethod]
    public void WrongLabelType_Regression_NamesTheColumn()
    {
        var ml = new MLContext(1);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Regression.Trainers.QuantizationAware(Small("Text")).Fit(View(ml, Rows())));
        StringAssert.StartsWith(e.Message, "Schema mismatch for label column 'Text': expected Single, got String");
    }

    [TestMethod]
    public void WrongLabelType_Binary_NamesTheColumn()
    {
        var ml = new MLContext(1);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.QuantizationAware(Small("Label")).Fit(View(ml, Rows())));
        StringAssert.StartsWith(e.Message, "Schema mismatch for label column 'Label': expected Boolean, got Single");
    }

    [TestMethod]
    public void WrongFeatureType_Text_NamesTheColumn()
    {
        var ml = new MLContext(1);
        var options = Small();
        options.FeatureColumnName = "Text";
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Regression.Trainers.QuantizationAware(options).Fit(View(ml, Rows())));
        StringAssert.StartsWith(e.Message, "Schema mismatch for feature column 'Text': expected known-size vector of Single, got String");
    }

    [TestMethod]
    public void MissingLabelColumn_NamesIt()
    {
        var ml = new MLContext(1);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Regression.Trainers.QuantizationAware(Small("Price")).Fit(View(ml, Rows())));
        StringAssert.StartsWith(e.Message, "Could not find label column 'Price'");
    }

    [TestMethod]
    public void EmptyData_InvalidOperationNamingTheColumns()
    {
        var ml = new MLContext(1);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Regression.Trainers.QuantizationAware(Small()).Fit(View(ml, Rows(0))));
        Assert.AreEqual("No usable training rows in 'Features' / 'Label' (0 skipped).", e.Message);
    }

    [TestMethod]
    public void NaNAndInfiniteFeatures_RowsSkippedWithAWarning()
    {
        var ml = new MLContext(1);
        var warnings = Warnings(ml);
        var rows = Rows();
        rows[0].Features[1] = float.NaN;
        rows[1].Features[0] = float.PositiveInfinity;
        rows[2].Features[2] = float.NegativeInfinity;
        var model = ml.Regression.Trainers.QuantizationAware(Small()).Fit(View(ml, rows));
        Assert.IsTrue(warnings.Any(w => w.Contains("Skipped 3 training rows with NaN or infinite features or labels.", StringComparison.Ordinal)), string.Join("\n", warnings));
        Assert.IsTrue(model.Transform(View(ml, Rows(5))).GetColumn<float>("Score").All(float.IsFinite));
    }

    [TestMethod]
    public void NaNAndInfiniteLabels_RowsSkippedWithAWarning()
    {
        var ml = new MLContext(1);
        var warnings = Warnings(ml);
        var rows = Rows();
        rows[0].Label = float.NaN;
        rows[1].Label = float.PositiveInfinity;
        ml.Regression.Trainers.QuantizationAware(Small()).Fit(View(ml, rows));
        Assert.IsTrue(warnings.Any(w => w.Contains("Skipped 2 training rows", StringComparison.Ordinal)), string.Join("\n", warnings));
    }

    [TestMethod]
    public void AllRowsUnusable_InvalidOperationCountingThem()
    {
        var ml = new MLContext(1);
        var rows = Rows(4);
        rows.ForEach(r => r.Label = float.NaN);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Regression.Trainers.QuantizationAware(Small()).Fit(View(ml, rows)));
        Assert.AreEqual("No usable training rows in 'Features' / 'Label' (4 skipped).", e.Message);
    }

    [TestMethod]
    public void MulticlassLabelOutsideTheKeyRange_MissingKeyRowsSkipped()
    {
        // A key of 0 is ML.NET's missing value (e.g. a value MapValueToKey did not see): such rows are skipped like NaN labels.
        var ml = new MLContext(1);
        var train = View(ml, Rows());
        var keys = ml.Data.LoadFromEnumerable(new[] { new { Label = 0f }, new { Label = 1f } });
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Fit(train).Transform(train);
        var warnings = Warnings(ml);
        ml.MulticlassClassification.Trainers.QuantizationAware(Small()).Fit(keyed);
        int missing = Rows().Count(r => r.Label == 2);
        Assert.IsTrue(warnings.Any(w => w.Contains($"Skipped {missing} training rows", StringComparison.Ordinal)), string.Join("\n", warnings));
    }

    [TestMethod]
    public void VectorSizeDiffersBetweenFitAndTransform_MlNetsOwnError()
    {
        // ML.NET's prediction transformer checks the features before our scorer sees them, with the same error it gives
        // for its own trainers.
        var ml = new MLContext(1);
        var model = ml.Regression.Trainers.QuantizationAware(Small()).Fit(View(ml, Rows()));
        var other = ml.Data.LoadFromEnumerable(new[] { new { Features = new float[] { 1, 2 } } }, SchemaDefinitionFor(2));
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => model.Transform(other));
        Assert.AreEqual("Incompatible features column type: 'Vector<Single, 2>' vs 'Vector<Single, 3>'", e.Message);
    }

    private static SchemaDefinition SchemaDefinitionFor(int size)
    {
        var definition = SchemaDefinition.Create(new { Features = new float[] { 1, 2 } }.GetType());
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return definition;
    }

    [TestMethod]
    [DataRow(nameof(QatOptions.WeightBits), 0)]
    [DataRow(nameof(QatOptions.WeightBits), 9)]
    [DataRow(nameof(QatOptions.WeightBits), 31)]
    [DataRow(nameof(QatOptions.ActivationBits), 1)]
    [DataRow(nameof(QatOptions.ActivationBits), 17)]
    [DataRow(nameof(QatOptions.MaxEpoch), 0)]
    [DataRow(nameof(QatOptions.BatchSize), 0)]
    [DataRow(nameof(QatOptions.NumberOfThreads), 0)]
    [DataRow(nameof(QatOptions.EarlyStoppingPatience), -1)]
    public void IntegerOptionOutOfRange_NamesTheOption(string option, int value)
    {
        var options = Small();
        typeof(QatOptions).GetProperty(option)!.SetValue(options, value);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext(1).Regression.Trainers.QuantizationAware(options));
        Assert.AreEqual(option, e.ParamName);
        StringAssert.StartsWith(e.Message, option + " must");
    }

    [TestMethod]
    [DataRow(nameof(QatOptions.LearningRate), 0.0)]
    [DataRow(nameof(QatOptions.LearningRate), double.NaN)]
    [DataRow(nameof(QatOptions.WeightDecay), -1e-9)]
    [DataRow(nameof(QatOptions.ValidationFraction), 0.5)]
    [DataRow(nameof(QatOptions.HardnessStart), 0.0)]
    [DataRow(nameof(QatOptions.HardnessEnd), double.PositiveInfinity)]
    [DataRow(nameof(QatOptions.FiniteDifferenceHalfWidth), 0.0)]
    [DataRow(nameof(QatOptions.FiniteDifferenceHalfWidth), -0.25)]
    public void RealOptionOutOfRange_NamesTheOption(string option, double value)
    {
        var options = Small();
        typeof(QatOptions).GetProperty(option)!.SetValue(options, value);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext(1).BinaryClassification.Trainers.QuantizationAware(options));
        Assert.AreEqual(option, e.ParamName);
    }

    [TestMethod]
    public void HiddenLayerOfSizeZero_NamesTheOption()
    {
        var options = Small();
        options.HiddenLayers = new[] { 8, 0 };
        Assert.AreEqual(nameof(QatOptions.HiddenLayers), Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext(1).Regression.Trainers.QuantizationAware(options)).ParamName);
    }

    [TestMethod]
    public void RoundingLayerPositionOutOfRange_NamesTheOption()
    {
        var options = Small();
        options.RoundingLayers.Add(new QatRoundingLayer { Grid = new DecimalGrid(2), Position = 3 });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext(1).Regression.Trainers.QuantizationAware(options));
        Assert.AreEqual(nameof(QatOptions.RoundingLayers), e.ParamName);
        StringAssert.Contains(e.Message, "position in [0, 2]");
    }

    private static List<Row> NearFloatLimits()
    {
        var rows = Rows();
        rows[0].Features[0] = float.MaxValue;
        rows[1].Features[1] = -float.MaxValue;
        rows[2].Features[2] = float.Epsilon;
        return rows;
    }

    [TestMethod]
    public void FeaturesNearFloatLimits_UnnormalizedFloatInput_DivergenceIsAClearError()
    {
        var ml = new MLContext(1);
        var floatInput = Small();
        floatInput.InputBits = 32; // no input grid: the features reach the first layer as they are
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Regression.Trainers.QuantizationAware(floatInput).Fit(View(ml, NearFloatLimits())));
        StringAssert.StartsWith(e.Message, "Training diverged in epoch 1: the loss or the weights became NaN or infinite. Normalize the features in 'Features'");
        StringAssert.Contains(e.Message, "LearningRate");
    }

    [TestMethod]
    public void FeaturesNearFloatLimits_Normalized_TrainAndScoreFinite()
    {
        var ml = new MLContext(1);
        var data = View(ml, NearFloatLimits());
        var floatInput = Small();
        floatInput.InputBits = 32;
        var model = ml.Transforms.NormalizeMinMax("Features").Append(ml.Regression.Trainers.QuantizationAware(floatInput)).Fit(data);
        Assert.IsTrue(model.Transform(data).GetColumn<float>("Score").All(float.IsFinite));
    }

    [TestMethod]
    public void FeaturesNearFloatLimits_DefaultInputGrid_NormalizesThem_TrainAndScoreFinite()
    {
        // The default input grid quantizes each feature over its own range: values near ±3e38 reach the first layer in [-1, 1].
        var ml = new MLContext(1);
        var data = View(ml, NearFloatLimits());
        var model = ml.Regression.Trainers.QuantizationAware(Small()).Fit(data);
        Assert.IsNotNull(model.Model.Network.InputGrid);
        Assert.IsTrue(model.Transform(data).GetColumn<float>("Score").All(float.IsFinite));
    }
}
