using System.Text.Json;

namespace MlRounding.Trainers;

/// <summary>
/// The safetensors container's own rules, checked before TorchSharp.PyBridge reads a file: an unsigned 64-bit
/// little-endian header length N, then N bytes of UTF-8 JSON (an object: per tensor its <c>dtype</c>, <c>shape</c> and
/// <c>data_offsets</c> [begin, end) relative to the byte buffer after the header, plus an optional string-to-string
/// <c>__metadata__</c>), then the buffer. Each tensor's byte length must be its element count times its dtype's size,
/// and the tensors must tile the buffer exactly (no gap, no overlap, nothing after). A file that breaks a rule is a
/// <see cref="ModelFormatException"/> that says which, before anything proportional to a length field is allocated.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The largest header accepted (the format's reference implementation caps it at 100 MB too).</summary>
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>The dtypes TorchSharp has a tensor type for, with their sizes (the format's others, U16..U64 and F8, are refused).</summary>
    private static readonly Dictionary<string, int> DtypeSizes = new()
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["I16"] = 2, ["F16"] = 2, ["BF16"] = 2, ["I32"] = 4, ["F32"] = 4, ["I64"] = 8, ["F64"] = 8,
    };

    /// <summary>Checks <paramref name="bytes"/> against the container's rules.</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="name">The file's name, for messages.</param>
    /// <exception cref="ModelFormatException">A rule is broken.</exception>
    public static void Check(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 8)
        {
            throw Bad(name, $"{bytes.Length} bytes, shorter than the 8-byte header length");
        }

        ulong headerLength = BitConverter.ToUInt64(bytes[..8]);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(bytes.Length - 8))
        {
            throw Bad(name, $"header length {headerLength} exceeds the {bytes.Length - 8} bytes after it (or 100 MB)");
        }

        long dataLength = bytes.Length - 8 - (long)headerLength;
        CheckTiling(Tensors(bytes.Slice(8, (int)headerLength), dataLength, name), dataLength, name);
    }

    /// <summary>The tensors of the JSON header, each checked (<see cref="Tensor"/>); the metadata must be an object of strings.</summary>
    private static List<(long Begin, long End, string Tensor)> Tensors(ReadOnlySpan<byte> json, long dataLength, string name)
    {
        var tensors = new List<(long Begin, long End, string Tensor)>();
        try
        {
            using JsonDocument header = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            if (header.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Bad(name, "the header is not a JSON object");
            }

            foreach (JsonProperty entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    if (entry.Value.ValueKind != JsonValueKind.Object || entry.Value.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
                    {
                        throw Bad(name, "__metadata__ is not an object of strings");
                    }

                    continue;
                }

                tensors.Add(Tensor(entry, dataLength, name));
            }
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"'{name}' is not a safetensors file: its header is not valid JSON ({e.Message}).", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelFormatException($"'{name}' is not a safetensors file: a header value has the wrong JSON type ({e.Message}).", e);
        }

        return tensors;
    }

    /// <summary>The tensors, in the order of their offsets, must cover the data buffer without gaps or overlaps.</summary>
    private static void CheckTiling(List<(long Begin, long End, string Tensor)> tensors, long dataLength, string name)
    {
        long expected = 0;
        foreach (var (begin, end, tensor) in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (begin != expected)
            {
                throw Bad(name, $"tensor '{tensor}' starts at byte {begin} of the buffer, expected {expected} (tensors must tile the buffer)");
            }

            expected = end;
        }

        if (expected != dataLength)
        {
            throw Bad(name, $"the tensors cover {expected} of the {dataLength} bytes after the header");
        }
    }

    private static (long Begin, long End, string Tensor) Tensor(JsonProperty entry, long dataLength, string name)
    {
        JsonElement info = entry.Value;
        if (info.ValueKind != JsonValueKind.Object
            || !info.TryGetProperty("dtype", out JsonElement dtype) || !info.TryGetProperty("shape", out JsonElement shape) || !info.TryGetProperty("data_offsets", out JsonElement offsets)
            || shape.ValueKind != JsonValueKind.Array || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw Bad(name, $"tensor '{entry.Name}' needs dtype, shape and two data_offsets");
        }

        if (!DtypeSizes.TryGetValue(dtype.GetString() ?? "", out int size))
        {
            throw Bad(name, $"tensor '{entry.Name}' has dtype '{dtype}', not one of {string.Join(", ", DtypeSizes.Keys)}");
        }

        long count = 1;
        foreach (JsonElement dimension in shape.EnumerateArray())
        {
            if (!dimension.TryGetInt64(out long d) || d < 0 || (d > 0 && count > dataLength / d))
            {
                throw Bad(name, $"tensor '{entry.Name}' has a dimension {dimension} that is negative or larger than the file");
            }

            count *= d;
        }

        if (!offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin || end > dataLength)
        {
            throw Bad(name, $"tensor '{entry.Name}' has data_offsets [{offsets[0]}, {offsets[1]}] outside the {dataLength}-byte buffer");
        }

        if (end - begin != count * size)
        {
            throw Bad(name, $"tensor '{entry.Name}' holds {end - begin} bytes, but {count} {dtype} values take {count * size}");
        }

        return (begin, end, entry.Name);
    }

    /// <summary>
    /// The file with its header padded with spaces (which the format allows after the JSON) so that the buffer starts at
    /// a multiple of 8 bytes, as the format's reference writer does: readers that map the file can then view each tensor
    /// in place. TorchSharp.PyBridge writes the header unpadded.
    /// </summary>
    public static byte[] Aligned(byte[] file)
    {
        ulong headerLength = BitConverter.ToUInt64(file, 0);
        int pad = (int)((8 - ((8 + headerLength) % 8)) % 8);
        if (pad == 0)
        {
            return file;
        }

        byte[] aligned = new byte[file.Length + pad];
        BitConverter.GetBytes(headerLength + (ulong)pad).CopyTo(aligned, 0);
        file.AsSpan(8, (int)headerLength).CopyTo(aligned.AsSpan(8));
        aligned.AsSpan(8 + (int)headerLength, pad).Fill((byte)' ');
        file.AsSpan(8 + (int)headerLength).CopyTo(aligned.AsSpan(8 + (int)headerLength + pad));
        return aligned;
    }

    private static ModelFormatException Bad(string name, string what) => new($"'{name}' is not a valid safetensors file: {what}.");
}
