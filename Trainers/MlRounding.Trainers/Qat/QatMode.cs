namespace MlRounding.Trainers;

/// <summary>How the network is trained and quantized.</summary>
public enum QatMode
{
    /// <summary>Quantization-aware training: weights and activations pass through rounding layers while the network learns.</summary>
    QuantizationAware,

    /// <summary>Post-training quantization: train in float, then round weights (max-abs scales) and activations (ranges seen on the training data).</summary>
    PostTraining,

    /// <summary>Float: no quantization (the reference).</summary>
    Float,
}
