namespace MlRounding.Onnx;

/// <summary>Options of <see cref="OnnxNetworkCatalog.LoadOnnxNetwork(Microsoft.ML.ModelOperationsCatalog, string, OnnxNetworkOptions)"/>.</summary>
public sealed class OnnxNetworkOptions
{
    /// <summary>Gets or sets the features column the network reads (a vector of Single as wide as the network's input). Default "Features".</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>
    /// Gets or sets the task, or null (the default) to infer it: multiclass for a network with two or more outputs,
    /// binary for one output followed by <c>Sigmoid</c>, regression otherwise.
    /// </summary>
    public QatTask? Task { get; set; }
}
