using Microsoft.ML.Runtime;
using MlRounding.Bridge;

namespace MlRounding.Trainers;

/// <summary>A trained quantization-aware regression model: the integer network and its plain C# scorer.</summary>
public sealed class QatRegressionModelParameters : ScalarScoringModelParameters
{
    internal QatRegressionModelParameters(IHostEnvironment env, QuantizedMlp network) : base(env, nameof(QatRegressionModelParameters)) => Network = network;

    /// <summary>Gets the integer network.</summary>
    public QuantizedMlp Network { get; }

    /// <inheritdoc/>
    public override int FeatureCount => Network.FeatureCount;

    /// <inheritdoc/>
    public override float Score(ReadOnlySpan<float> features) => Network.ForwardScalar(features);

    /// <inheritdoc/>
    public override byte[] SavePayload() => QuantizedMlpFormat.Write(Network);

    /// <summary>Loads the model from its payload (called when ML.NET loads a model file).</summary>
    /// <param name="env">The environment.</param>
    /// <param name="payload">The bytes written by <see cref="SavePayload"/>.</param>
    /// <returns>The model.</returns>
    public static QatRegressionModelParameters LoadPayload(IHostEnvironment env, byte[] payload) => new(env, QuantizedMlpFormat.Read(payload));
}

/// <summary>A trained quantization-aware binary classifier: Score is the logit, Probability its sigmoid.</summary>
public sealed class QatBinaryModelParameters : BinaryScoringModelParameters
{
    internal QatBinaryModelParameters(IHostEnvironment env, QuantizedMlp network) : base(env, nameof(QatBinaryModelParameters)) => Network = network;

    /// <summary>Gets the integer network.</summary>
    public QuantizedMlp Network { get; }

    /// <inheritdoc/>
    public override int FeatureCount => Network.FeatureCount;

    /// <inheritdoc/>
    public override float Score(ReadOnlySpan<float> features) => Network.ForwardScalar(features);

    /// <inheritdoc/>
    public override float Probability(float score) => 1f / (1f + MathF.Exp(-score));

    /// <inheritdoc/>
    public override byte[] SavePayload() => QuantizedMlpFormat.Write(Network);

    /// <summary>Loads the model from its payload (called when ML.NET loads a model file).</summary>
    /// <param name="env">The environment.</param>
    /// <param name="payload">The bytes written by <see cref="SavePayload"/>.</param>
    /// <returns>The model.</returns>
    public static QatBinaryModelParameters LoadPayload(IHostEnvironment env, byte[] payload) => new(env, QuantizedMlpFormat.Read(payload));
}

/// <summary>A trained quantization-aware multiclass classifier: Score holds the class probabilities (softmax of the logits).</summary>
public sealed class QatMulticlassModelParameters : VectorScoringModelParameters
{
    internal QatMulticlassModelParameters(IHostEnvironment env, QuantizedMlp network) : base(env, nameof(QatMulticlassModelParameters)) => Network = network;

    /// <summary>Gets the integer network.</summary>
    public QuantizedMlp Network { get; }

    /// <inheritdoc/>
    public override int FeatureCount => Network.FeatureCount;

    /// <inheritdoc/>
    public override int ClassCount => Network.Classes;

    /// <inheritdoc/>
    public override void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        Network.Forward(features, scores);
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

    /// <inheritdoc/>
    public override byte[] SavePayload() => QuantizedMlpFormat.Write(Network);

    /// <summary>Loads the model from its payload (called when ML.NET loads a model file).</summary>
    /// <param name="env">The environment.</param>
    /// <param name="payload">The bytes written by <see cref="SavePayload"/>.</param>
    /// <returns>The model.</returns>
    public static QatMulticlassModelParameters LoadPayload(IHostEnvironment env, byte[] payload) => new(env, QuantizedMlpFormat.Read(payload));
}
