using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlRounding.Bridge;

[assembly: LoadableClass(typeof(ScalarScoringModelParameters), typeof(PredictorBridge.ScalarLoading), null, typeof(SignatureLoadModel),
    "MlRounding scalar predictor", PredictorBridge.ScalarLoader)]
[assembly: LoadableClass(typeof(BinaryScoringModelParameters), typeof(PredictorBridge.BinaryLoading), null, typeof(SignatureLoadModel),
    "MlRounding binary predictor", PredictorBridge.BinaryLoader)]
[assembly: LoadableClass(typeof(VectorScoringModelParameters), typeof(PredictorBridge.VectorLoading), null, typeof(SignatureLoadModel),
    "MlRounding vector predictor", PredictorBridge.VectorLoader)]

namespace MlRounding.Bridge;

/// <summary>
/// Bridge: value mappers and model-file persistence for the scoring model parameters. A saved predictor records its
/// kind (e.g. "QatMulticlass") and its payload; loading hands both to <see cref="ScoringModels.Load"/>, which knows every
/// kind this assembly writes.
/// </summary>
/// <remarks>
/// Binary format after ML.NET's header and version info: string (string table) kind; int32 payload length (checked
/// against the bytes left); payload bytes.
/// </remarks>
internal static class PredictorBridge
{
    public const string ScalarLoader = "MlRoundingSclPredictor";
    public const string BinaryLoader = "MlRoundingBinPredictor";
    public const string VectorLoader = "MlRoundingVecPredictor";

    private static VersionInfo Version(string loader) => new(
        modelSignature: "MLRNDPRD",
        verWrittenCur: 0x00010002,
        verReadableCur: 0x00010002,
        verWeCanReadBack: 0x00010002,
        loaderSignature: loader,
        loaderAssemblyName: typeof(PredictorBridge).Assembly.FullName);

    public static void Save(ModelSaveContext ctx, string loader, (string Tag, byte[] Payload) model) =>
        ModelPersistence.WriteEntry(ctx, Version(loader), model.Tag, model.Payload);

    private static T Load<T>(IHostEnvironment env, ModelLoadContext ctx, string loader) where T : class
    {
        var (kind, payload) = ModelPersistence.ReadEntry(ctx, Version(loader));
        return ScoringModels.Load(env, kind, payload) as T
            ?? throw new ModelFormatException($"The model's predictor entry holds a '{kind}', which is not a {typeof(T).Name}.");
    }

    // Each mapper owns the buffer it densifies sparse rows into: ML.NET asks for a mapper per cursor (and per
    // PredictionEngine), so a mapper is never used by two threads at once. Dense rows are scored where they lie.

    public static ValueMapper<TIn, TOut> ScalarMapper<TIn, TOut>(object owner, int featureCount, Func<ReadOnlySpan<float>, float> score)
    {
        if (typeof(TIn) != typeof(VBuffer<float>) || typeof(TOut) != typeof(float))
        {
            throw new InvalidOperationException($"{owner.GetType().Name} maps VBuffer<Single> to Single, not {typeof(TIn).Name} to {typeof(TOut).Name}.");
        }

        var buffer = new float[featureCount];
        ValueMapper<VBuffer<float>, float> mapper = (in VBuffer<float> src, ref float dst) => dst = score(Dense(src, buffer));
        return (ValueMapper<TIn, TOut>)(Delegate)mapper;
    }

    public static ValueMapper<TIn, TOut, TDist> DistMapper<TIn, TOut, TDist>(object owner, int featureCount, Func<ReadOnlySpan<float>, float> score, Func<float, float> probability)
    {
        if (typeof(TIn) != typeof(VBuffer<float>) || typeof(TOut) != typeof(float) || typeof(TDist) != typeof(float))
        {
            throw new InvalidOperationException($"{owner.GetType().Name} maps VBuffer<Single> to Single and Single.");
        }

        var buffer = new float[featureCount];
        ValueMapper<VBuffer<float>, float, float> mapper = (in VBuffer<float> src, ref float dst, ref float dist) =>
        {
            dst = score(Dense(src, buffer));
            dist = probability(dst);
        };
        return (ValueMapper<TIn, TOut, TDist>)(Delegate)mapper;
    }

    public static ValueMapper<TIn, TOut> VectorMapper<TIn, TOut>(object owner, int featureCount, int classes, ScoreVector score)
    {
        if (typeof(TIn) != typeof(VBuffer<float>) || typeof(TOut) != typeof(VBuffer<float>))
        {
            throw new InvalidOperationException($"{owner.GetType().Name} maps VBuffer<Single> to VBuffer<Single>.");
        }

        var buffer = new float[featureCount];
        ValueMapper<VBuffer<float>, VBuffer<float>> mapper = (in VBuffer<float> src, ref VBuffer<float> dst) =>
        {
            var editor = VBufferEditor.Create(ref dst, classes);
            score(Dense(src, buffer), editor.Values);
            dst = editor.Commit();
        };
        return (ValueMapper<TIn, TOut>)(Delegate)mapper;
    }

    /// <summary>Writes the class scores of one row.</summary>
    public delegate void ScoreVector(ReadOnlySpan<float> features, Span<float> scores);

    /// <summary>The row's values: a dense row as it is, a sparse one expanded into <paramref name="buffer"/> (ML.NET's own wording when the size is wrong).</summary>
    private static ReadOnlySpan<float> Dense(in VBuffer<float> src, float[] buffer)
    {
        if (src.IsDense)
        {
            return src.GetValues();
        }

        src.CopyTo(buffer);
        return buffer;
    }

    public static class ScalarLoading
    {
        // Factory for SignatureLoadModel.
        public static ScalarScoringModelParameters Create(IHostEnvironment env, ModelLoadContext ctx) => Load<ScalarScoringModelParameters>(env, ctx, ScalarLoader);
    }

    public static class BinaryLoading
    {
        // Factory for SignatureLoadModel.
        public static BinaryScoringModelParameters Create(IHostEnvironment env, ModelLoadContext ctx) => Load<BinaryScoringModelParameters>(env, ctx, BinaryLoader);
    }

    public static class VectorLoading
    {
        // Factory for SignatureLoadModel.
        public static VectorScoringModelParameters Create(IHostEnvironment env, ModelLoadContext ctx) => Load<VectorScoringModelParameters>(env, ctx, VectorLoader);
    }
}
