using System.IO.Compression;
using System.IO.Hashing;
using Microsoft.ML;

namespace MlRounding;

/// <summary>
/// Model files beyond <c>mlContext.Model.Save/Load</c>: a deterministic save (same model, same bytes), and a check of a
/// saved file before ML.NET parses it. ML.NET (through <see cref="ZipArchive"/>) does not verify
/// the zip's CRC-32 checksums, and some of ML.NET's own entry readers (e.g. the binary schema of a prediction
/// transformer) can loop on corrupted bytes; verifying every entry's checksum and size first turns accidental corruption
/// (bit flips, truncation, a bad copy) into an <see cref="InvalidDataException"/> naming the entry.
/// </summary>
public static class ModelFiles
{
    /// <summary>The timestamp every entry of a deterministic save carries (the earliest a zip can record).</summary>
    public static readonly DateTimeOffset EntryTimestamp = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Saves like <c>mlContext.Model.Save</c>, with every zip entry's timestamp set to <see cref="EntryTimestamp"/>, so
    /// that the same model (e.g. trained with the same seed and thread count) gives a byte-identical file. The file is
    /// written under a temporary name in the same folder, then moved into place.
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">The model.</param>
    /// <param name="inputSchema">The schema of the model's input.</param>
    /// <param name="filePath">The file to write.</param>
    public static void SaveDeterministic(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        AtomicFile.Write(filePath, (Stream file) => catalog.SaveDeterministic(model, inputSchema, file));
    }

    /// <summary>Saves like <c>mlContext.Model.Save</c> into a stream, with every entry's timestamp set to <see cref="EntryTimestamp"/>.</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">The model.</param>
    /// <param name="inputSchema">The schema of the model's input.</param>
    /// <param name="stream">A writable stream.</param>
    public static void SaveDeterministic(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(stream);
        using var saved = new MemoryStream();
        catalog.Save(model, inputSchema, saved);
        saved.Position = 0;
        using var source = new ZipArchive(saved, ZipArchiveMode.Read);
        using var target = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (ZipArchiveEntry entry in source.Entries)
        {
            ZipArchiveEntry copy = target.CreateEntry(entry.FullName, CompressionLevel.Optimal);
            copy.LastWriteTime = EntryTimestamp;
            using Stream from = entry.Open();
            using Stream to = copy.Open();
            from.CopyTo(to);
        }
    }

    /// <summary>
    /// Verifies the checksum and size of every entry of a model zip, and that every entry names as its loader an
    /// assembly of ML.NET or MlRounding (<see cref="ModelVerificationOptions"/>); the stream is left at position 0.
    /// </summary>
    /// <param name="model">A seekable stream over the model file.</param>
    /// <exception cref="InvalidDataException">The file is not a zip, or an entry's checksum or size does not match.</exception>
    /// <exception cref="ModelFormatException">An entry names a loader assembly that is not allowed, or its header is corrupt.</exception>
    /// <exception cref="ArgumentException">The stream is not readable and seekable.</exception>
    public static void Verify(Stream model) => Verify(model, new ModelVerificationOptions());

    /// <summary>
    /// Verifies the checksum and size of every entry of a model zip, and that every entry names as its loader an
    /// assembly that <paramref name="options"/> allows; the stream is left at position 0.
    /// </summary>
    /// <param name="model">A seekable stream over the model file.</param>
    /// <param name="options">The loader assemblies allowed.</param>
    /// <exception cref="InvalidDataException">The file is not a zip, or an entry's checksum or size does not match.</exception>
    /// <exception cref="ModelFormatException">An entry names a loader assembly that is not allowed, or its header is corrupt.</exception>
    /// <exception cref="ArgumentException">The stream is not readable and seekable.</exception>
    public static void Verify(Stream model, ModelVerificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (!model.CanRead || !model.CanSeek)
        {
            throw new ArgumentException("The model stream must be readable and seekable.", nameof(model));
        }

        model.Position = 0;
        using (var archive = new ZipArchive(model, ZipArchiveMode.Read, leaveOpen: true))
        {
            byte[] buffer = new byte[81920];
            foreach (ZipArchiveEntry entry in archive.Entries)
            {
                var crc = new Crc32();
                long length = 0;
                using Stream content = entry.Open();
                int read;
                while ((read = content.Read(buffer)) > 0)
                {
                    length += read;
                    if (length > entry.Length)
                    {
                        throw new InvalidDataException($"Model file entry '{entry.FullName}' is corrupt: longer than its recorded size {entry.Length}.");
                    }

                    crc.Append(buffer.AsSpan(0, read));
                }

                if (length != entry.Length || crc.GetCurrentHashAsUInt32() != entry.Crc32)
                {
                    throw new InvalidDataException($"Model file entry '{entry.FullName}' is corrupt: its checksum or size does not match.");
                }

                LoaderAssembly.Check(entry, options);
            }
        }

        model.Position = 0;
    }

    /// <summary>Verifies a model file (<see cref="Verify(Stream)"/>), then loads it with <c>mlContext.Model.Load</c>.</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A seekable stream over the model file.</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">An entry's checksum or size does not match, or the file is not a zip.</exception>
    /// <exception cref="ModelFormatException">An entry names a loader assembly outside ML.NET and MlRounding.</exception>
    public static ITransformer LoadVerified(this ModelOperationsCatalog catalog, Stream model, out DataViewSchema inputSchema) =>
        catalog.LoadVerified(model, out inputSchema, new ModelVerificationOptions());

    /// <summary>Verifies a model file (<see cref="Verify(Stream, ModelVerificationOptions)"/>), then loads it with <c>mlContext.Model.Load</c>.</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A seekable stream over the model file.</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    /// <param name="options">The loader assemblies allowed.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">An entry's checksum or size does not match, or the file is not a zip.</exception>
    /// <exception cref="ModelFormatException">An entry names a loader assembly that <paramref name="options"/> does not allow.</exception>
    public static ITransformer LoadVerified(this ModelOperationsCatalog catalog, Stream model, out DataViewSchema inputSchema, ModelVerificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        Verify(model, options);
        return catalog.Load(model, out inputSchema);
    }

    /// <summary>Verifies a model file (<see cref="Verify(Stream)"/>), then loads it with <c>mlContext.Model.Load</c>.</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="filePath">The model file.</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">An entry's checksum or size does not match, or the file is not a zip.</exception>
    /// <exception cref="ModelFormatException">An entry names a loader assembly outside ML.NET and MlRounding.</exception>
    public static ITransformer LoadVerified(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema) =>
        catalog.LoadVerified(filePath, out inputSchema, new ModelVerificationOptions());

    /// <summary>Verifies a model file (<see cref="Verify(Stream, ModelVerificationOptions)"/>), then loads it with <c>mlContext.Model.Load</c>.</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="filePath">The model file.</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    /// <param name="options">The loader assemblies allowed.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">An entry's checksum or size does not match, or the file is not a zip.</exception>
    /// <exception cref="ModelFormatException">An entry names a loader assembly that <paramref name="options"/> does not allow.</exception>
    public static ITransformer LoadVerified(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema, ModelVerificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        using var stream = File.OpenRead(filePath);
        return catalog.LoadVerified(stream, out inputSchema, options);
    }
}
