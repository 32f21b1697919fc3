using System.Buffers;
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

    public static void Save(ModelSaveContext ctx, string loader, (string Kind, byte[] Payload) model) =>
        ModelPersistence.WriteEntry(ctx, Version(loader), model.Kind, model.Payload);

    private static T Load<T>(IHostEnvironment env, ModelLoadContext ctx, string loader) where T : class
    {
        var (kind, payload) = ModelPersistence.ReadEntry(ctx, Version(loader));
        return ScoringModels.Load(env, kind, payload) as T
            ?? throw new ModelFormatException($"The model's predictor entry holds a '{kind}', which is not a {typeof(T).Name}.");
    }

    public static ValueMapper<TIn, TOut> ScalarMapper<TIn, TOut>(object owner, Func<ReadOnlySpan<float>, float> score)
    {
        if (typeof(TIn) != typeof(VBuffer<float>) || typeof(TOut) != typeof(float))
        {
            throw new InvalidOperationException($"{owner.GetType().Name} maps VBuffer<Single> to Single, not {typeof(TIn).Name} to {typeof(TOut).Name}.");
        }

        ValueMapper<VBuffer<float>, float> mapper = (in VBuffer<float> src, ref float dst) => dst = WithDense(src, score);
        return (ValueMapper<TIn, TOut>)(Delegate)mapper;
    }

    public static ValueMapper<TIn, TOut, TDist> DistMapper<TIn, TOut, TDist>(object owner, Func<ReadOnlySpan<float>, float> score, Func<float, float> probability)
    {
        if (typeof(TIn) != typeof(VBuffer<float>) || typeof(TOut) != typeof(float) || typeof(TDist) != typeof(float))
        {
            throw new InvalidOperationException($"{owner.GetType().Name} maps VBuffer<Single> to Single and Single.");
        }

        ValueMapper<VBuffer<float>, float, float> mapper = (in VBuffer<float> src, ref float dst, ref float dist) =>
        {
            dst = WithDense(src, score);
            dist = probability(dst);
        };
        return (ValueMapper<TIn, TOut, TDist>)(Delegate)mapper;
    }

    public static ValueMapper<TIn, TOut> VectorMapper<TIn, TOut>(object owner, int classes, ScoreVector score)
    {
        if (typeof(TIn) != typeof(VBuffer<float>) || typeof(TOut) != typeof(VBuffer<float>))
        {
            throw new InvalidOperationException($"{owner.GetType().Name} maps VBuffer<Single> to VBuffer<Single>.");
        }

        ValueMapper<VBuffer<float>, VBuffer<float>> mapper = (in VBuffer<float> src, ref VBuffer<float> dst) =>
        {
            var editor = VBufferEditor.Create(ref dst, classes);
            float[] dense = ArrayPool<float>.Shared.Rent(src.Length);
            try
            {
                src.CopyTo(dense);
                score(dense.AsSpan(0, src.Length), editor.Values);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(dense);
            }

            dst = editor.Commit();
        };
        return (ValueMapper<TIn, TOut>)(Delegate)mapper;
    }

    /// <summary>Writes the class scores of one row.</summary>
    public delegate void ScoreVector(ReadOnlySpan<float> features, Span<float> scores);

    private static float WithDense(in VBuffer<float> src, Func<ReadOnlySpan<float>, float> score)
    {
        float[] dense = ArrayPool<float>.Shared.Rent(src.Length);
        try
        {
            src.CopyTo(dense);
            return score(dense.AsSpan(0, src.Length));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dense);
        }
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
