using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary><c>mlround export</c>: ONNX Runtime on the exported file predicts what <c>mlround predict</c> writes.</summary>
[TestClass, TestCategory(TestLanes.Slow)]
public sealed class ExportCommandTests
{
    [TestMethod]
    public void Export_OnnxRuntimeMatchesPredict_SafetensorsWritten()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        string model = Path.Combine(dir, "model.zip"), onnx = Path.Combine(dir, "model.onnx"), weights = Path.Combine(dir, "model.safetensors"), predictions = Path.Combine(dir, "p.csv");
        Assert.AreEqual(0, CliRunner.Run("train", "--data", CliRunner.Data("digits.csv"), "--epochs", "5", "--weight-bits", "4", "--hidden", "32", "--out", model).ExitCode);
        var (code, stdout, stderr) = CliRunner.Run("export", "--model", model, "--out", onnx, "--safetensors", weights);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "inputs: 'Numeric' = p0, p1, p2");
        Assert.IsTrue(File.Exists(weights));
        Assert.AreEqual(0, CliRunner.Run("predict", "--model", model, "--data", CliRunner.Data("digits.csv"), "--out", predictions).ExitCode);

        string[] lines = File.ReadAllLines(CliRunner.Data("digits.csv"));
        float[][] features = lines.Skip(1).Select(l => l.Split(',')[..64].Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        using var session = new InferenceSession(onnx);
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Numeric", new DenseTensor<float>(features.SelectMany(f => f).ToArray(), new[] { features.Length, 64 })) });
        float[] scores = results.Single(r => r.Name == "Score").AsTensor<float>().ToArray();
        long[] labels = results.Single(r => r.Name == "PredictedLabel").AsTensor<long>().ToArray();
        string[][] expected = CliRunner.Rows(File.ReadAllText(predictions));
        var ml = new Microsoft.ML.MLContext();
        var (loaded, info) = MlRounding.Cli.CliModelInfo.Load(ml, model);
        var view = MlRounding.Cli.TableRows.ToDataView(ml, info.Rows(MlRounding.Cli.CsvTable.Read(CliRunner.Data("digits.csv")), false, _ => { }), info.Table);
        int[] keyOf = MlRounding.Cli.Predictions.ScoreColumns(loaded, view); // digits' labels map to keys in order of appearance; predict writes 0..9
        for (int i = 0; i < expected.Length; i++)
        {
            float[] rowScores = expected[i][1..].Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            for (int c = 0; c < 10; c++)
            {
                Assert.AreEqual(rowScores[c], scores[i * 10 + keyOf[c]], 1e-5 * Math.Max(1e-30, Math.Abs(rowScores[c])), $"row {i} class {c}");
            }

            Assert.AreEqual(keyOf[Array.IndexOf(rowScores, rowScores.Max())], (int)labels[i], $"row {i}");
        }
    }

    [TestMethod]
    public void Export_MissingModel_Exit2_NoFile()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        var (code, _, stderr) = CliRunner.Run("export", "--model", Path.Combine(dir, "nope.zip"), "--out", Path.Combine(dir, "m.onnx"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "does not exist");
        Assert.IsEmpty(Directory.GetFileSystemEntries(dir));
    }

    [TestMethod]
    public void OnnxWeights_Int8IsTheOlderLayout_Packed4BitIsSmaller_BadValueExit2()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        string model = Path.Combine(dir, "model.zip"), packed = Path.Combine(dir, "packed.onnx"), int8 = Path.Combine(dir, "int8.onnx");
        Assert.AreEqual(0, CliRunner.Run("train", "--data", CliRunner.Data("digits.csv"), "--epochs", "2", "--weight-bits", "4", "--hidden", "32", "--out", model).ExitCode);
        Assert.AreEqual(0, CliRunner.Run("export", "--model", model, "--out", packed).ExitCode);
        Assert.AreEqual(0, CliRunner.Run("export", "--model", model, "--out", int8, "--onnx-weights", "int8").ExitCode);
        var packedModel = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(packed));
        var int8Model = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(int8));
        Assert.AreEqual((21L, 10L), (packedModel.OpsetImport.Single(o => o.Domain == "").Version, packedModel.IrVersion), "4-bit weights as INT4 by default");
        Assert.AreEqual((13L, 8L), (int8Model.OpsetImport.Single(o => o.Domain == "").Version, int8Model.IrVersion), "int8: the older layout");
        // 64x32 + 32x10 weights: half a byte each fewer, besides a Cast node per layer.
        Assert.IsLessThan(new FileInfo(int8).Length - (64 * 32 + 32 * 10) / 2 + 200, new FileInfo(packed).Length);

        var (code, _, stderr) = CliRunner.Run("export", "--model", model, "--out", Path.Combine(dir, "x.onnx"), "--onnx-weights", "int3");
        Assert.AreEqual(2, code);
        Assert.AreEqual("error: --onnx-weights: 'int3' is not packed, int4 or int8.", stderr.Trim());
        Assert.IsFalse(File.Exists(Path.Combine(dir, "x.onnx")));
    }
}
