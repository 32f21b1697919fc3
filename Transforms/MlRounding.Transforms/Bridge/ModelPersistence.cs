using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlRounding.Bridge;

[assembly: LoadableClass(typeof(ITransformer), typeof(ModelPersistence), null, typeof(SignatureLoadModel),
    "MlRounding model", ModelPersistence.LoaderSignature)]

namespace MlRounding.Bridge;

/// <summary>
/// Bridge: writes and reads MlRounding components inside ML.NET model files. ML.NET finds <see cref="Create"/>
/// through the assembly's <c>[LoadableClass]</c> attribute, after loading this assembly by the name recorded in the
/// model, so a saved model loads in a fresh process with no registration call.
/// </summary>
/// <remarks>
/// Binary format inside ML.NET's entry (after ML.NET's own header and version info):
/// <list type="bullet">
/// <item>string (ML.NET string table): component kind, e.g. "RoundingTransformer"</item>
/// <item>int32: payload length in bytes (checked against the bytes left before anything is allocated)</item>
/// <item>bytes: the component's own versioned payload (see <see cref="ModelPayload"/>)</item>
/// </list>
/// </remarks>
internal static class ModelPersistence
{
    public const string LoaderSignature = "MlRoundingModel";
    private const string ModelSignature = "MLRNDMDL";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: 0x00010001,
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(ModelPersistence).Assembly.FullName);

    public static void Save(ModelSaveContext ctx, IColumnMapping mapping) =>
        WriteEntry(ctx, GetVersionInfo(), mapping.PayloadTag, mapping.SavePayload());

    // Factory for SignatureLoadModel.
    private static ITransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var (kind, payload) = ReadEntry(ctx, GetVersionInfo());
        return ModelPayload.Load(env, kind, payload);
    }

    /// <summary>Writes an MlRounding entry: version info, a tag (string table), then the length-prefixed payload.</summary>
    public static void WriteEntry(ModelSaveContext ctx, VersionInfo version, string tag, byte[] payload)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(version);
        ctx.SaveNonEmptyString(tag);
        ctx.Writer.Write(payload.Length);
        ctx.Writer.Write(payload);
    }

    /// <summary>
    /// Reads an entry written by <see cref="WriteEntry"/>; the payload length is checked against the bytes left before
    /// allocating. A header that ML.NET's checks refuse (signature, version, string table, a short entry) is reported as
    /// <see cref="ModelFormatException"/> naming our entry, with ML.NET's exception inside: whichever of the two
    /// assemblies the JIT inlines those checks into, a corrupt MlRounding entry ends in one documented exception.
    /// </summary>
    public static (string Tag, byte[] Payload) ReadEntry(ModelLoadContext ctx, VersionInfo version)
    {
        string tag;
        int length;
        try
        {
            ctx.CheckAtModel(version);
            tag = ctx.LoadNonEmptyString();
            length = ctx.Reader.ReadInt32();
        }
        catch (Exception e) when (e is (FormatException and not ModelFormatException) or EndOfStreamException)
        {
            throw new ModelFormatException($"An MlRounding entry has a corrupt header: {e.Message}", e);
        }

        long left = ctx.Reader.BaseStream.Length - ctx.Reader.BaseStream.Position;
        if (length < 0 || length > left)
        {
            throw new ModelFormatException($"MlRounding entry '{tag}' is corrupt: payload length {length} but {left} bytes left.");
        }

        return (tag, ctx.Reader.ReadBytes(length));
    }
}
