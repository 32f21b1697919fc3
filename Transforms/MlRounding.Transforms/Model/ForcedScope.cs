namespace MlRounding;

/// <summary>
/// A thread-local kernel choice made for a test (<see cref="IntegerKernels.Force"/>, <see cref="ScoringKernels.ForceVectorBits"/>),
/// undone when disposed; other threads keep the default.
/// </summary>
internal sealed class ForcedScope : IDisposable
{
    private readonly Action _restore;

    private ForcedScope(Action restore) => _restore = restore;

    /// <summary>Sets an override through <paramref name="set"/> to <paramref name="value"/>, and back to what <paramref name="get"/> gave when disposed.</summary>
    public static ForcedScope Set<T>(Func<T?> get, Action<T?> set, T value)
        where T : struct
    {
        T? previous = get();
        set(value);
        return new ForcedScope(() => set(previous));
    }

    public void Dispose() => _restore();
}
