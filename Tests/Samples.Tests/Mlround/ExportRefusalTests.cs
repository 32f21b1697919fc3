namespace MlRounding.Samples.Tests.Mlround;

/// <summary>An export that cannot be done names what stops it.</summary>
[TestClass]
public sealed class ExportRefusalTests
{
    [TestMethod]
    public void AModelWithFreeText_NamesFeaturizeTextAndTheColumn_OneLine_NoFile()
    {
        using var temp = new TempFolder();
        var (_, model) = CliRunner.Train(temp.Path, new[] { "review,score,Label" }.Concat(Enumerable.Range(0, 40).Select(i => $"good movie number {i},{i % 5},{i % 2}")), "--text", "review", "--epochs", "2");
        string onnx = Path.Combine(temp.Path, "m.onnx");
        var (code, _, stderr) = CliRunner.Run("export", "--model", model, "--out", onnx);
        Assert.AreEqual(2, code);
        Assert.AreEqual($"error: {model}: its free-text columns ('review', featurized by FeaturizeText with --text) cannot be exported to ONNX; train without --text to export.", stderr.Trim());
        Assert.IsFalse(File.Exists(onnx));
    }
}
