// Shared source (see Check.cs): compiled into MlRounding.Transforms, MlRounding.Trainers, the mlround tool and
// MakeGolden. Every file the library writes (model files, ONNX, safetensors, predictions) goes through it.
namespace MlRounding;

/// <summary>Writes a file whole or not at all: under a temporary name in the same folder, then moved into place.</summary>
internal static class AtomicFile
{
    /// <summary>Fails early when the folder that would receive <paramref name="path"/> does not exist.</summary>
    /// <returns>The folder.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static string CheckFolder(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        return folder is not null && Directory.Exists(folder) ? folder : throw new DirectoryNotFoundException($"the folder of '{path}' does not exist.");
    }

    /// <summary>
    /// <paramref name="write"/> fills a temporary file in the same folder, which then replaces <paramref name="path"/>;
    /// if <paramref name="write"/> throws, the temporary file is deleted and an existing file at <paramref name="path"/>
    /// is left as it was.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Write(path, (string temporary) =>
        {
            using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write);
            write(file);
        });
    }

    /// <summary>As <see cref="Write(string, Action{Stream})"/>, for writers that need a path (e.g. <c>Model.Save</c> to a file).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    public static void Write(string path, Action<string> writeTemporary)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(writeTemporary);
        string full = Path.GetFullPath(path);
        string folder = CheckFolder(full);
        string temporary = Path.Combine(folder, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            writeTemporary(temporary);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
