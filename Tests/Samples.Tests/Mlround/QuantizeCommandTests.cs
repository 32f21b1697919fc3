using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using MlRounding.Onnx;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// <c>mlround quantize</c>: a float model of <c>train --mode float</c> and a PyTorch ONNX network become integer models
/// that <c>evaluate</c> and <c>predict</c> use as trained ones; bad input is one line and exit code 2, with no file written.
/// </summary>
[TestClass]
public sealed class QuantizeCommandTests
{
    private static string Onnx(string name) => Path.Combine(AppContext.BaseDirectory, "onnx", name + ".onnx");

    [TestMethod]
    public void FloatModelOfTrain_QuantizedToW2_ReportsBothAccuracies_AndEvaluates()
    {
        using var temp = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("digits.csv"), "--mode", "float", "--epochs", "15", "--out", temp.File("float.zip"));
        Assert.AreEqual(0, code, stderr);
        (code, string stdout, stderr) = CliRunner.Run("quantize", "--model", temp.File("float.zip"), "--data", CliRunner.Data("digits.csv"), "--weight-bits", "2", "--iterations", "500", "--out", temp.File("q.zip"), "--json");
        Assert.AreEqual(0, code, stderr);
        var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.AreEqual("learned", json.GetProperty("rounding").GetString());
        double accuracy = json.GetProperty("accuracy").GetDouble(), floatAccuracy = json.GetProperty("float_accuracy").GetDouble();
        Assert.IsGreaterThan(0.9, floatAccuracy);
        Assert.IsGreaterThan(floatAccuracy - 0.05, accuracy, stdout);
        Assert.IsTrue(json.GetProperty("architecture").GetProperty("dense").EnumerateArray().All(l => l.GetProperty("weight_bits").GetInt32() == 2));
        StringAssert.Contains(stderr, "layer 1/3: output error");
        (code, stdout, stderr) = CliRunner.Run("evaluate", "--model", temp.File("q.zip"), "--data", CliRunner.Data("digits.csv"), "--json");
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual(accuracy, JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.GetProperty("accuracy").GetDouble(), 1e-12, "evaluate scores the saved model as quantize did");
    }

    [TestMethod]
    public void PyTorchOnnx_LabelAsClassIndex_QuantizedAndPredicted()
    {
        using var temp = new TempFolder();
        // Rows the float network classifies, labelled by its own argmax: the float accuracy on them is 1.
        var network = ((ISingleFeaturePredictionTransformer<QatMulticlassModelParameters>)new MLContext().Model.LoadOnnxNetwork(Onnx("mlp-multiclass"))).Model.Network;
        var random = new Random(3);
        var lines = new List<string> { "a,b,c,d,Label" };
        for (int i = 0; i < 300; i++)
        {
            float[] x = Enumerable.Range(0, 4).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
            int label = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(network.Forward(x));
            lines.Add(string.Join(',', x.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "," + label);
        }

        File.WriteAllLines(temp.File("rows.csv"), lines);
        var (code, stdout, stderr) = CliRunner.Run("quantize", "--model", Onnx("mlp-multiclass"), "--data", temp.File("rows.csv"), "--weight-bits", "8", "--iterations", "300", "--out", temp.File("q.zip"), "--json");
        Assert.AreEqual(0, code, stderr);
        var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.AreEqual("multiclass", json.GetProperty("task").GetString());
        Assert.AreEqual(1.0, json.GetProperty("float_accuracy").GetDouble());
        Assert.IsGreaterThan(0.95, json.GetProperty("accuracy").GetDouble());
        (code, stdout, stderr) = CliRunner.Run("predict", "--model", temp.File("q.zip"), "--data", temp.File("rows.csv"), "--out", temp.File("p.csv"));
        Assert.AreEqual(0, code, stderr);
        string[] predicted = File.ReadAllLines(temp.File("p.csv"));
        Assert.AreEqual("predicted_label,score_0,score_1,score_2", predicted[0]);
        Assert.HasCount(301, predicted);
    }

    [TestMethod]
    public void OnnxInputWidthOtherThanTheFeatureColumns_OneLineNamingBoth_Exit2()
    {
        using var temp = new TempFolder();
        File.WriteAllLines(temp.File("rows.csv"), new[] { "a,b,c,Label", "1,2,3,0", "2,3,4,1" });
        var (code, _, stderr) = CliRunner.Run("quantize", "--model", Onnx("mlp-multiclass"), "--data", temp.File("rows.csv"), "--out", temp.File("q.zip"));
        Assert.AreEqual(2, code);
        Assert.AreEqual($"error: data file '{temp.File("rows.csv")}' has 3 feature columns besides the label 'Label'; the ONNX network '{Onnx("mlp-multiclass")}' takes 4 inputs.", stderr.Trim());
        Assert.IsFalse(File.Exists(temp.File("q.zip")));
    }

    [TestMethod]
    public void UnsupportedOnnxOperation_OneLineNamingTheNode_Exit2()
    {
        using var temp = new TempFolder();
        File.WriteAllLines(temp.File("rows.csv"), new[] { "a,b,c,d", "1,2,3,4" });
        var (code, _, stderr) = CliRunner.Run("quantize", "--model", Onnx("mlp-tanh"), "--data", temp.File("rows.csv"), "--out", temp.File("q.zip"));
        Assert.AreEqual(2, code);
        Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
        StringAssert.StartsWith(stderr, "error: The ONNX node '/1/Tanh' (Tanh) is not supported");
    }

    [TestMethod]
    public void DamagedOnnxFile_OneLine_Exit2()
    {
        using var temp = new TempFolder();
        byte[] bytes = File.ReadAllBytes(Onnx("mlp-multiclass"));
        File.WriteAllBytes(temp.File("bad.onnx"), bytes[..(bytes.Length / 2)]);
        File.WriteAllLines(temp.File("rows.csv"), new[] { "a,b,c,d", "1,2,3,4" });
        var (code, _, stderr) = CliRunner.Run("quantize", "--model", temp.File("bad.onnx"), "--data", temp.File("rows.csv"), "--out", temp.File("q.zip"));
        Assert.AreEqual(2, code, stderr);
        Assert.AreEqual(1, stderr.Trim().Split('\n').Length, stderr);
        Assert.IsFalse(File.Exists(temp.File("q.zip")));
    }

    [TestMethod]
    public void AlreadyQuantizedModel_IsRefused_Exit2()
    {
        using var temp = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("digits.csv"), "--epochs", "2", "--out", temp.File("w4.zip"));
        Assert.AreEqual(0, code, stderr);
        (code, _, stderr) = CliRunner.Run("quantize", "--model", temp.File("w4.zip"), "--data", CliRunner.Data("digits.csv"), "--out", temp.File("q.zip"));
        Assert.AreEqual(2, code);
        Assert.AreEqual($"error: {temp.File("w4.zip")}: the network is already quantized; quantize starts from a float network (mlround train --mode float, or a float ONNX file).", stderr.Trim());
    }

    [TestMethod]
    public void UnknownRounding_NamesTheOption_Exit2()
    {
        using var temp = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("quantize", "--model", Onnx("mlp-multiclass"), "--data", CliRunner.Data("digits.csv"), "--rounding", "stochastic", "--out", temp.File("q.zip"));
        Assert.AreEqual(2, code);
        Assert.AreEqual("error: --rounding: 'stochastic' is not learned or nearest.", stderr.Trim());
    }
}
