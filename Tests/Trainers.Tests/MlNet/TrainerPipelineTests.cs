using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers.Tests.MlNet;

[TestClass]
public sealed class TrainerPipelineTests
{
    public sealed class Digit
    {
        [LoadColumn(0, 63)]
        [VectorType(64)]
        public float[] Pixels { get; set; } = new float[64];

        [LoadColumn(64)]
        public float Label { get; set; }
    }

    public sealed class DigitPrediction
    {
        public uint PredictedLabel { get; set; }

        public float[] Score { get; set; } = Array.Empty<float>();
    }

    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    /// <summary>The digits data with the fixed split of <see cref="Digits"/> (every fifth row is test).</summary>
    private static (IDataView Train, IDataView Test) DigitsViews(MLContext ml)
    {
        var all = ml.Data.LoadFromTextFile<Digit>(DataFile("digits.csv"), hasHeader: true, separatorChar: ',');
        var rows = ml.Data.CreateEnumerable<Digit>(all, reuseRowObject: false).ToList();
        var train = ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 != 0));
        var test = ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 == 0));
        return (train, test);
    }

    private static IEstimator<ITransformer> Featurize(MLContext ml) =>
        ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Concatenate("Features", "Pixels"))
            .Append(ml.Transforms.NormalizeMinMax("Features"));

    [TestMethod]
    public void ReportedValidation_IsTheReturnedModelOnTheValidationRows_WithTheDefaultInputGrid()
    {
        // The default input grid: the trainer's batches hold what the first layer sees, while the validation rows must
        // reach the deployed scorer raw (it quantizes them itself); the kept epoch's reported accuracy is then exactly the
        // returned model's accuracy on those rows, and as good as on the test rows.
        foreach (bool streamRows in new[] { false, true })
        {
            var ml = new MLContext(seed: 1);
            var (train, test) = DigitsViews(ml);
            var featurize = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.Concatenate("Features", "Pixels")).Fit(train);
            var seen = new List<QatProgress>();
            var options = new QatOptions { WeightBits = 4, MaxEpoch = 12, NumberOfThreads = 1, ValidationSet = featurize.Transform(test), StreamRows = streamRows, Progress = new Collect(seen) };
            var model = ml.MulticlassClassification.Trainers.QuantizationAware(options).Fit(featurize.Transform(train));
            Assert.IsNotNull(model.Model.Network.InputGrid, "the default input grid");
            double kept = seen.Single(p => p.Epoch == seen[^1].BestEpoch).ValidationMetric;
            double accuracy = ml.MulticlassClassification.Evaluate(model.Transform(featurize.Transform(test))).MicroAccuracy;
            Assert.AreEqual(accuracy, kept, 1e-12, $"stream rows: {streamRows}");
            Assert.IsGreaterThan(0.94, kept, $"stream rows: {streamRows}");
        }
    }

    [TestMethod]
    public void Multiclass_InAPipeline_EvaluatePredictionEngineSaveLoad()
    {
        var ml = new MLContext(seed: 1);
        var (train, test) = DigitsViews(ml);
        var trainer = ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { WeightBits = 4, MaxEpoch = 30, NumberOfThreads = 1 });
        var model = Featurize(ml).Append(trainer).Fit(train);
        var scored = model.Transform(test);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.IsGreaterThan(0.94, metrics.MicroAccuracy);
        Assert.IsGreaterThan(0.94, metrics.MacroAccuracy);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 10), scored.Schema["Score"].Type);
        Assert.IsInstanceOfType<KeyDataViewType>(scored.Schema["PredictedLabel"].Type);

        // The plain C# scorer behind the transformer is the exported network.
        var network = model.LastTransformer.Model.Network;
        Assert.AreEqual(4, network.Layers[0].WeightBits);

        var engine = ml.Model.CreatePredictionEngine<Digit, DigitPrediction>(model);
        var first = ml.Data.CreateEnumerable<Digit>(test, reuseRowObject: false).First();
        var prediction = engine.Predict(first);
        Assert.AreEqual(10, prediction.Score.Length);
        Assert.AreEqual(1, prediction.Score.Sum(), 1e-5, "probabilities");

        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, train.Schema, path);
            var loaded = new MLContext().Model.Load(path, out _);
            var again = loaded.Transform(test);
            var before = ml.Data.CreateEnumerable<DigitPrediction>(scored, false).ToList();
            var after = new MLContext().Data.CreateEnumerable<DigitPrediction>(again, false).ToList();
            for (int i = 0; i < before.Count; i++)
            {
                Assert.AreEqual(before[i].PredictedLabel, after[i].PredictedLabel);
                CollectionAssert.AreEqual(before[i].Score, after[i].Score, $"row {i}: bit-identical scores after load");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void Multiclass_CrossValidateAndPermutationFeatureImportance()
    {
        var ml = new MLContext(seed: 1);
        var (train, _) = DigitsViews(ml);
        var data = Featurize(ml).Fit(train).Transform(train);
        var trainer = ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 32 }, MaxEpoch = 8, LearningRateSchedule = LearningRateSchedule.Constant, NumberOfThreads = 1 });
        var folds = ml.MulticlassClassification.CrossValidate(data, trainer, numberOfFolds: 3);
        Assert.HasCount(3, folds);
        Assert.IsTrue(folds.All(f => f.Metrics.MicroAccuracy > 0.85));
        var model = trainer.Fit(data);
        var importance = ml.MulticlassClassification.PermutationFeatureImportance(model, data, permutationCount: 1);
        Assert.HasCount(64, importance);
    }

    public sealed class Patient
    {
        [LoadColumn(0, 9)]
        [VectorType(10)]
        public float[] Baseline { get; set; } = new float[10];

        [LoadColumn(10)]
        public float Progression { get; set; }
    }

    [TestMethod]
    public void Regression_OnDiabetes_NearTheLinearPeer()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile<Patient>(DataFile("diabetes.csv"), hasHeader: true, separatorChar: ',');
        var split = ml.Data.TrainTestSplit(data, 0.2, seed: 1);
        var pipeline = ml.Transforms.NormalizeMeanVariance("Features", "Baseline")
            .Append(ml.Regression.Trainers.QuantizationAware(new QatOptions { LabelColumnName = "Progression", HiddenLayers = new[] { 32 }, NumberOfThreads = 1 }));
        var metrics = ml.Regression.Evaluate(pipeline.Fit(split.TrainSet).Transform(split.TestSet), labelColumnName: "Progression");
        var peer = ml.Transforms.NormalizeMeanVariance("Features", "Baseline").Append(ml.Regression.Trainers.Sdca(labelColumnName: "Progression"));
        var peerMetrics = ml.Regression.Evaluate(peer.Fit(split.TrainSet).Transform(split.TestSet), labelColumnName: "Progression");
        // Measured 2026-12-01: QAT W8 0.313, ML.NET's linear SDCA on the same split 0.358 (88 test rows; the mean scores 0,
        // a broken output standardisation far below 0). Within 0.08 of the linear peer, measured in this run.
        Assert.IsGreaterThanOrEqualTo(peerMetrics.RSquared - 0.08, metrics.RSquared, $"R² {metrics.RSquared} vs SDCA {peerMetrics.RSquared}");
    }

    public sealed class Tumour
    {
        [LoadColumn(0, 29)]
        [VectorType(30)]
        public float[] Measurements { get; set; } = new float[30];

        [LoadColumn(30)]
        public bool Benign { get; set; }
    }

    [TestMethod]
    public void Binary_OnBreastCancer_ScoreProbabilityPredictedLabel()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile<Tumour>(DataFile("breast_cancer.csv"), hasHeader: true, separatorChar: ',');
        var split = ml.Data.TrainTestSplit(data, 0.2, seed: 1);
        var pipeline = ml.Transforms.NormalizeMeanVariance("Features", "Measurements")
            .Append(ml.BinaryClassification.Trainers.QuantizationAware(new QatOptions { LabelColumnName = "Benign", WeightBits = 8, MaxEpoch = 40, NumberOfThreads = 1 }));
        var scored = pipeline.Fit(split.TrainSet).Transform(split.TestSet);
        Assert.AreEqual(NumberDataViewType.Single, scored.Schema["Probability"].Type);
        Assert.AreEqual(BooleanDataViewType.Instance, scored.Schema["PredictedLabel"].Type);
        var metrics = ml.BinaryClassification.Evaluate(scored, labelColumnName: "Benign");
        // Measured: accuracy 0.939, AUC 0.988 (LbfgsLogisticRegression on the same split: accuracy 0.965).
        Assert.IsGreaterThan(0.9, metrics.Accuracy);
        Assert.IsGreaterThan(0.97, metrics.AreaUnderRocCurve);
    }

    [TestMethod]
    public void BadInput_GivesClearErrors()
    {
        var ml = new MLContext(seed: 1);
        var (train, _) = DigitsViews(ml);
        var noKey = ml.Transforms.Concatenate("Features", "Pixels").Fit(train).Transform(train);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.QuantizationAware().Fit(noKey));
        StringAssert.StartsWith(e.Message, "Schema mismatch for label column 'Label': expected Key<UInt32>");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.QuantizationAware(featureColumnName: "Nope").Fit(noKey));
        StringAssert.StartsWith(e.Message, "Could not find feature column 'Nope'");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Regression.Trainers.QuantizationAware(featureColumnName: "Label").Fit(noKey));
        StringAssert.StartsWith(e.Message, "Schema mismatch for feature column 'Label': expected known-size vector of Single");
        Assert.AreEqual("WeightBits", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.QuantizationAware(weightBits: 12)).ParamName);
    }
}

