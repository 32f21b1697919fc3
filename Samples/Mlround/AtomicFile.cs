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

    public static void Write(string path, Action<string> writeTo)
    {
        string full = Path.GetFullPath(path);
        string folder = CheckFolder(path);

        string temp = Path.Combine(folder, "." + Path.GetFileName(full) + "." + Environment.ProcessId + ".tmp");
        try
        {
            writeTo(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
