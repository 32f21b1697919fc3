using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MlRounding.Trainers;
using SkiaSharp;

namespace MlRounding.Samples;

/// <summary>
/// A small 4-bit convolutional network trained inside an ML.NET image pipeline: PNG files read by <c>LoadImages</c>,
/// resized by <c>ResizeImages</c>, turned into a channel-planar vector by <c>ExtractPixels</c> (the order
/// <see cref="QatOptions.ImageShape"/> expects), then the quantization-aware trainer. The images are written from the
/// bundled digits data (scikit-learn's 8x8 handwritten digits, BSD-3-Clause; Samples/data/README.md), so no image set
/// is committed. <see cref="Score"/> needs nothing of the trainer: it runs in a process that never loads LibTorch.
/// </summary>
public static class ImageClassificationSample
{
    /// <summary>The side the pipeline resizes every image to.</summary>
    public const int Side = 16;

    /// <summary>One image file and its label.</summary>
    public sealed class ImageRow
    {
        /// <summary>Gets or sets the image's file name, relative to the image folder.</summary>
        public string Path { get; set; } = string.Empty;

        /// <summary>Gets or sets the digit.</summary>
        public float Label { get; set; }
    }

    /// <summary>The image rows of the digits data: the training rows (four in five) and the test rows (every fifth).</summary>
    public static (List<ImageRow> Train, List<ImageRow> Test) Split(string digitsCsv)
    {
        var (train, test) = (new List<ImageRow>(), new List<ImageRow>());
        string[] lines = File.ReadAllLines(digitsCsv);
        for (int i = 1; i < lines.Length; i++)
        {
            float label = float.Parse(lines[i][(lines[i].LastIndexOf(',') + 1)..], CultureInfo.InvariantCulture);
            ((i - 1) % 5 == 0 ? test : train).Add(new ImageRow { Path = $"digit-{i:D4}.png", Label = label });
        }

        return (train, test);
    }

    /// <summary>
    /// Writes the digits as 8x8 grayscale PNG files into <paramref name="folder"/> (pixel counts 0..16 scaled to 0..255);
    /// returns <see cref="Split"/>'s rows.
    /// </summary>
    public static (List<ImageRow> Train, List<ImageRow> Test) WriteImages(string digitsCsv, string folder)
    {
        Directory.CreateDirectory(folder);
        string[] lines = File.ReadAllLines(digitsCsv);
        for (int i = 1; i < lines.Length; i++)
        {
            float[] values = lines[i].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            using var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Gray8, SKAlphaType.Opaque));
            for (int p = 0; p < 64; p++)
            {
                byte gray = (byte)Math.Round(values[p] * 255 / 16);
                bitmap.SetPixel(p % 8, p / 8, new SKColor(gray, gray, gray));
            }

            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            using var file = File.Create(System.IO.Path.Combine(folder, $"digit-{i:D4}.png"));
            data.SaveTo(file);
        }

        return Split(digitsCsv);
    }

    /// <summary>
    /// Trains the pipeline on the training images (a W4A8 network with two convolution blocks of 8 and 16 channels and a
    /// dense layer of 32 on 1x16x16 images), saves it to <paramref name="modelPath"/>, and returns its test accuracy.
    /// </summary>
    public static double Train(string imageFolder, List<ImageRow> train, List<ImageRow> test, string modelPath)
    {
        var ml = new MLContext(seed: 1);
        IDataView trainView = ml.Data.LoadFromEnumerable(train);
        var options = new QatOptions
        {
            ImageShape = new ImageShape(1, Side, Side), ConvolutionChannels = new[] { 8, 16 }, HiddenLayers = new[] { 32 },
            WeightBits = 4, MaxEpoch = 30, NumberOfThreads = 2, LabelColumnName = "LabelKey",
        };
        var pipeline = Pixels(ml, imageFolder)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(options));
        ITransformer model = pipeline.Fit(trainView);
        ml.Model.Save(model, trainView.Schema, modelPath);
        return ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(test)), "LabelKey").MicroAccuracy;
    }

    /// <summary>
    /// Loads the saved pipeline and predicts the digit of every image in <paramref name="rows"/>; returns the share
    /// predicted right. Touches no trainer type: scoring is MlRounding.Transforms and ML.NET alone.
    /// </summary>
    public static double Score(string modelPath, string imageFolder, List<ImageRow> rows)
    {
        var ml = new MLContext();
        ITransformer model = ml.Model.Load(modelPath, out _);
        IDataView scored = model.Transform(ml.Data.LoadFromEnumerable(rows));
        uint[] predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        VBuffer<float> keys = default;
        scored.Schema["PredictedLabel"].GetKeyValues(ref keys);
        float[] labels = keys.DenseValues().ToArray();
        return rows.Where((r, i) => labels[predicted[i] - 1] == r.Label).Count() / (double)rows.Count;
    }

    /// <summary>The image part of the pipeline: load, resize, extract the gray channel as a planar float vector "Features".</summary>
    private static IEstimator<ITransformer> Pixels(MLContext ml, string imageFolder) =>
        ml.Transforms.LoadImages("Image", imageFolder, nameof(ImageRow.Path))
            .Append(ml.Transforms.ResizeImages("Image", Side, Side, resizing: ImageResizingEstimator.ResizingKind.Fill))
            .Append(ml.Transforms.ExtractPixels("Features", "Image", ImagePixelExtractingEstimator.ColorBits.Red))
            .Append(ml.Transforms.DropColumns("Image"));
}
