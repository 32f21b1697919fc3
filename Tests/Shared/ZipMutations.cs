using System.IO.Compression;
using CsCheck;

namespace MlRounding.Tests.Shared;

/// <summary>
/// Mutations of a model zip for the fuzz tests: raw bytes of the file overwritten or the file truncated, or one entry
/// rewritten inside a valid zip whose checksums are recomputed (bytes overwritten, an aligned int32 set to an extreme,
/// the entry truncated or extended), so that the mutation reaches the entry's reader rather than the checksum check.
/// </summary>
internal sealed record ZipMutation(int Kind, int Entry, double Position, byte[] Bytes, int Extreme)
{
    private static readonly int[] Extremes = { 0, -1, 1, int.MaxValue, int.MinValue, 1 << 24, 1 << 30, 65536 };

    /// <summary>The mutations CsCheck draws.</summary>
    public static readonly Gen<ZipMutation> Gen =
        CsCheck.Gen.Select(CsCheck.Gen.Int[0, 5], CsCheck.Gen.Int[0, 1000], CsCheck.Gen.Double[0, 1], CsCheck.Gen.Byte.Array[1, 8], CsCheck.Gen.Int[0, 7], (k, e, p, b, x) => new ZipMutation(k, e, p, b, x));

    /// <summary>Whether the mutation rewrites one entry (inside a valid zip) rather than the file's raw bytes.</summary>
    public bool RewritesAnEntry => Kind >= 2;

    /// <inheritdoc/>
    public override string ToString() =>
        FormattableString.Invariant($"ZipMutation {{ Kind = {Kind}, Entry = {Entry}, Position = {Position:R}, Bytes = {Convert.ToHexString(Bytes)}, Extreme = {Extreme} }}");

    /// <summary>The entry a rewriting mutation edits, out of <paramref name="entries"/>.</summary>
    public string EntryOf(string[] entries) => entries[Entry % entries.Length];

    public byte[] Apply(byte[] zip, string[] entries) => Kind switch
    {
        0 => Overwrite(zip, At(zip.Length), Bytes),
        1 => zip[..At(zip.Length)],
        _ => RewriteEntry(zip, EntryOf(entries), content => Kind switch
        {
            2 => Overwrite(content, At(content.Length), Bytes),
            3 => Overwrite(content, At(content.Length) & ~3, BitConverter.GetBytes(Extremes[Extreme % Extremes.Length])),
            4 => content[..At(content.Length)],
            _ => content.Concat(Bytes).ToArray(),
        }),
    };

    /// <summary>The names of the entries of <paramref name="zip"/>.</summary>
    public static string[] Entries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip));
        return archive.Entries.Select(e => e.FullName).ToArray();
    }

    /// <summary>The content of one entry.</summary>
    public static byte[] Content(byte[] zip, string name)
    {
        using var archive = new ZipArchive(new MemoryStream(zip));
        using var stream = archive.GetEntry(name)!.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private int At(int length) => Math.Clamp((int)(Position * length), 0, Math.Max(0, length - 1));

    private static byte[] Overwrite(byte[] source, int offset, byte[] bytes)
    {
        byte[] copy = (byte[])source.Clone();
        for (int i = 0; i < bytes.Length && offset + i < copy.Length; i++)
        {
            copy[offset + i] = bytes[i];
        }

        return copy;
    }

    private static byte[] RewriteEntry(byte[] zip, string name, Func<byte[], byte[]> edit) =>
        RewriteEntries(zip, (entry, content) => entry == name ? edit(content) : content);

    /// <summary>A copy of the zip whose every entry's bytes go through <paramref name="edit"/> (entry name, bytes), with fresh checksums.</summary>
    public static byte[] RewriteEntries(byte[] zip, Func<string, byte[], byte[]> edit)
    {
        using var output = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(zip)))
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                using var read = entry.Open();
                using var buffer = new MemoryStream();
                read.CopyTo(buffer);
                byte[] content = edit(entry.FullName, buffer.ToArray());
                using var write = target.CreateEntry(entry.FullName).Open();
                write.Write(content);
            }
        }

        return output.ToArray();
    }
}