[TestClass]
public sealed class DeterminismTests
{
    [TestMethod]
    public void SameSeedAndThreads_ByteIdenticalSavedModelEntries()
    {
        byte[] Save()
        {
            var ml = new MLContext(seed: 1);
            var rows = ml.Data.CreateEnumerable<TrainerPipelineTests.Digit>(
                ml.Data.LoadFromTextFile<TrainerPipelineTests.Digit>(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), hasHeader: true, separatorChar: ','), false).Take(600).ToList();
            var data = ml.Data.LoadFromEnumerable(rows);
            var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.Concatenate("Features", "Pixels"))
                .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 32 }, MaxEpoch = 5, WeightBits = 4, NumberOfThreads = 1 }))
                .Fit(data);
            using var stream = new MemoryStream();
            ml.Model.SaveDeterministic(model, data.Schema, stream);
            return stream.ToArray();
        }

        byte[] first = Save(), second = Save();
        using var a = new System.IO.Compression.ZipArchive(new MemoryStream(first));
        using var b = new System.IO.Compression.ZipArchive(new MemoryStream(second));
        CollectionAssert.AreEqual(a.Entries.Select(e => e.FullName).ToArray(), b.Entries.Select(e => e.FullName).ToArray());
        foreach (var entry in a.Entries)
        {
            using var x = new MemoryStream();
            using var y = new MemoryStream();
            entry.Open().CopyTo(x);
            b.GetEntry(entry.FullName)!.Open().CopyTo(y);
            CollectionAssert.AreEqual(x.ToArray(), y.ToArray(), entry.FullName);
        }

        Assert.IsTrue(first.AsSpan().SequenceEqual(second), "the whole model file is byte-identical");
    }
}
