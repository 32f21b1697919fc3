namespace MlRounding.Cli;

/// <summary>Writes a file under a temporary name in the same folder, then moves it into place: a failed run leaves no partial file.</summary>
internal static class AtomicFile
{
    /// <summary>Fails early when the folder that would receive <paramref name="path"/> does not exist.</summary>
    /// <returns>The folder.</returns>
    public static string CheckFolder(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        return folder is not null && Directory.Exists(folder) ? folder : throw new DirectoryNotFoundException($"the folder of '{path}' does not exist.");
    }

    /// <summary>Writes <paramref name="path"/> through a temporary file in the same folder (see <see cref="ModelFiles.WriteAtomically(string, Action{string})"/>).</summary>
    public static void Write(string path, Action<string> writeTo) => ModelFiles.WriteAtomically(path, writeTo);
}
