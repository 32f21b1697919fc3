namespace MlRounding;

/// <summary>
/// A thread-local kernel choice made for a test (<see cref="IntegerKernels.Force"/>),
/// undone when disposed; other threads keep the default.
/// </summary>
internal sealed class ForcedScope : IDisposable
{
    private readonly Action _restore;

    private ForcedScope(Action restore) => _restore = restore;

    /// <summary>Gets a value indicating whether any thread has forced a choice: until then the kernels skip the thread-static read.</summary>
    public static bool Any { get; private set; }

    /// <summary>Sets an override through <paramref name="set"/> to <paramref name="value"/>, and back to what <paramref name="get"/> gave when disposed.</summary>
    public static ForcedScope Set<T>(Func<T?> get, Action<T?> set, T value)
        where T : struct
    {
        Any = true;
        T? previous = get();
        set(value);
        return new ForcedScope(() => set(previous));
    }

    public void Dispose() => _restore();
}
