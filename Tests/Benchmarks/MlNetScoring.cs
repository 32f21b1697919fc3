using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Onnx;
using MlRounding.Trainers;

namespace MlRounding.Benchmarks;

/// <summary>
/// The model of the scoring benchmarks: what `mlround train` builds on an MNIST-sized task (MapValueToKey, then
/// QuantizationAware with the default options and network on the 784 Fashion-MNIST pixels; NormalizeMinMax in between
/// for a float-input network),
/// trained briefly (the speed of scoring does not depend on how well the model learned), with the 10,000 test rows as
/// ML.NET data (cached), as normalized rows for the batch entry point, and the model's ONNX exports.
/// </summary>
internal sealed class MlNetScoring
{
    public sealed class FashionRow
    {
        [VectorType(784)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public float Label { get; set; }
    }

    public MLContext Ml { get; } = new(seed: 1);

    public TransformerChain<ITransformer> Model { get; private set; } = null!;

    public IDataView Test { get; private set; } = null!;

    public QuantizedMlp Network { get; private set; } = null!;

    /// <summary>Gets the test rows as the network itself takes them (after the pipeline's normalizer, if it has one).</summary>
    public float[] Normalized { get; private set; } = Array.Empty<float>();

    public float[][] Rows { get; private set; } = Array.Empty<float[]>();

    public byte[] OnnxPipeline { get; private set; } = Array.Empty<byte>();

    public byte[] OnnxNetwork { get; private set; } = Array.Empty<byte>();

    public int Count => Rows.Length;

    public static MlNetScoring Build(int weightBits, int inputBits = 32, int trainRows = 6000, int epochs = 2, bool image = false)
    {
        var s = new MlNetScoring();
        var (pixels, labels) = FashionMnist.Load(train: true);
        var (testPixels, testLabels) = FashionMnist.Load(train: false);
        IDataView train = s.Ml.Data.LoadFromEnumerable(Read(pixels, labels).Take(trainRows));
        s.Rows = Read(testPixels, testLabels).Select(r => r.Features).ToArray();
        s.Test = s.Ml.Data.Cache(s.Ml.Data.LoadFromEnumerable(Read(testPixels, testLabels)));
        // Trained once and kept in the temporary folder: the benchmarks then score in a process that has not trained
        // (training leaves TorchSharp objects to the finalizer thread, which would run during the measurements). A CNN's
        // file is named after the default blocks, so a change of the default trains a new one.
        string file = Path.Combine(Path.GetTempPath(), "mlrounding-benchmarks", $"fashion{(image ? $"-cnn{string.Join("x", new QatOptions().ConvolutionChannels)}" : "")}-w{weightBits}-i{inputBits}-r{trainRows}-e{epochs}.zip");
        if (!File.Exists(file))
        {
            var options = new QatOptions { WeightBits = weightBits, ActivationBits = 8, InputBits = inputBits, MaxEpoch = epochs, NumberOfThreads = 2, LabelColumnName = "LabelKey", ImageShape = image ? new ImageShape(1, 28, 28) : null };
            // As `mlround train` builds it: a network with an input grid quantizes (and so normalizes) each feature itself;
            // only a float input needs NormalizeMinMax in front.
            // A CNN as `mlround train --image 28x28` builds it: missing pixels replaced by the training mean, no normalizer
            // (the input grid is per channel).
            IEstimator<ITransformer> front = image
                ? s.Ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label").Append(s.Ml.Transforms.ReplaceMissingValues("Features", replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean))
                : inputBits == 32
                ? s.Ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label").Append(s.Ml.Transforms.NormalizeMinMax("Features"))
                : s.Ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            s.Ml.Model.SaveDeterministic(front.Append(s.Ml.MulticlassClassification.Trainers.QuantizationAware(options)).Fit(train), train.Schema, file);
        }

        var model = (TransformerChain<ITransformer>)s.Ml.Model.Load(file, out _);
        s.Model = model;
        s.Network = ((MulticlassPredictionTransformer<QatMulticlassModelParameters>)model.LastTransformer).Model.Network;
        IDataView normalized = new TransformerChain<ITransformer>(model.Take(model.Count() - 1).ToArray()).Transform(s.Test);
        s.Normalized = normalized.GetColumn<float[]>("Features").SelectMany(r => r).ToArray();
        using (var stream = new MemoryStream())
        {
            s.Ml.Model.ExportToOnnx(model, train.Schema, stream);
            s.OnnxPipeline = stream.ToArray();
        }

        s.OnnxNetwork = Google.Protobuf.MessageExtensions.ToByteArray(Onnx.OnnxNetwork.BuildNetwork(s.Network));
        return s;
    }

    private static IEnumerable<FashionRow> Read(float[] pixels, float[] labels) =>
        Enumerable.Range(0, labels.Length).Select(i => new FashionRow { Features = pixels.AsSpan(i * 784, 784).ToArray(), Label = labels[i] });
}
