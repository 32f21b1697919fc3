using MlRounding.Cli;
using System.Text.Json;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// <c>--image</c> and <c>--conv</c>: a convolutional network trained on the digits as 8x8 images through every command
/// (train with the architecture in --json, evaluate, predict, export, compare beside the default MLP and LightGbm), and
/// bad shapes that fail in one line naming both numbers, with exit code 2.
/// </summary>
[TestClass]
public sealed class ImageCommandTests
{
    [TestMethod]
    [DataRow(new[] { "--image", "8x8" }, 2)]
    [DataRow(new[] { "--image", "8x8", "--threads", "1" }, 1)]
    [DataRow(new[] { "--image", "8x8", "--threads", "3" }, 3)]
    [DataRow(new string[0], 1)]
    [DataRow(new[] { "--threads", "2" }, 2)]
    public void Threads_TwoForAConvolutionalNetworkUnlessGiven(string[] flags, int threads)
    {
        var trainingFlags = new TrainingFlags();
        var command = new System.CommandLine.RootCommand();
        foreach (var option in trainingFlags.All)
        {
            command.Options.Add(option);
        }

        Assert.AreEqual(threads, trainingFlags.Options(command.Parse(flags), CancellationToken.None).NumberOfThreads, string.Join(" ", flags));
    }

    [TestMethod, TestCategory(TestLanes.Slow)]
    public void Cnn_TrainEvaluatePredictExport()
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "cnn.zip");
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", CliRunner.Data("digits.csv"), "--image", "8x8", "--conv", "8,16", "--weight-bits", "4", "--epochs", "15", "--out", model, "--json");
        Assert.AreEqual(0, code, stderr);
        using (var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]))
        {
            var architecture = json.RootElement.GetProperty("architecture");
            CollectionAssert.AreEqual(new[] { 1, 8, 8 }, architecture.GetProperty("image").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            CollectionAssert.AreEqual(new[] { 8, 16 }, architecture.GetProperty("convolutions").EnumerateArray().Select(e => e.GetProperty("channels").GetInt32()).ToArray());
            Assert.AreEqual(4, architecture.GetProperty("convolutions")[0].GetProperty("weight_bits").GetInt32());
            Assert.AreEqual(64, architecture.GetProperty("dense")[0].GetProperty("inputs").GetInt32(), "16 channels of 2x2 after two poolings");
            Assert.IsGreaterThan(0.85, json.RootElement.GetProperty("accuracy").GetDouble());
        }

        (code, stdout, stderr) = CliRunner.Run("evaluate", "--model", model, "--data", CliRunner.Data("digits.csv"), "--json");
        Assert.AreEqual(0, code, stderr);
        string predictions = Path.Combine(temp.Path, "p.csv");
        (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", CliRunner.Data("digits.csv"), "--out", predictions);
        Assert.AreEqual(0, code, stderr);
        Assert.HasCount(1798, File.ReadAllLines(predictions));
        string onnx = Path.Combine(temp.Path, "cnn.onnx");
        (code, _, stderr) = CliRunner.Run("export", "--model", model, "--out", onnx);
        Assert.AreEqual(0, code, stderr);
        var graph = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx)).Graph;
        Assert.AreEqual(2, graph.Node.Count(n => n.OpType == "Conv"));
    }

    [TestMethod, TestCategory(TestLanes.Slow)]
    public void Compare_CnnRowsBesideTheDefaultMlpAndLightGbm()
    {
        var (code, stdout, stderr) = CliRunner.Run("compare", "--image", "8x8", "--conv", "4", "--bits", "4", "--epochs", "2", "--json");
        Assert.AreEqual(0, code, stderr);
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        string[] modes = json.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("mode").GetString()!).ToArray();
        CollectionAssert.AreEqual(new[] { "cnn-float", "cnn-ptq", "cnn-learned", "cnn-qat", "mlp-qat", "lightgbm" }, modes);
    }

    [TestMethod]
    [DataRow(new[] { "--image", "9x8" }, "--image 9x8 needs 72 feature columns (1 x 9 x 8 values, row-major), but the table has 64.")]
    [DataRow(new[] { "--image", "8x8x2" }, "--image 8x8x2 needs 128 feature columns")]
    [DataRow(new[] { "--image", "8by8" }, "--image: '8by8' is not HxW or HxWxC")]
    [DataRow(new[] { "--conv", "8" }, "--conv needs --image")]
    [DataRow(new[] { "--image", "8x8", "--conv", "8,0" }, "--conv: '0' is not a positive channel count.")]
    [DataRow(new[] { "--image", "8x8", "--conv", "2,2,2,2" }, "--conv: 4 convolution blocks halve a 8x8 image 4 times")]
    public void BadShapes_OneLineNamingTheFlag_Exit2(string[] flags, string message)
    {
        var (code, _, stderr) = CliRunner.Run(new[] { "train", "--data", CliRunner.Data("digits.csv"), "--epochs", "1" }.Concat(flags).ToArray());
        Assert.AreEqual(2, code, stderr);
        StringAssert.Contains(stderr, message);
        Assert.AreEqual(1, stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.StartsWith("error", StringComparison.Ordinal)), stderr);
    }
}
