namespace MlRounding.Samples.Tests.Mlround;

/// <summary>
/// The command line's bad-input matrix, one test per entry: exit code 2 (usage or input error) or 1 (other failure),
/// one line on stderr naming the file, column or flag, and no file left behind, not even a temporary one; a model
/// file that already existed is left as it was.
/// </summary>
[TestClass]
public sealed class BadInputMatrixTests
{
    /// <summary>Entry name, then: arguments ({dir} is a fresh folder, {model} a file in it), exit code, text expected on stderr, files written into {dir} first.</summary>
    private static readonly Dictionary<string, (string[] Args, int Code, string Expected, (string Name, string Text)[] Files)> Entries = new()
    {
        ["missing data file"] = (new[] { "train", "--data", "{dir}/missing.csv", "--out", "{model}" }, 2, "data file '{dir}/missing.csv' does not exist", []),
        ["empty file"] = (new[] { "train", "--data", "{dir}/empty.csv", "--out", "{model}" }, 2, "is empty: expected a header row and data rows", [("empty.csv", "")]),
        ["header only"] = (new[] { "train", "--data", "{dir}/header.csv", "--out", "{model}" }, 2, "has a header but no data rows", [("header.csv", "a,b,Label\n")]),
        ["unknown label column"] = (new[] { "train", "--data", CliRunner.Data("digits.csv"), "--label", "Nope", "--out", "{model}" }, 2, "data file '" + CliRunner.Data("digits.csv") + "' has no column 'Nope'; its columns are: p0, p1,", []),
        ["label does not fit binary"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--task", "binary", "--out", "{model}" }, 2, "has 214 distinct values; a binary task needs exactly 2.", []),
        ["label does not fit multiclass"] = (new[] { "train", "--data", "{dir}/frac.csv", "--task", "multiclass", "--out", "{model}" }, 2, "label column 'Label' holds 0.5, which does not fit a multiclass task", [("frac.csv", "a,Label\n1,0.5\n2,1\n3,2\n4,1\n5,0\n")]),
        ["infinite label for regression"] = (new[] { "train", "--data", "{dir}/inf.csv", "--task", "regression", "--out", "{model}" }, 2, "holds Infinity, which does not fit a regression task", [("inf.csv", "a,Label\n1,Infinity\n2,1\n3,2\n4,1\n5,0\n")]),
        ["too few rows to hold out"] = (new[] { "train", "--data", "{dir}/two.csv", "--out", "{model}" }, 2, "data file '{dir}/two.csv' leaves 1 training row(s) after holding out the test rows; at least 2 are needed.", [("two.csv", "colour,Label\n1,0\nred,1\n")]),
        ["text label with one class"] = (new[] { "train", "--data", "{dir}/one.csv", "--label", "kind", "--out", "{model}" }, 2, "label column 'kind' has 1 distinct value (cat); a multiclass task needs at least 2.", [("one.csv", "a,kind\n1,cat\n2,cat\n3,cat\n4,cat\n5,cat\n6,cat\n")]),
        ["numeric label with one class"] = (new[] { "train", "--data", "{dir}/one.csv", "--task", "binary", "--out", "{model}" }, 2, "label column 'Label' has 1 distinct value (1); a binary task needs exactly 2.", [("one.csv", "a,Label\n1,1\n2,1\n3,1\n4,1\n5,1\n6,1\n")]),
        ["ragged row"] = (new[] { "train", "--data", "{dir}/ragged.csv", "--out", "{model}" }, 2, "row 2: 3 cells, the header has 2", [("ragged.csv", "a,Label\n1,2,3\n")]),
        ["every label NaN"] = (new[] { "train", "--data", "{dir}/nan.csv", "--task", "regression", "--out", "{model}" }, 2, "data file '{dir}/nan.csv' has no row with a label: the label 'Label' is missing in all 3 row(s).", [("nan.csv", "a,Label\n1,NaN\n2,NaN\n3,NaN\n")]),
        ["weight bits out of range"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--weight-bits", "12", "--out", "{model}" }, 2, "--weight-bits: WeightBits must be 1, 2..8 or 32.", []),
        ["activation bits out of range"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--activation-bits", "1", "--out", "{model}" }, 2, "--activation-bits: ActivationBits must be 2..16 or 32.", []),
        ["zero epochs"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--epochs", "0", "--out", "{model}" }, 2, "--epochs: MaxEpoch must be positive.", []),
        ["zero batch size"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--batch-size", "0", "--out", "{model}" }, 2, "--batch-size: BatchSize must be positive.", []),
        ["non-positive learning rate"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--learning-rate", "0", "--out", "{model}" }, 2, "--learning-rate: LearningRate must be in (0, 10].", []),
        ["zero hidden size"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--hidden", "16,0", "--out", "{model}" }, 2, "--hidden: '0' is not a positive layer size.", []),
        ["test fraction out of range"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--test-fraction", "1.5", "--out", "{model}" }, 2, "--test-fraction must be in (0, 1).", []),
        ["zero threads"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--threads", "0", "--out", "{model}" }, 2, "--threads must be at least 1, got 0.", []),
        ["unknown quantizer"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--quantizer", "magic", "--out", "{model}" }, 2, "--quantizer: 'magic' is not lsq", []),
        ["unknown quantizer under its 1.0 name"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--gradient", "magic", "--out", "{model}" }, 2, "--quantizer: 'magic' is not lsq", []),
        ["unknown mode"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--mode", "int4", "--out", "{model}" }, 2, "--mode: 'int4' is not qat, ptq or float.", []),
        ["unknown task"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--task", "ranking", "--out", "{model}" }, 2, "--task: 'ranking' is not regression, binary or multiclass.", []),
        ["output folder missing"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--epochs", "1", "--out", "{dir}/no/model.zip" }, 2, "the folder of '{dir}/no/model.zip' does not exist.", []),
        ["evaluate: missing model"] = (new[] { "evaluate", "--model", "{model}", "--data", CliRunner.Data("digits.csv") }, 2, "model file '{model}' does not exist.", []),
        ["evaluate: not a model"] = (new[] { "evaluate", "--model", "{dir}/fake.zip", "--data", CliRunner.Data("digits.csv") }, 2, "error: {dir}/fake.zip: Central Directory corrupt", [("fake.zip", "not a zip")]),
        ["compare: bits out of range"] = (new[] { "compare", "--bits", "8,9" }, 2, "--bits: '9' is not a bit width in 1..8.", []),
        ["compare: zero epochs"] = (new[] { "compare", "--epochs", "0" }, 2, "--epochs must be positive.", []),
        ["weight bit list of the wrong length"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--hidden", "16,8", "--weight-bits", "2,8", "--out", "{model}" }, 2, "--weight-bits: LayerWeightBits must have one entry per weight matrix: 3 for 2 hidden layers, got 2.", []),
        ["weight bit list with a bad width"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--hidden", "16", "--weight-bits", "2,9", "--out", "{model}" }, 2, "--weight-bits: LayerWeightBits must be 1, 2..8 or 32 for each weight matrix.", []),
        ["weight bit list not numbers"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--weight-bits", "2,x", "--out", "{model}" }, 2, "--weight-bits: 'x' is not a bit width.", []),
        ["non-positive distillation temperature"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--distillation-weight", "0.5", "--distillation-temperature", "0", "--out", "{model}" }, 2, "--distillation-temperature: DistillationTemperature must be in (0, 100].", []),
        ["distillation weight above 1"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--distillation-weight", "1.5", "--out", "{model}" }, 2, "--distillation-weight: DistillationWeight must be in [0, 1].", []),
        ["warm-up epochs beyond the epochs"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--epochs", "5", "--warmup-epochs", "5", "--out", "{model}" }, 2, "--warmup-epochs: WarmupEpochs must be in [0, MaxEpoch) (MaxEpoch is 5).", []),
        ["zero teacher size"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--teacher-hidden", "0", "--out", "{model}" }, 2, "--teacher-hidden: '0' is not a positive layer size.", []),
        ["unknown schedule"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--schedule", "step", "--out", "{model}" }, 2, "--schedule: 'step' is not constant or cosine.", []),
        ["unknown epoch selection"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--epoch-selection", "last", "--out", "{model}" }, 2, "--epoch-selection: 'last' is not automatic, validation-loss or validation-metric.", []),
        ["input bits out of range"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--input-bits", "1", "--out", "{model}" }, 2, "--input-bits: InputBits must be 2..16 or 32.", []),
        ["unknown normalization"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--normalize", "zscore", "--out", "{model}" }, 2, "--normalize: 'zscore' is not auto, bins or min-max.", []),
        ["unknown flag"] = (new[] { "train", "--data", CliRunner.Data("diabetes.csv"), "--bitz", "4" }, 2, "--bitz", []),
    };

    public static IEnumerable<object[]> Names => Entries.Keys.Select(k => new object[] { k });

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void Entry_ExitCodeOneLineNoFileLeft(string entry)
    {
        var (args, code, expected, files) = Entries[entry];
        using var temp = new TempFolder();
        string dir = temp.Path;
        foreach (var (name, text) in files)
        {
            File.WriteAllText(Path.Combine(dir, name), text);
        }

        string model = Path.Combine(dir, "model.zip");
        string Fill(string s) => s.Replace("{dir}", dir).Replace("{model}", model);
        var (exit, _, stderr) = CliRunner.Run(args.Select(Fill).ToArray());
        Assert.AreEqual(code, exit, stderr);
        StringAssert.Contains(stderr, Fill(expected));
        Assert.HasCount(1, stderr.TrimEnd().Split('\n'), "one line: " + stderr);
        CollectionAssert.AreEquivalent(files.Select(f => f.Name).ToArray(), Directory.GetFiles(dir).Select(Path.GetFileName).ToArray(), "nothing written");
    }

    [TestMethod]
    public void Predict_UnknownFeatureColumn_NoPredictionFile_ModelKept()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        string model = Path.Combine(dir, "model.zip");
        var (trained, _, err) = CliRunner.Run("train", "--data", CliRunner.Data("diabetes.csv"), "--epochs", "2", "--out", model);
        Assert.AreEqual(0, trained, err);
        byte[] before = File.ReadAllBytes(model);
        var (code, _, stderr) = CliRunner.Run("predict", "--model", model, "--data", CliRunner.Data("digits.csv"), "--out", Path.Combine(dir, "p.csv"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(stderr, "needs the columns 'age', 'sex', 'bmi'");
        var (retrain, _, _) = CliRunner.Run("train", "--data", CliRunner.Data("diabetes.csv"), "--weight-bits", "12", "--out", model);
        Assert.AreEqual(2, retrain);
        CollectionAssert.AreEqual(new[] { "model.zip" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray(), "no prediction file, no temporary");
        CollectionAssert.AreEqual(before, File.ReadAllBytes(model), "a failed run leaves the existing model as it was");
    }
}
