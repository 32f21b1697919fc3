namespace MlRounding.Trainers.Tests;

/// <summary>Collects every training progress report.</summary>
internal sealed class Collect(List<QatProgress> seen) : IProgress<QatProgress>
{
    public void Report(QatProgress value) => seen.Add(value);
}

/// <summary>Cancels <paramref name="source"/> at the first progress report (after the first epoch).</summary>
internal sealed class CancelAfterFirst(CancellationTokenSource source) : IProgress<QatProgress>
{
    public void Report(QatProgress value) => source.Cancel();
}
