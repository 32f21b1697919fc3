using System.Text;
using Microsoft.ML.Runtime;

namespace MlRounding;

/// <summary>
/// The payload of a <see cref="MissingValueImputingTransformer"/> inside ML.NET model files. Every count is checked
/// against the bytes left before anything is allocated; anything unexpected raises a <see cref="ModelFormatException"/>.
/// </summary>
/// <remarks>
/// Binary format, little-endian: int32 format version (1); string output name; string input name (strings as in
/// <see cref="ModelPayload"/>); int32 slot count p (1 to 2^24); p float32 means; p float32 intercepts; int32 regressed
/// slot count r (0 to p); r int32 slots, increasing; r x p float32 weights, row by row. Nothing may follow.
/// </remarks>
internal static class ImputationPayload
{
    public const string Tag = "MissingValueImputingTransformer";
    private const int CurrentVersion = 1;
    private const int MaxSlots = 1 << 24;

    public static byte[] Write(string output, string input, ImputationModel model)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(CurrentVersion);
            ModelPayload.WriteString(writer, output);
            ModelPayload.WriteString(writer, input);
            writer.Write(model.SlotCount);
            ModelPayload.WriteFloats(writer, model.Means);
            ModelPayload.WriteFloats(writer, model.Intercepts);
            writer.Write(model.RegressedSlots.Length);
            foreach (int slot in model.RegressedSlots)
            {
                writer.Write(slot);
            }

            ModelPayload.WriteFloats(writer, model.Weights);
        }

        return stream.ToArray();
    }

    public static MissingValueImputingTransformer Read(IHostEnvironment env, byte[] payload)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(payload, writable: false), Encoding.UTF8);
            int version = reader.ReadInt32();
            if (version != CurrentVersion)
            {
                throw new ModelFormatException($"The {Tag} entry has format version {version}; this version of MlRounding reads format {CurrentVersion}{(version > CurrentVersion ? ". Update MlRounding." : ".")}");
            }

            string output = ModelPayload.ReadString(reader), input = ModelPayload.ReadString(reader);
            int p = Count(reader, 1, MaxSlots, 8, "slot count");
            float[] means = ModelPayload.ReadFloats(reader, p, Tag), intercepts = ModelPayload.ReadFloats(reader, p, Tag);
            int r = Count(reader, 0, p, 4 + (4L * p), "regressed slot count");
            int[] slots = new int[r];
            for (int i = 0; i < r; i++)
            {
                slots[i] = reader.ReadInt32();
                if (i > 0 && slots[i] <= slots[i - 1])
                {
                    throw new ModelFormatException($"The {Tag} entry's regressed slots are not increasing ({slots[i - 1]}, then {slots[i]}).");
                }
            }

            float[] weights = ModelPayload.ReadFloats(reader, r * p, Tag);
            if (reader.BaseStream.Position != reader.BaseStream.Length)
            {
                throw new ModelFormatException($"{reader.BaseStream.Length - reader.BaseStream.Position} unexpected bytes after the {Tag} entry's weights.");
            }

            return new MissingValueImputingTransformer(env, output, input, new ImputationModel(means, intercepts, slots, weights));
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFormatException($"The {Tag} entry of the model is truncated.", e);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"The {Tag} entry of the model holds an invalid value: {e.Message}", e);
        }
    }

    /// <summary>Reads a count in [min, max] whose items, <paramref name="bytesEach"/> each, fit in the bytes left.</summary>
    private static int Count(BinaryReader reader, int min, int max, long bytesEach, string what)
    {
        int n = reader.ReadInt32();
        long left = reader.BaseStream.Length - reader.BaseStream.Position;
        if (n < min || n > max || n * bytesEach > left)
        {
            throw new ModelFormatException($"The {Tag} entry holds an invalid {what} {n} (expected {min} to {max}; {left} bytes left).");
        }

        return n;
    }
}
