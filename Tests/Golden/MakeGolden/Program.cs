// Writes Tests/Golden: one model file per golden case (GoldenCases.All) and the outputs it gives on its bundled CSV.
// Existing files are kept (they are what older versions wrote, and must keep loading); --all rewrites every case.
// Usage: dotnet run --project Tests/Golden/MakeGolden -- [--all] [OUTPUT FOLDER]   (default: Tests/Golden)
using Microsoft.ML;
using MlRounding;
using MlRounding.Tests.Shared;
using MlRounding.Trainers;

string repo = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(repo, "MlRounding.sln")))
{
    repo = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(repo)) ?? throw new InvalidOperationException("MlRounding.sln not found above " + AppContext.BaseDirectory);
}

bool all = args.Contains("--all");
string[] folders = args.Where(a => a != "--all").ToArray();
string output = folders.Length > 0 ? folders[0] : Path.Combine(repo, "Tests", "Golden");
string data = Path.Combine(repo, "Samples", "data");
foreach (var golden in GoldenCases.All)
{
    if (!all && File.Exists(Path.Combine(output, golden.Name + ".zip")))
    {
        Console.WriteLine($"{golden.Name}: kept");
        continue;
    }

    var ml = new MLContext(seed: 1);
    IDataView rows = GoldenCases.Load(ml, golden.DataFile, Path.Combine(data, golden.DataFile));
    ITransformer model = Pipeline(ml, golden.Name).Fit(rows);
    if (golden.Name == "multiclass-learned-w2a8")
    {
        // The float network below, quantized to 2 bits by learned rounding on the same rows (their labels unused).
        model = ml.Model.QuantizeNetwork(model, rows, new LearnedRoundingOptions { WeightBits = 2, NumberOfThreads = 2, Seed = 1 });
    }

    string zip = Path.Combine(output, golden.Name + ".zip");
    ml.Model.SaveDeterministic(model, rows.Schema, zip);

    // Expected outputs from the model as loaded back (what the test does), not the one in memory.
    ITransformer loaded = new MLContext().Model.LoadVerified(zip, out _);
    var lines = GoldenCases.Read(loaded.Transform(rows), golden.Columns);
    AtomicFile.Write(Path.Combine(output, golden.Name + ".scores.csv"), (Stream s) =>
    {
        using var writer = new StreamWriter(s);
        lines.ForEach(writer.WriteLine);
    });
    Console.WriteLine($"{golden.Name}: {new FileInfo(zip).Length} bytes, {lines.Count - 1} rows");
}

static IEstimator<ITransformer> Pipeline(MLContext ml, string name)
{
    QatOptions Options(int weightBits, int activationBits) => new() { WeightBits = weightBits, ActivationBits = activationBits, MaxEpoch = 15, NumberOfThreads = 2, Seed = 1 };
    switch (name)
    {
        case "transforms":
            return ml.Transforms.Round("Cents", "Features", decimals: 2, MidpointRounding.AwayFromZero)
                .Append(ml.Transforms.RoundToStep("Quarter", "Features", step: 0.25, offset: 0.1))
                .Append(ml.Transforms.Quantize("Slots", "Features", bits: 4, perSlot: true))
                .Append(ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "Symmetric", InputColumnName = "Features", Bits = 8, Symmetric = true, CodesColumnName = "Codes" }));
        case "regression-cents":
            var regression = Options(4, 8);
            regression.LabelColumnName = "Progression";
            regression.RoundingLayers.Add(new QatRoundingLayer { Grid = new DecimalGrid(2), Position = regression.HiddenLayers.Length + 1 });
            return ml.Transforms.NormalizeMinMax("Features").Append(ml.Regression.Trainers.QuantizationAware(regression));
        case "binary-w2a8":
            var binary = Options(2, 8);
            binary.LabelColumnName = "Benign";
            return ml.Transforms.NormalizeMinMax("Features").Append(ml.BinaryClassification.Trainers.QuantizationAware(binary));
        case "multiclass-w4a8-integer":
            return ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMinMax("Normalized", "Pixels"))
                .Append(ml.Transforms.Quantize("Features", "Normalized", bits: 8))
                .Append(ml.MulticlassClassification.Trainers.QuantizationAware(Options(4, 8)));
        case "multiclass-w4a8-input8":
            // The trainer's defaults (8-bit input grid fitted to the features: the whole path integer), W4A8.
            return ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
                .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { WeightBits = 4, MaxEpoch = 15, NumberOfThreads = 2, Seed = 1 }));
        case "multiclass-cnn-w4a8":
            // The digits as 8x8 images: two convolution blocks (8, 16 channels), one dense hidden layer of 32, W4A8.
            var cnn = new QatOptions { WeightBits = 4, MaxEpoch = 10, NumberOfThreads = 2, Seed = 1, ImageShape = new ImageShape(1, 8, 8), ConvolutionChannels = new[] { 8, 16 }, HiddenLayers = new[] { 32 } };
            return ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
                .Append(ml.MulticlassClassification.Trainers.QuantizationAware(cnn));
        case "multiclass-learned-w2a8":
            return ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
                .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { Mode = QatMode.Float, MaxEpoch = 15, NumberOfThreads = 2, Seed = 1 }));
        case "multiclass-w8a8":
            return ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
                .Append(ml.MulticlassClassification.Trainers.QuantizationAware(Options(8, 8)));
        default:
            throw new ArgumentException("unknown golden case " + name);
    }
}
