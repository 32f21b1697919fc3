namespace MlRounding;

/// <summary>Undoes a thread-local kernel choice made for a test (<see cref="IntegerKernels.Force"/>, <see cref="ScoringKernels.ForceVectorBits"/>) when disposed.</summary>
internal sealed class ForcedScope(Action restore) : IDisposable
{
    public void Dispose() => restore();
}
