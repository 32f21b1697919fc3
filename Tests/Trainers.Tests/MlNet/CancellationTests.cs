using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers.Tests.MlNet;

/// <summary>Cancellation through <see cref="QatOptions.CancellationToken"/> inside an ML.NET pipeline.</summary>
[TestClass]
public sealed class CancellationTests
{
    [TestMethod]
    public void CancelledMidEpoch_StopsWithinAStep_NothingReturned()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 4000).Select(i => new { Features = new[] { i % 7 / 7f, i % 11 / 11f, i % 13 / 13f }, Label = (float)(i % 5) }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows, SchemaFor());
        using var source = new CancellationTokenSource();
        var options = new QatOptions { BatchSize = 1, MaxEpoch = 1000, NumberOfThreads = 1, CancellationToken = source.Token };
        long epochs = 0;
        options.Progress = new Counter(() => Interlocked.Increment(ref epochs));
        var trainer = ml.Regression.Trainers.QuantizationAware(options);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long cancelledAt = 0;

        // The time is taken before cancelling: a registered callback would run after the token is already cancelled,
        // racing with the training thread that observes it.
        using var timer = new Timer(_ =>
        {
            Volatile.Write(ref cancelledAt, watch.Elapsed.Ticks);
            source.Cancel();
        }, null, 300, Timeout.Infinite);
        Assert.ThrowsExactly<OperationCanceledException>(() => trainer.Fit(data));
        TimeSpan stopped = watch.Elapsed - TimeSpan.FromTicks(Volatile.Read(ref cancelledAt));

        // An epoch here is 3,600 single-row steps (several seconds); a step is well under a millisecond.
        Assert.AreEqual(0L, Interlocked.Read(ref epochs), "cancelled inside the first epoch");
        Assert.IsLessThan(TimeSpan.FromMilliseconds(250), stopped, $"stopped {stopped.TotalMilliseconds} ms after cancellation");
    }

    private static SchemaDefinition SchemaFor()
    {
        var definition = SchemaDefinition.Create(new { Features = new float[3], Label = 0f }.GetType());
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        return definition;
    }

    private sealed class Counter(Action onEpoch) : IProgress<QatProgress>
    {
        public void Report(QatProgress value) => onEpoch();
    }
}
