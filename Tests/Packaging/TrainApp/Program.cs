// Trains MapValueToKey -> NormalizeMinMax -> Quantize(8 bits) -> QuantizationAware (multiclass, W4A8) on the digits CSV,
// saves the model, and writes the Score vector of every row as the bits of each float (one row per line); with two more
// arguments, the same for a convolutional network on the digits as 8x8 images (W4A8, blocks of 8 and 16 channels).
// Usage: TrainApp DIGITS.csv MODEL.zip SCORES.txt [CNN.zip CNN-SCORES.txt]
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding;
using MlRounding.Trainers;

var ml = new MLContext(seed: 1);
IDataView data = ml.Data.LoadFromTextFile<Digit>(args[0], hasHeader: true, separatorChar: ',');
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.NormalizeMinMax("Normalized", "Pixels"))
    .Append(ml.Transforms.Quantize("Features", "Normalized", bits: 8))
    .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { WeightBits = 4, ActivationBits = 8, MaxEpoch = 10, NumberOfThreads = 2 }));
ITransformer model = pipeline.Fit(data);
ml.Model.SaveDeterministic(model, data.Schema, args[1]);
Scores.Write(ml, model.Transform(data), args[2]);
Console.WriteLine($"trained and saved {args[1]}");
if (args.Length > 4)
{
    var cnn = new QatOptions { WeightBits = 4, ActivationBits = 8, MaxEpoch = 10, NumberOfThreads = 2, ImageShape = new ImageShape(1, 8, 8), ConvolutionChannels = new[] { 8, 16 }, HiddenLayers = new[] { 32 } };
    ITransformer images = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
        .Append(ml.MulticlassClassification.Trainers.QuantizationAware(cnn)).Fit(data);
    ml.Model.SaveDeterministic(images, data.Schema, args[3]);
    Scores.Write(ml, images.Transform(data), args[4]);
    Console.WriteLine($"trained and saved {args[3]}");
}

public sealed class Digit
{
    [LoadColumn(0, 63), VectorType(64)]
    public float[] Pixels { get; set; } = Array.Empty<float>();

    [LoadColumn(64)]
    public float Label { get; set; }
}

public static class Scores
{
    public static void Write(MLContext ml, IDataView scored, string path)
    {
        var lines = new List<string>();
        using var cursor = scored.GetRowCursor(new[] { scored.Schema["Score"] });
        var get = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        VBuffer<float> score = default;
        while (cursor.MoveNext())
        {
            get(ref score);
            lines.Add(string.Join(' ', score.DenseValues().Select(v => BitConverter.SingleToInt32Bits(v).ToString("x8"))));
        }

        File.WriteAllLines(path, lines);
    }
}
