using Microsoft.ML;
using MlRounding.Bridge;

namespace MlRounding.Trainers;

/// <summary>
/// <c>QuantizationAware</c> on ML.NET's regression, binary and multiclass trainer catalogs, each with plain arguments
/// and a <see cref="QatOptions"/> overload. See README, "The quantization-aware trainer".
/// </summary>
public static class QuantizationAwareCatalog
{
    /// <summary>A quantization-aware MLP regression trainer.</summary>
    /// <param name="catalog">mlContext.Regression.Trainers.</param>
    /// <param name="labelColumnName">The label column (Single).</param>
    /// <param name="featureColumnName">The features column (known-size vector of Single).</param>
    /// <param name="weightBits">Bits of the weights: 1, 2..8, or 32 (float).</param>
    /// <param name="activationBits">Bits of the hidden activations: 2..16, or 32 (float).</param>
    /// <param name="maxEpoch">Passes over the data; null (the default) lets the trainer choose by the training rows (60 below <see cref="QatOptions.LargeDataRows"/>, 30 from there on).</param>
    /// <returns>The trainer.</returns>
    public static QuantizationAwareRegressionTrainer QuantizationAware(this RegressionCatalog.RegressionTrainers catalog, string labelColumnName = "Label", string featureColumnName = "Features", int weightBits = 8, int activationBits = 8, int? maxEpoch = null) =>
        catalog.QuantizationAware(new QatOptions { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, WeightBits = weightBits, ActivationBits = activationBits, MaxEpoch = maxEpoch });

    /// <summary>A quantization-aware MLP regression trainer.</summary>
    /// <param name="catalog">mlContext.Regression.Trainers.</param>
    /// <param name="options">The options; the task is set to regression.</param>
    /// <returns>The trainer.</returns>
    public static QuantizationAwareRegressionTrainer QuantizationAware(this RegressionCatalog.RegressionTrainers catalog, QatOptions options) =>
        new(TrainerBridge.EnvironmentOf(catalog), options);

    /// <summary>A quantization-aware MLP binary classifier.</summary>
    /// <param name="catalog">mlContext.BinaryClassification.Trainers.</param>
    /// <param name="labelColumnName">The label column (Boolean).</param>
    /// <param name="featureColumnName">The features column (known-size vector of Single).</param>
    /// <param name="weightBits">Bits of the weights: 1, 2..8, or 32 (float).</param>
    /// <param name="activationBits">Bits of the hidden activations: 2..16, or 32 (float).</param>
    /// <param name="maxEpoch">Passes over the data; null (the default) lets the trainer choose by the training rows (60 below <see cref="QatOptions.LargeDataRows"/>, 30 from there on).</param>
    /// <returns>The trainer.</returns>
    public static QuantizationAwareBinaryTrainer QuantizationAware(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, string labelColumnName = "Label", string featureColumnName = "Features", int weightBits = 8, int activationBits = 8, int? maxEpoch = null) =>
        catalog.QuantizationAware(new QatOptions { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, WeightBits = weightBits, ActivationBits = activationBits, MaxEpoch = maxEpoch });

    /// <summary>A quantization-aware MLP binary classifier.</summary>
    /// <param name="catalog">mlContext.BinaryClassification.Trainers.</param>
    /// <param name="options">The options; the task is set to binary classification.</param>
    /// <returns>The trainer.</returns>
    public static QuantizationAwareBinaryTrainer QuantizationAware(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, QatOptions options) =>
        new(TrainerBridge.EnvironmentOf(catalog), options);

    /// <summary>A quantization-aware MLP multiclass classifier.</summary>
    /// <param name="catalog">mlContext.MulticlassClassification.Trainers.</param>
    /// <param name="labelColumnName">The label column (a key, e.g. from MapValueToKey).</param>
    /// <param name="featureColumnName">The features column (known-size vector of Single).</param>
    /// <param name="weightBits">Bits of the weights: 1, 2..8, or 32 (float).</param>
    /// <param name="activationBits">Bits of the hidden activations: 2..16, or 32 (float).</param>
    /// <param name="maxEpoch">Passes over the data; null (the default) lets the trainer choose by the training rows (60 below <see cref="QatOptions.LargeDataRows"/>, 30 from there on).</param>
    /// <returns>The trainer.</returns>
    public static QuantizationAwareMulticlassTrainer QuantizationAware(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, string labelColumnName = "Label", string featureColumnName = "Features", int weightBits = 8, int activationBits = 8, int? maxEpoch = null) =>
        catalog.QuantizationAware(new QatOptions { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, WeightBits = weightBits, ActivationBits = activationBits, MaxEpoch = maxEpoch });

    /// <summary>A quantization-aware MLP multiclass classifier.</summary>
    /// <param name="catalog">mlContext.MulticlassClassification.Trainers.</param>
    /// <param name="options">The options; the task is set to multiclass classification.</param>
    /// <returns>The trainer.</returns>
    public static QuantizationAwareMulticlassTrainer QuantizationAware(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, QatOptions options) =>
        new(TrainerBridge.EnvironmentOf(catalog), options);
}
