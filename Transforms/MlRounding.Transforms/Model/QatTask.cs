namespace MlRounding;

/// <summary>The learning task of a quantization-aware network.</summary>
public enum QatTask
{
    /// <summary>One output, squared error.</summary>
    Regression,

    /// <summary>One output (a logit), binary cross-entropy.</summary>
    BinaryClassification,

    /// <summary>One output per class (logits), cross-entropy.</summary>
    MulticlassClassification,
}
