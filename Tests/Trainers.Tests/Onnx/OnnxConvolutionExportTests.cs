using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Onnx;
using static MlRounding.Trainers.Tests.Onnx.OnnxExportTests;

namespace MlRounding.Trainers.Tests.Onnx;

/// <summary>
/// ONNX Runtime on the export of a convolutional network (digits as 8x8 images) reproduces the C# scorer: exact layout
/// (integer <c>Conv</c>) and the textbook QDQ layout around <c>Conv</c> and <c>MaxPool</c>, with INT2/INT4 weights where
/// the bits allow.
/// </summary>
[TestClass]
public sealed class OnnxConvolutionExportTests
{
    private static (ITransformer Model, IDataView Train, float[][] Pixels) Trained(MLContext ml, QatOptions options)
    {
        var rows = ml.Data.CreateEnumerable<Digit>(ml.Data.LoadFromTextFile<Digit>(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), hasHeader: true, separatorChar: ','), false).ToList();
        var train = ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 != 0));
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(options))
            .Fit(train);
        return (model, train, rows.Where((_, i) => i % 5 == 0).Select(r => r.Pixels).ToArray());
    }

    private static QatOptions Cnn(int bits) => new()
    {
        WeightBits = bits, ActivationBits = bits == 32 ? 32 : 8, Mode = bits == 32 ? QatMode.Float : QatMode.QuantizationAware,
        ImageShape = new ImageShape(1, 8, 8), ConvolutionChannels = new[] { 6, 8 }, HiddenLayers = new[] { 16 }, MaxEpoch = 4, NumberOfThreads = 1,
    };

    private static byte[] Export(MLContext ml, ITransformer model, IDataView train, OnnxNetworkLayout layout)
    {
        using var stream = new MemoryStream();
        ml.Model.ExportToOnnx(model, train.Schema, stream, new OnnxExportOptions { NetworkLayout = layout });
        return stream.ToArray();
    }

    [TestMethod]
    [DataRow(4, 21, 22)] // INT4 filter codes
    [DataRow(2, 25, 26)] // INT2
    [DataRow(8, 13, 3)] // INT8
    [DataRow(32, 13, 0)] // float filters
    public void ExactLayout_OnnxRuntimeReproducesTheScorer(int bits, int opset, int codeType)
    {
        var ml = new MLContext(seed: 1);
        var (model, train, pixels) = Trained(ml, Cnn(bits));
        byte[] onnx = Export(ml, model, train, OnnxNetworkLayout.ExactInteger);
        var graph = global::Onnx.ModelProto.Parser.ParseFrom(onnx);
        Assert.AreEqual(2, graph.Graph.Node.Count(n => n.OpType == "Conv"));
        Assert.AreEqual(2, graph.Graph.Node.Count(n => n.OpType == "MaxPool"));
        Assert.AreEqual(opset, (int)graph.OpsetImport.Single(o => o.Domain == "").Version);
        Assert.AreEqual(codeType == 0 ? 0 : 2, graph.Graph.Initializer.Count(i => i.Name.StartsWith("weight_codes", StringComparison.Ordinal) && i.Dims.Count == 4 && i.DataType == codeType), $"4-D filter codes of type {codeType}");

        var ours = model.Transform(ml.Data.LoadFromEnumerable(pixels.Select(p => new Digit { Pixels = p })));
        float[] score = ours.GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        float[] label = ours.GetColumn<uint>("PredictedLabel").Select(k => (float)(k - 1)).ToArray();
        var theirs = RunOnnx(onnx, "Pixels", pixels, "Score", "PredictedLabel");
        int same = label.Zip(theirs["PredictedLabel"]).Count(p => p.First == p.Second);
        Assert.IsGreaterThanOrEqualTo(label.Length - 1, same, "predicted labels (a rounding tie may differ: QuantizeLinear rounds half to even)");
        int close = Enumerable.Range(0, label.Length).Count(i => Enumerable.Range(0, 10).All(j => Math.Abs(score[i * 10 + j] - theirs["Score"][i * 10 + j]) <= 1e-5 * Math.Max(1, Math.Abs(score[i * 10 + j]))));
        Assert.IsGreaterThanOrEqualTo(label.Length - 3, close, "rows whose probabilities agree to 1e-5");
    }

    [TestMethod]
    public void QdqLayout_TextbookNodesAroundConvAndMaxPool_SameLabels()
    {
        var ml = new MLContext(seed: 1);
        var (model, train, pixels) = Trained(ml, Cnn(4));
        byte[] onnx = Export(ml, model, train, OnnxNetworkLayout.PerChannelQdq);
        var graph = global::Onnx.ModelProto.Parser.ParseFrom(onnx).Graph;
        Assert.AreEqual(4, graph.Node.Count(n => n.OpType == "DequantizeLinear" && n.Attribute.Any(a => a.Name == "axis" && a.I == 0)), "per-channel weights of two blocks and two dense layers");
        Assert.AreEqual(3, graph.Node.Count(n => n.OpType == "QuantizeLinear"), "two block activations and the hidden dense activation");
        var ours = model.Transform(ml.Data.LoadFromEnumerable(pixels.Select(p => new Digit { Pixels = p })));
        float[] label = ours.GetColumn<uint>("PredictedLabel").Select(k => (float)(k - 1)).ToArray();
        var theirs = RunOnnx(onnx, "Pixels", pixels, "PredictedLabel");
        Assert.IsGreaterThanOrEqualTo(label.Length - 2, label.Zip(theirs["PredictedLabel"]).Count(p => p.First == p.Second), "predicted labels (near-ties may differ)");
    }
}
