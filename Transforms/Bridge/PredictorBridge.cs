using System.Buffers;
using System.Reflection;
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
/// Bridge: value mappers and model-file persistence for the scoring model parameters. A saved predictor records the
/// concrete type (which must derive from one of the bridge bases and live in an MlRounding assembly) and its payload;
/// loading calls that type's <c>public static T LoadPayload(IHostEnvironment env, byte[] payload)</c>.
/// </summary>
/// <remarks>
/// Binary format after ML.NET's header and version info: string (string table) type name "Namespace.Type, Assembly";
/// int32 payload length (checked against the bytes left); payload bytes.
/// </remarks>
internal static class PredictorBridge
{
    public const string ScalarLoader = "MlRoundingSclPredictor";
    public const string BinaryLoader = "MlRoundingBinPredictor";
    public const string VectorLoader = "MlRoundingVecPredictor";

    private static VersionInfo Version(string loader) => new(
        modelSignature: "MLRNDPRD",
        verWrittenCur: 0x00010001,
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: loader,
        loaderAssemblyName: typeof(PredictorBridge).Assembly.FullName);

    public static void Save(ModelSaveContext ctx, object model, string loader, byte[] payload)
    {
        Type type = model.GetType();
        ModelPersistence.WriteEntry(ctx, Version(loader), $"{type.FullName}, {type.Assembly.GetName().Name}", payload);
    }

    private static T Load<T>(IHostEnvironment env, ModelLoadContext ctx, string loader) where T : class
    {
        var (typeName, payload) = ModelPersistence.ReadEntry(ctx, Version(loader));
        Type? type = Type.GetType(typeName, throwOnError: false);
        if (type is null || !typeof(T).IsAssignableFrom(type) || type.Assembly.GetName().Name?.StartsWith("MlRounding.", StringComparison.Ordinal) != true)
        {
            throw new FormatException($"The model names predictor type '{typeName}', which is not an MlRounding {typeof(T).Name} available to this application.");
        }

        MethodInfo? method = type.GetMethod("LoadPayload", BindingFlags.Public | BindingFlags.Static, new[] { typeof(IHostEnvironment), typeof(byte[]) });
        if (method is null || !type.IsAssignableFrom(method.ReturnType))
        {
            throw new FormatException($"Predictor type '{typeName}' has no public static LoadPayload(IHostEnvironment, byte[]).");
        }

        try
        {
            return (T)method.Invoke(null, new object[] { env, payload })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
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
