using System.Text;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MlRounding;

/// <summary>
/// The versioned payload of MlRounding components inside ML.NET model files (the bridge stores it as one length-checked
/// block). Every length is checked against the bytes left before anything is allocated; anything unexpected raises a
/// <see cref="ModelFormatException"/> that says what was wrong.
/// </summary>
/// <remarks>
/// Binary format of a "RoundingTransformer" payload, little-endian:
/// <list type="bullet">
/// <item>int32: format version, currently 1</item>
/// <item>int32: number of columns, 1 to 4096</item>
/// <item>for each column: string output name; string input name; string codes column name ("" for none);
/// byte grid kind (1 decimals, 2 step, 3 affine); then the grid's fields:
///   decimals: int32 decimals (-8..8), byte midpoint (0 ToEven, 1 AwayFromZero);
///   step: double step, double offset, byte midpoint;
///   affine: int32 bits (2..16), int64 qmin, int64 qmax, int32 n (1..2^24), n doubles scale, n int64 zero point</item>
/// <item>strings: int32 byte count (0..65536), then UTF-8 bytes</item>
/// </list>
/// Nothing may follow the last column.
/// </remarks>
internal static class ModelPayload
{
    public const string RoundingTransformerTag = "RoundingTransformer";
    public const int CurrentVersion = 1;
    private const int MaxColumns = 4096;
    private const int MaxStringBytes = 65536;
    private const int MaxSlots = 1 << 24;

    public static ITransformer Load(IHostEnvironment env, string kind, byte[] payload) => kind switch
    {
        RoundingTransformerTag => new RoundingTransformer(env, ReadColumns(payload)),
        ImputationPayload.Tag => ImputationPayload.Read(env, payload),
        _ => throw new ModelFormatException($"Unknown MlRounding component '{kind}' in the model; this version of MlRounding reads '{RoundingTransformerTag}' and '{ImputationPayload.Tag}'."),
    };

