using Microsoft.ML.Runtime;
using MlRounding.Bridge;

namespace MlRounding;

/// <summary>A trained quantization-aware regression model: the integer network and its plain C# scorer.</summary>
public sealed class QatRegressionModelParameters : ScalarScoringModelParameters
{
    internal const string PayloadTag = "QatRegression";

    /// <summary>Creates the model parameters around a trained network.</summary>
    /// <param name="env">The ML.NET environment (e.g. an <c>MLContext</c>).</param>
    /// <param name="network">A regression network.</param>
    /// <exception cref="ArgumentException">The network is not a regression network.</exception>
    public QatRegressionModelParameters(IHostEnvironment env, QuantizedMlp network) : base(env, nameof(QatRegressionModelParameters)) =>
        Network = ScoringModels.Checked(network, QatTask.Regression);

    /// <summary>Gets the integer network.</summary>
    public QuantizedMlp Network { get; }

    /// <inheritdoc/>
    public override int FeatureCount => Network.FeatureCount;

    private protected override float Score(ReadOnlySpan<float> features) => Network.ForwardScalar(features);

    private protected override (string Tag, byte[] Payload) SavePayload() => (PayloadTag, QuantizedMlpFormat.Write(Network));
}

/// <summary>A trained quantization-aware binary classifier: Score is the logit, Probability its sigmoid.</summary>
public sealed class QatBinaryModelParameters : BinaryScoringModelParameters
{
    internal const string PayloadTag = "QatBinary";

    /// <summary>Creates the model parameters around a trained network.</summary>
    /// <param name="env">The ML.NET environment (e.g. an <c>MLContext</c>).</param>
    /// <param name="network">A binary classification network.</param>
    /// <exception cref="ArgumentException">The network is not a binary classification network.</exception>
    public QatBinaryModelParameters(IHostEnvironment env, QuantizedMlp network) : base(env, nameof(QatBinaryModelParameters)) =>
        Network = ScoringModels.Checked(network, QatTask.BinaryClassification);

    /// <summary>Gets the integer network.</summary>
    public QuantizedMlp Network { get; }

    /// <inheritdoc/>
    public override int FeatureCount => Network.FeatureCount;

    private protected override float Score(ReadOnlySpan<float> features) => Network.ForwardScalar(features);

    private protected override float Probability(float score) => 1f / (1f + MathF.Exp(-score));

    private protected override (string Tag, byte[] Payload) SavePayload() => (PayloadTag, QuantizedMlpFormat.Write(Network));
}

/// <summary>A trained quantization-aware multiclass classifier: Score holds the class probabilities (softmax of the logits).</summary>
public sealed class QatMulticlassModelParameters : VectorScoringModelParameters
{
    internal const string PayloadTag = "QatMulticlass";

    /// <summary>Creates the model parameters around a trained network.</summary>
    /// <param name="env">The ML.NET environment (e.g. an <c>MLContext</c>).</param>
    /// <param name="network">A multiclass network.</param>
    /// <exception cref="ArgumentException">The network is not a multiclass network.</exception>
    public QatMulticlassModelParameters(IHostEnvironment env, QuantizedMlp network) : base(env, nameof(QatMulticlassModelParameters)) =>
        Network = ScoringModels.Checked(network, QatTask.MulticlassClassification);

    /// <summary>Gets the integer network.</summary>
    public QuantizedMlp Network { get; }

    /// <inheritdoc/>
    public override int FeatureCount => Network.FeatureCount;

    /// <inheritdoc/>
    public override int ClassCount => Network.Classes;

    private protected override void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        Network.Forward(features, scores);
        Softmax(scores);
    }

    /// <summary>The class probabilities of logits, in place: exp(l - max) / Σ exp(l - max) in float32.</summary>
    internal static void Softmax(Span<float> scores)
    {
        float max = System.Numerics.Tensors.TensorPrimitives.Max(scores);
        float sum = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = MathF.Exp(scores[i] - max);
            sum += scores[i];
        }

        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] /= sum;
        }
    }

    private protected override (string Tag, byte[] Payload) SavePayload() => (PayloadTag, QuantizedMlpFormat.Write(Network));
}

/// <summary>The model parameters this assembly writes into model files, by kind: what the predictor bridge loads.</summary>
internal static class ScoringModels
{
    public static object Load(IHostEnvironment env, string kind, byte[] payload)
    {
        QatTask task = kind switch
        {
            QatRegressionModelParameters.PayloadTag => QatTask.Regression,
            QatBinaryModelParameters.PayloadTag => QatTask.BinaryClassification,
            QatMulticlassModelParameters.PayloadTag => QatTask.MulticlassClassification,
            _ => throw new ModelFormatException($"Unknown MlRounding predictor '{kind}' in the model; this version reads {QatRegressionModelParameters.PayloadTag}, {QatBinaryModelParameters.PayloadTag} and {QatMulticlassModelParameters.PayloadTag}."),
        };
        QuantizedMlp network = QuantizedMlpFormat.Read(payload);
        if (network.Task != task)
        {
            throw new ModelFormatException($"The model's {kind} entry holds a {network.Task} network.");
        }

        return task switch
        {
            QatTask.Regression => new QatRegressionModelParameters(env, network),
            QatTask.BinaryClassification => new QatBinaryModelParameters(env, network),
            _ => new QatMulticlassModelParameters(env, network),
        };
    }

    public static QuantizedMlp Checked(QuantizedMlp network, QatTask task)
    {
        ArgumentNullException.ThrowIfNull(network);
        return network.Task == task ? network : throw new ArgumentException($"Expected a {task} network, got a {network.Task} network.", nameof(network));
    }
}
