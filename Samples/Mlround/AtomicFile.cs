namespace MlRounding.Cli;

/// <summary>Writes a file under a temporary name in the same folder, then moves it into place: a failed run leaves no partial file.</summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<string> writeTo)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || !Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"the folder of '{path}' does not exist.");
        }

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
