using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Bridge;

namespace MlRounding.Onnx;

/// <summary>
/// <c>LoadOnnxNetwork</c> on ML.NET's model operations catalog (<c>mlContext.Model</c>): a float network from ONNX (for
/// example <c>torch.onnx.export</c> of a <c>torch.nn.Sequential</c> of Linear, ReLU, Conv2d, MaxPool2d and Flatten
/// layers) as one of MlRounding's float models, which scores without LibTorch, saves and loads as every other model, and
/// becomes an integer model through learned rounding (<c>mlContext.Model.QuantizeNetwork</c> in MlRounding.Trainers).
/// See README, "Learned rounding".
/// </summary>
public static class OnnxNetworkCatalog
{
    /// <summary>Reads a float ONNX network as a prediction transformer over <paramref name="featureColumnName"/>.</summary>
    /// <param name="catalog">mlContext.Model.</param>
    /// <param name="filePath">The .onnx file.</param>
    /// <param name="featureColumnName">The features column the network reads (a vector of Single as wide as its input).</param>
    /// <returns>A regression, binary or multiclass prediction transformer of MlRounding's model parameters (float weights).</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not a valid ONNX model, or its graph is not a network of the supported layers.</exception>
    /// <exception cref="NotSupportedException">A node's operation is not supported (the node and its operation are named).</exception>
    public static ITransformer LoadOnnxNetwork(this ModelOperationsCatalog catalog, string filePath, string featureColumnName = "Features") =>
        catalog.LoadOnnxNetwork(filePath, new OnnxNetworkOptions { FeatureColumnName = featureColumnName });

    /// <summary>Reads a float ONNX network as a prediction transformer, with options (the task, the features column).</summary>
    /// <param name="catalog">mlContext.Model.</param>
    /// <param name="filePath">The .onnx file.</param>
    /// <param name="options">The options.</param>
    /// <returns>A regression, binary or multiclass prediction transformer of MlRounding's model parameters (float weights).</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not a valid ONNX model, or its graph is not a network of the supported layers.</exception>
    /// <exception cref="NotSupportedException">A node's operation is not supported (the node and its operation are named).</exception>
    public static ITransformer LoadOnnxNetwork(this ModelOperationsCatalog catalog, string filePath, OnnxNetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.FeatureColumnName, nameof(options));
        if (!File.Exists(filePath))
        {
            throw new FileNotFoundException($"ONNX file '{filePath}' does not exist.", filePath);
        }

        QuantizedMlp network;
        using (var stream = File.OpenRead(filePath))
        {
            network = OnnxNetworkReader.Read(stream, options.Task);
        }

        var env = TrainerBridge.EnvironmentOf(catalog);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(options.FeatureColumnName, new VectorDataViewType(NumberDataViewType.Single, network.FeatureCount));
        DataViewSchema schema = builder.ToSchema();
        return network.Task switch
        {
            QatTask.Regression => TrainerBridge.Regression(env, new QatRegressionModelParameters(env, network), schema, options.FeatureColumnName),
            QatTask.BinaryClassification => TrainerBridge.Binary(env, new QatBinaryModelParameters(env, network), schema, options.FeatureColumnName),
            _ => TrainerBridge.Multiclass(env, new QatMulticlassModelParameters(env, network), schema, options.FeatureColumnName, null!),
        };
    }
}
