namespace MlRounding.Tests.Shared;

/// <summary>
/// The test lanes (README, "Developing"). Every test runs in the full lane (README's test command and .ci/run); the
/// fast lane, <c>dotnet test MlRounding.sln --filter "TestCategory!=Slow"</c>, leaves out the tests marked
/// <see cref="Slow"/>: those that train to an accuracy, start child processes, run the command line end to end on whole
/// data sets, or loop over many mutated files.
/// </summary>
internal static class TestLanes
{
    /// <summary>The category of the tests the fast lane leaves out.</summary>
    public const string Slow = "Slow";
}
