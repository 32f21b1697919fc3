using System.IO.Compression;

namespace MlRounding;

/// <summary>
/// The loader assembly an ML.NET model entry names in its header (ML.NET's <c>ModelHeader</c>: signature at 0x00,
/// format version at 0x08, the assembly name's offset as an int64 at 0x90 and its byte count as a uint32 at 0x98, the
/// name itself UTF-16), which <c>Model.Load</c> passes to <c>Assembly.Load</c> before calling its loader.
/// </summary>
internal static class LoaderAssembly
{
    private const ulong Signature = 0x4C45444F4D004C4DUL;
    private const int HeaderSize = 0x100;
    private const int MaxNameBytes = 2048;

    /// <summary>Refuses an entry whose header names a loader assembly that <paramref name="options"/> does not allow.</summary>
    public static void Check(ZipArchiveEntry entry, ModelVerificationOptions options)
    {
        byte[] header = new byte[HeaderSize];
        using Stream content = entry.Open();
        int read = content.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false);
        if (read < HeaderSize || BitConverter.ToUInt64(header, 0) != Signature)
        {
            return; // not a model entry: no loader to call
        }

        long at = BitConverter.ToInt64(header, 0x90);
        uint bytes = BitConverter.ToUInt32(header, 0x98);
        if (at == 0 && bytes == 0)
        {
            return; // no assembly named: ML.NET looks the loader up among the assemblies already loaded
        }

        if (at < HeaderSize || bytes % 2 != 0 || bytes > MaxNameBytes || at > entry.Length - bytes)
        {
            throw new ModelFormatException($"Model file entry '{entry.FullName}' is corrupt: its loader assembly name ({bytes} bytes at {at}) lies outside the entry.");
        }

        content.ReadExactly(new byte[at - HeaderSize]);
        byte[] name = new byte[bytes];
        content.ReadExactly(name);
        string fullName = System.Text.Encoding.Unicode.GetString(name);
        string? simpleName;
        try
        {
            simpleName = new System.Reflection.AssemblyName(fullName).Name;
        }
        catch (Exception e) when (e is ArgumentException or FileLoadException)
        {
            throw new ModelFormatException($"Model file entry '{entry.FullName}' is corrupt: its loader assembly name '{fullName}' is not a valid assembly name.", e);
        }

        if (simpleName is null || !simpleName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw new ModelFormatException($"Model file entry '{entry.FullName}' is corrupt: its loader assembly name '{fullName}' is not a valid assembly name.");
        }

        if (!options.Allows(simpleName))
        {
            throw new ModelFormatException($"Model file entry '{entry.FullName}' names loader assembly '{fullName}', which is not allowed (allowed: {string.Join(", ", options.AllowedLoaderAssemblies.Order(StringComparer.Ordinal))}; see ModelVerificationOptions).");
        }
    }
}