    public static byte[] Write(IReadOnlyList<RoundingColumn> columns)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(CurrentVersion);
            writer.Write(columns.Count);
            foreach (var column in columns)
            {
                WriteString(writer, column.OutputColumnName);
                WriteString(writer, column.InputColumnName);
                WriteString(writer, column.CodesColumnName ?? string.Empty);
                WriteGrid(writer, column.Grid);
            }
        }

        return stream.ToArray();
    }

    public static IReadOnlyList<RoundingColumn> ReadColumns(byte[] payload)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(payload, writable: false), Encoding.UTF8);
            int version = reader.ReadInt32();
            if (version > CurrentVersion)
            {
                throw new ModelFormatException($"The model was saved by a newer MlRounding (RoundingTransformer format {version}); this version reads format {CurrentVersion} and older. Update MlRounding.");
            }

            if (version < 1)
            {
                throw new ModelFormatException($"Invalid RoundingTransformer format version {version}.");
            }

            int count = reader.ReadInt32();
            if (count < 1 || count > MaxColumns)
            {
                throw new ModelFormatException($"Invalid column count {count} (expected 1 to {MaxColumns}).");
            }

            var columns = new List<RoundingColumn>(count);
            for (int i = 0; i < count; i++)
            {
                string output = ReadString(reader);
                string input = ReadString(reader);
                string codes = ReadString(reader);
                RoundingGrid grid = ReadGrid(reader, $"column '{output}'");
                if (output.Length == 0 || input.Length == 0)
                {
                    throw new ModelFormatException($"The RoundingTransformer entry of the model holds an empty column name (column {i}).");
                }

                columns.Add(new RoundingColumn(output, input, grid, codes.Length == 0 ? null : codes));
            }

            if (reader.BaseStream.Position != reader.BaseStream.Length)
            {
                throw new ModelFormatException($"{reader.BaseStream.Length - reader.BaseStream.Position} unexpected bytes after the last column.");
            }

            return columns;
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFormatException("The RoundingTransformer entry of the model is truncated.", e);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException("The RoundingTransformer entry of the model holds an invalid value: " + e.Message, e);
        }
    }

    /// <summary>byte grid kind (1 decimals, 2 step, 3 affine), then the grid's fields.</summary>
    public static void WriteGrid(BinaryWriter writer, RoundingGrid grid)
    {
        writer.Write(grid switch
        {
            DecimalGrid => (byte)1,
            StepGrid => (byte)2,
            _ => (byte)3,
        });
        grid.WriteFields(writer);
    }

    /// <summary>Reads a grid written by <see cref="WriteGrid"/>; <paramref name="what"/> names it in errors.</summary>
    public static RoundingGrid ReadGrid(BinaryReader reader, string what)
    {
        try
        {
            byte kind = reader.ReadByte();
            return kind switch
            {
                1 => new DecimalGrid(reader.ReadInt32(), ReadMidpoint(reader)),
                2 => new StepGrid(reader.ReadDouble(), reader.ReadDouble(), ReadMidpoint(reader)),
                3 => ReadAffine(reader),
                _ => throw new ModelFormatException($"Unknown grid kind {kind} for {what}."),
            };
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFormatException($"The grid of {what} is truncated.", e);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"The grid of {what} holds an invalid value: {e.Message}", e);
        }
    }

    private static AffineGrid ReadAffine(BinaryReader reader)
    {
        int bits = reader.ReadInt32();
        long qmin = reader.ReadInt64(), qmax = reader.ReadInt64();
        int n = reader.ReadInt32();
        long left = reader.BaseStream.Length - reader.BaseStream.Position;
        if (n < 1 || n > MaxSlots || (long)n * 16 > left)
        {
            throw new ModelFormatException($"Invalid number of quantization parameters {n} ({left} bytes left).");
        }

        var scales = new double[n];
        var zeros = new long[n];
        for (int i = 0; i < n; i++)
        {
            scales[i] = reader.ReadDouble();
        }

        for (int i = 0; i < n; i++)
        {
            zeros[i] = reader.ReadInt64();
        }

        return new AffineGrid(bits, new QuantizationRange(qmin, qmax), scales, zeros);
    }

    private static MidpointRounding ReadMidpoint(BinaryReader reader)
    {
        byte b = reader.ReadByte();
        return b switch
        {
            (byte)MidpointRounding.ToEven => MidpointRounding.ToEven,
            (byte)MidpointRounding.AwayFromZero => MidpointRounding.AwayFromZero,
            _ => throw new ModelFormatException($"Invalid midpoint rule {b}."),
        };
    }

    internal static void WriteString(BinaryWriter writer, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    /// <summary>Writes float32 values, little-endian, with no count in front (the readers know it).</summary>
    internal static void WriteFloats(BinaryWriter writer, IEnumerable<float> values)
    {
        foreach (float v in values)
        {
            writer.Write(v);
        }
    }

    /// <summary>
    /// Reads <paramref name="count"/> float32 values after checking that their bytes are there, so a damaged count never
    /// allocates more than the payload holds.
    /// </summary>
    /// <param name="reader">The payload's reader.</param>
    /// <param name="count">The number of values.</param>
    /// <param name="entry">The entry's name for the message, as in "The network entry of the model is truncated".</param>
    /// <exception cref="ModelFormatException">Fewer bytes are left than the values need.</exception>
    internal static float[] ReadFloats(BinaryReader reader, int count, string entry)
    {
        long left = reader.BaseStream.Length - reader.BaseStream.Position;
        if (count * 4L > left)
        {
            throw new ModelFormatException($"The {entry} entry of the model is truncated: {count * 4L} bytes needed, {left} left.");
        }

        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.ReadSingle();
        }

        return values;
    }

    internal static string ReadString(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        long left = reader.BaseStream.Length - reader.BaseStream.Position;
        if (length < 0 || length > MaxStringBytes || length > left)
        {
            throw new ModelFormatException($"Invalid string length {length} ({left} bytes left).");
        }

        return Encoding.UTF8.GetString(reader.ReadBytes(length));
    }
}
