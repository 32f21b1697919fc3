using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.MlNet;

/// <summary>
/// Cancellation through <see cref="QatOptions.CancellationToken"/>: cancelled at a known point (a progress report, or a
/// given minibatch), training stops at the next step and returns nothing. No clocks: what was done is counted.
/// </summary>
[TestClass]
public sealed class CancellationTests
{
    [TestMethod]
    public void CancelledFromTheProgressOfEpoch1_InAPipeline_NoSecondEpoch_NothingReturned()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 400).Select(i => new { Features = new[] { i % 7 / 7f, i % 11 / 11f, i % 13 / 13f }, Label = (float)(i % 5) }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows, SchemaFor());
        using var source = new CancellationTokenSource();
        var reports = new List<int>();
        var options = new QatOptions { MaxEpoch = 1000, NumberOfThreads = 1, CancellationToken = source.Token };
        options.Progress = new Reporter(p =>
        {
            reports.Add(p.Epoch);
            source.Cancel();
        });
        ITransformer? model = null;
        Assert.ThrowsExactly<OperationCanceledException>(() => model = ml.Regression.Trainers.QuantizationAware(options).Fit(data));
        CollectionAssert.AreEqual(new[] { 1 }, reports, "epoch 1 reported, then no other epoch");
        Assert.IsNull(model);
    }

    [TestMethod]
    [DataRow(1, 3)]
    [DataRow(2, 1)]
    [DataRow(2, 7)]
    public void CancelledWhileABatchIsServed_NoFurtherBatchIsRequested(int epoch, int batch)
    {
        // 50 batches of 8 per epoch; the token is cancelled as batch `batch` of epoch `epoch` is handed out. Training
        // takes that step, then checks the token before asking for the next batch.
        using var source = new CancellationTokenSource();
        var options = new QatOptions { HiddenLayers = new[] { 8 }, WeightBits = 4, BatchSize = 8, MaxEpoch = 100, ValidationFraction = 0, NumberOfThreads = 1 };
        using var batches = new CancellingBatches(new InMemoryBatches(Digits.Train.Subset(Enumerable.Range(0, 400).ToArray()), options.Task, 8, null), source, epoch, batch);
        var reports = new List<int>();
        Assert.ThrowsExactly<OperationCanceledException>(() =>
            QatTraining.Train(batches, 10, options, null, new Reporter(p => reports.Add(p.Epoch)), source.Token, null));
        Assert.AreEqual(((epoch - 1) * 50) + batch, batches.Served, "batches handed out: none after the one that cancelled");
        CollectionAssert.AreEqual(Enumerable.Range(1, epoch - 1).ToArray(), reports, "the epochs before it completed");
    }

    private static SchemaDefinition SchemaFor()
    {
        var definition = SchemaDefinition.Create(new { Features = new float[3], Label = 0f }.GetType());
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        return definition;
    }

    private sealed class Reporter(Action<QatProgress> report) : IProgress<QatProgress>
    {
        public void Report(QatProgress value) => report(value);
    }

    /// <summary>Serves another source's batches, counting them, and cancels as a given one is handed out.</summary>
    private sealed class CancellingBatches(InMemoryBatches inner, CancellationTokenSource source, int epoch, int batch) : IBatchSource, IDisposable
    {
        public int Served { get; private set; }

        public int FeatureCount => inner.FeatureCount;

        public long Count => inner.Count;

        public (double Mean, double Std) LabelMoments() => inner.LabelMoments();

        public Tensor CalibrationRows() => inner.CalibrationRows();

        public IEnumerable<(Tensor X, Tensor Y, int Rows)> Epoch(int e, Generator shuffle)
        {
            int k = 0;
            foreach (var b in inner.Epoch(e, shuffle))
            {
                Served++;
                if (e == epoch && ++k == batch)
                {
                    source.Cancel();
                }

                yield return b;
            }
        }

        public void Dispose() => inner.Dispose();
    }
}
