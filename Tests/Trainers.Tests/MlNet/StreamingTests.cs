using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers.Tests.MlNet;

/// <summary><see cref="QatOptions.StreamRows"/>: minibatches read from the IDataView each epoch, shuffled per epoch with the seed.</summary>
[TestClass]
public sealed class StreamingTests
{
    /// <summary>Delegates to a data view and counts the cursors opened on it.</summary>
    /// <summary>Counts the cursors opened on <paramref name="inner"/>; with <paramref name="knowsCount"/> false it hides the row count, as a streamed source may.</summary>
    private sealed class CountingView(IDataView inner, bool knowsCount = true) : IDataView
    {
        public int Cursors;

        public bool CanShuffle => inner.CanShuffle;

        public DataViewSchema Schema => inner.Schema;

        public long? GetRowCount() => knowsCount ? inner.GetRowCount() : null;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            Interlocked.Increment(ref Cursors);
            return inner.GetRowCursor(columnsNeeded, rand);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        {
            Interlocked.Increment(ref Cursors);
            return inner.GetRowCursorSet(columnsNeeded, n, rand);
        }
    }

    private static (MLContext Ml, IDataView Train, IDataView Test) Digits()
    {
        var ml = new MLContext(seed: 1);
        var rows = ml.Data.CreateEnumerable<TrainerPipelineTests.Digit>(
            ml.Data.LoadFromTextFile<TrainerPipelineTests.Digit>(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), hasHeader: true, separatorChar: ','), false).ToList();
        var featurize = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"));
        var train = ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 != 0));
        var model = featurize.Fit(train);
        return (ml, model.Transform(train), model.Transform(ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 == 0))));
    }

    [TestMethod]
    public void Streamed_OnePassPerEpoch_AccurateAndDeterministic()
    {
        var (ml, train, test) = Digits();
        var counting = new CountingView(train);
        QatOptions Options() => new() { HiddenLayers = new[] { 64, 32 }, WeightBits = 4, MaxEpoch = 12, BatchSize = 32, StreamRows = true, ShufflePoolSize = 500, ValidationFraction = 0, NumberOfThreads = 1 };
        var progress = new List<QatProgress>();
        var options = Options();
        options.Progress = new Collect(progress);
        var model = ml.MulticlassClassification.Trainers.QuantizationAware(options).Fit(counting);
        Assert.AreEqual(1 + 12, counting.Cursors, "one pass for the row count and label moments, then one per epoch");
        Assert.HasCount(12, progress);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.IsGreaterThan(0.93, metrics.MicroAccuracy, "streamed training learns");

        float[] Scores(ITransformer m) => m.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        var again = ml.MulticlassClassification.Trainers.QuantizationAware(Options()).Fit(train);
        CollectionAssert.AreEqual(Scores(model), Scores(again), "same seed and threads: the same model");
    }

    [TestMethod]
    public void Streamed_Regression_WithAValidationFraction_AndCancellation()
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 3000).Select(i => new { Features = new[] { i % 7 / 7f, i % 11 / 11f, i % 13 / 13f }, Label = 3f * (i % 7) - 2f * (i % 11) + 100 }).ToList();
        var schema = SchemaDefinition.Create(rows[0].GetType());
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var model = ml.Regression.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 16 }, MaxEpoch = 15, StreamRows = true, ValidationFraction = 0.2, NumberOfThreads = 1 }).Fit(data);
        var metrics = ml.Regression.Evaluate(model.Transform(data));
        Assert.IsGreaterThan(0.95, metrics.RSquared, $"R² {metrics.RSquared}");

        using var cancel = new CancellationTokenSource();
        var options = new QatOptions { HiddenLayers = new[] { 16 }, MaxEpoch = 50, StreamRows = true, NumberOfThreads = 1, CancellationToken = cancel.Token };
        options.Progress = new CancelAfterFirst(cancel);
        Assert.ThrowsExactly<OperationCanceledException>(() => ml.Regression.Trainers.QuantizationAware(options).Fit(data));
    }

    [TestMethod]
    [DataRow(9_999)] // QatOptions.LargeDataRows - 1
    [DataRow(10_000)] // QatOptions.LargeDataRows
    public void Streamed_AutomaticValidationFraction_FollowsTheRowCount(int count)
    {
        // A streamed view need not know its row count: the automatic fraction follows the usable rows that the batches'
        // first pass counts. Below LargeDataRows a tenth is held out (validation scores reported), from there on none.
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, count).Select(i => new { Features = new[] { i % 7 / 7f, i % 11 / 11f }, Label = i % 3 == 0 }).ToList();
        var schema = SchemaDefinition.Create(rows[0].GetType());
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2);
        var unknownCount = new CountingView(ml.Data.LoadFromEnumerable(rows, schema), knowsCount: false);
        var progress = new List<QatProgress>();
        var options = new QatOptions { HiddenLayers = new[] { 4 }, MaxEpoch = 2, BatchSize = 256, StreamRows = true, NumberOfThreads = 1, Progress = new Collect(progress) };
        ml.BinaryClassification.Trainers.QuantizationAware(options).Fit(unknownCount);
        bool large = count >= QatOptions.LargeDataRows;
        Assert.AreEqual(large, double.IsNaN(progress[^1].ValidationMetric), $"{count} rows: validation scores {progress[^1].ValidationMetric}");
        if (large)
        {
            CollectionAssert.AreEqual(new[] { 1, 2 }, progress.Select(p => p.BestEpoch).ToArray(), "without validation rows the latest epoch is kept");
        }
    }

    [TestMethod]
    public void ShufflePoolSizeZero_NamesTheOption() =>
        Assert.AreEqual(nameof(QatOptions.ShufflePoolSize), Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext().Regression.Trainers.QuantizationAware(new QatOptions { ShufflePoolSize = 0 })).ParamName);
}
