namespace MlRounding.Samples.Tests;

/// <summary>A new empty folder under the system's temporary folder, deleted with everything in it on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    /// <summary>Gets the folder's full path.</summary>
    public string Path { get; } = Directory.CreateTempSubdirectory("mlround-tests-").FullName;

    /// <summary>The full path of <paramref name="name"/> inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Deletes the folder and everything in it (best effort).</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file for a moment; the folder is the system's to clean then.
        }
    }
}
