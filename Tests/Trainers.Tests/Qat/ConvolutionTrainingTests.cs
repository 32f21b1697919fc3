using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Qat;

/// <summary>
/// The convolution blocks of the trainer: the deployed scorer against TorchSharp's own <c>conv2d</c> / <c>max_pool2d</c>
/// on the trained weights, the blocks' gradients against finite differences, a quantized CNN trained on the digits as
/// 8x8 images (the scorer tracks the fake-quantized network, it learns, equal seeds give equal files), and bad shapes
/// and options naming the option.
/// </summary>
[TestClass]
public sealed class ConvolutionTrainingTests
{
    private static QatOptions Cnn(QatMode mode, int bits, int epochs = 1) => new()
    {
        Mode = mode, WeightBits = bits, ActivationBits = mode == QatMode.Float ? 32 : 8, ImageShape = new ImageShape(1, 8, 8),
        ConvolutionChannels = new[] { 4, 6 }, HiddenLayers = new[] { 8 }, MaxEpoch = epochs, NumberOfThreads = 1,
    };

    [TestMethod]
    public void FloatCnn_Scorer_EqualsTorchSharpConv2dAndMaxPool2d()
    {
        using QatNetwork network = QatTraining.TrainNetwork(Digits.Train, 10, Cnn(QatMode.Float, 32, epochs: 2));
        QuantizedMlp model = network.Export(QatTask.MulticlassClassification, 10);
        Assert.HasCount(2, model.Convolutions);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor h = tensor(Digits.Test.Features).reshape(Digits.Test.Count, 1, 8, 8);
        foreach (var conv in network.Convolutions!.Convolutions)
        {
            h = nn.functional.max_pool2d(nn.functional.relu(nn.functional.conv2d(h, conv.weight!, conv.bias!, padding: new long[] { 1, 1 })), new long[] { 2, 2 });
        }

        h = h.flatten(1);
        h = nn.functional.relu(nn.functional.linear(h, network.Layers[0].weight!, network.Layers[0].bias!));
        float[] expected = nn.functional.linear(h, network.Layers[1].weight!, network.Layers[1].bias!).data<float>().ToArray();
        for (int i = 0; i < Digits.Test.Count; i++)
        {
            float[] actual = model.Forward(Digits.Test.Features.AsSpan(i * 64, 64));
            for (int j = 0; j < 10; j++)
            {
                Assert.AreEqual(expected[i * 10 + j], actual[j], 1e-4 * Math.Max(1, Math.Abs(expected[i * 10 + j])), $"row {i}, class {j}");
            }
        }
    }

    [TestMethod]
    public void FloatCnn_Gradients_MatchFiniteDifferences()
    {
        var options = Cnn(QatMode.Float, 32);
        using var network = new QatNetwork(64, 3, options);
        network.to(ScalarType.Float64);
        using var scope = NewDisposeScope();
        var random = new Random(3);
        Tensor x = tensor(Enumerable.Range(0, 2 * 64).Select(_ => random.NextDouble()).ToArray()).reshape(2, 64);
        Tensor r = tensor(Enumerable.Range(0, 2 * 3).Select(_ => random.NextDouble() - 0.5).ToArray()).reshape(2, 3);
        double Loss() => (network.call(x) * r).sum().item<double>();
        (network.call(x) * r).sum().backward();
        foreach (var conv in network.Convolutions!.Convolutions)
        {
            Tensor w = conv.weight!;
            double[] gradient = w.grad!.data<double>().ToArray();
            for (int k = 0; k < gradient.Length; k += 7)
            {
                double original;
                using (no_grad())
                {
                    original = w.view(-1)[k].item<double>();
                    w.view(-1)[k] = original + 1e-6;
                }

                double up = Loss();
                using (no_grad())
                {
                    w.view(-1)[k] = original - 1e-6;
                }

                double down = Loss();
                using (no_grad())
                {
                    w.view(-1)[k] = original;
                }

                Assert.AreEqual((up - down) / 2e-6, gradient[k], 1e-6 + 1e-4 * Math.Abs(gradient[k]), $"weight {k} of {conv.GetName()}");
            }
        }
    }

    [TestMethod]
    public void TwoThreads_GiveTheSingleThreadGradients()
    {
        // LibTorch's conv2d passed its input a different gradient with 2 threads than with 1 (docs/trainer.md): the blocks
        // must not depend on it. The same step with 1 and 2 threads, every parameter's gradient compared.
        Native.TorchSharpNative.EnsureLoaded();
        int threads = get_num_threads();
        try
        {
            float[] Gradients(int n)
            {
                set_num_threads(n);
                manual_seed(1);
                using var network = new QatNetwork(64, 10, Cnn(QatMode.Float, 32));
                using var scope = NewDisposeScope();
                Tensor x = tensor(Digits.Train.Features.AsSpan(0, 64 * 64).ToArray()).reshape(64, 64);
                nn.functional.cross_entropy(network.call(x), tensor(Digits.Train.Labels.AsSpan(0, 64).ToArray()).to_type(ScalarType.Int64)).backward();
                return network.parameters().SelectMany(p => p.grad is null ? Array.Empty<float>() : p.grad.data<float>().ToArray()).ToArray();
            }

            float[] one = Gradients(1), two = Gradients(2);
            Assert.HasCount(one.Length, two);
            double scale = one.Max(Math.Abs);
            Assert.IsLessThan(1e-4 * scale, one.Zip(two).Max(p => Math.Abs(p.First - p.Second)), "largest gradient difference, relative to the largest gradient");
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [TestMethod, TestCategory(TestLanes.Slow)]
    [DataRow(4)]
    [DataRow(2)]
    public void QuantizedCnn_OnDigits_ScorerTracksTheNetwork_AndLearns(int bits)
    {
        var options = Cnn(QatMode.QuantizationAware, bits, epochs: 15);
        options.ConvolutionChannels = new[] { 8, 16 };
        options.HiddenLayers = new[] { 32 };
        // The digits features are p / 16 for integer pixel counts p: exactly a grid of step 1/16, so the network's float
        // pass sees the values the scorer's input codes stand for.
        var grid = new InputGrid(new AffineGrid(8, QuantizationRange.FromBits(8, signed: false), new[] { 1.0 / 16 }, new[] { 0L }), 1f / 16);
        using QatNetwork network = QatTraining.TrainNetwork(Digits.Train, 10, options, inputGrid: grid);
        QuantizedMlp model = network.Export(QatTask.MulticlassClassification, 10);
        Assert.IsTrue(model.Convolutions.All(c => c.Filters.WeightBits == bits && c.Filters.ActivationBits == 8));
        Assert.AreEqual(1, model.InputGrid!.Scales.Distinct().Count(), "one scale for the one channel");
        Digits.AssertTracks(network, model, Digits.Test, 0.05, $"W{bits}A8 CNN");
        double accuracy = QatTraining.Validate(model, Digits.Test).Metric;
        Assert.IsGreaterThan(bits == 4 ? 0.9 : 0.8, accuracy, $"W{bits}A8 CNN test accuracy (chance: 0.1)");
    }

    [TestMethod]
    public void Validation_ScoresTheDeployedCnn_BitForBit()
    {
        // As for dense networks: the epoch kept is chosen on the scores of the one C# scorer, and the model returned is
        // the one judged (its validation loss, recomputed, has the same bits).
        var seen = new List<QatProgress>();
        QuantizedMlp model = QatTraining.Train(Digits.Train, 10, Cnn(QatMode.QuantizationAware, 4, epochs: 4), validation: Digits.Test, progress: new Collect(seen));
        double best = seen.Min(p => p.ValidationLoss);
        var (metric, loss) = QatTraining.Validate(model, Digits.Test);
        Assert.AreEqual(BitConverter.DoubleToInt64Bits(best), BitConverter.DoubleToInt64Bits(loss), "validation loss of the returned model");
        Assert.AreEqual(metric, Digits.Accuracy(model, Digits.Test), 1e-12, "the accuracy is the scorer's");
    }

    [TestMethod]
    public void EqualSeeds_GiveByteIdenticalModelFiles()
    {
        QatData rows = Digits.Train.Subset(Enumerable.Range(0, 300).ToArray());
        byte[] Train() => QuantizedMlpFormat.Write(QatTraining.Train(rows, 10, Cnn(QatMode.QuantizationAware, 4, epochs: 2)));
        byte[] first = Train();
        CollectionAssert.AreEqual(first, Train());
        Assert.AreEqual(3, BitConverter.ToInt32(first, 0), "a network with convolution blocks is format version 3");
    }

    [TestMethod]
    public void FeatureWidthOtherThanTheShape_NamesColumnShapeAndWidth()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 20).Select(i => new Row { Features = new float[10], Label = i % 2 == 0 }).ToArray();
        var options = new QatOptions { ImageShape = new ImageShape(1, 3, 3), ConvolutionChannels = new[] { 4 }, MaxEpoch = 1 };
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.QuantizationAware(options).Fit(ml.Data.LoadFromEnumerable(rows)));
        StringAssert.Contains(e.Message, "'Features' has 10 values");
        StringAssert.Contains(e.Message, "ImageShape 1x3x3");
        StringAssert.Contains(e.Message, "needs 9");
    }

    [TestMethod]
    public void DefaultDenseLayer_FollowsTheFirstDenseMatrixsBits()
    {
        var image = new ImageShape(1, 28, 28);
        CollectionAssert.AreEqual(new[] { 32, 32 }, new QatOptions { ImageShape = image }.ConvolutionChannels);
        CollectionAssert.AreEqual(new[] { 64 }, new QatOptions { ImageShape = image, WeightBits = 4 }.HiddenLayers);
        CollectionAssert.AreEqual(new[] { 128 }, new QatOptions { ImageShape = image, WeightBits = 2 }.HiddenLayers);
        CollectionAssert.AreEqual(new[] { 256 }, new QatOptions { ImageShape = image, WeightBits = 1 }.HiddenLayers);
        CollectionAssert.AreEqual(new[] { 128 }, new QatOptions { ImageShape = image, Mode = QatMode.Float }.HiddenLayers, "float: the accuracy reference, wider");
        CollectionAssert.AreEqual(new[] { 256 }, new QatOptions { ImageShape = image, WeightBits = 4, LayerWeightBits = new[] { 8, 8, 1, 8 } }.HiddenLayers, "the first dense matrix's bits, after the blocks'");
    }

    [TestMethod]
    public void InvalidConvolutionOptions_NameTheOption()
    {
        var image = new ImageShape(1, 8, 8);
        (QatOptions Options, string Name)[] cases =
        {
            (new QatOptions { ImageShape = image, ConvolutionKernelSize = 4 }, nameof(QatOptions.ConvolutionKernelSize)),
            (new QatOptions { ImageShape = image, ConvolutionChannels = new[] { 0 } }, nameof(QatOptions.ConvolutionChannels)),
            (new QatOptions { ImageShape = image, ConvolutionChannels = new[] { 2, 2, 2, 2 } }, nameof(QatOptions.ConvolutionChannels)),
            (new QatOptions { ImageShape = image, LayerWeightBits = new[] { 4, 4 } }, nameof(QatOptions.LayerWeightBits)),
        };
        foreach (var (options, name) in cases)
        {
            Assert.AreEqual(name, Assert.ThrowsExactly<ArgumentOutOfRangeException>(options.Validate).ParamName);
        }

        new QatOptions { ImageShape = image, LayerWeightBits = new[] { 8, 4, 4, 8 } }.Validate(); // two blocks, one hidden layer, the output
    }

    private sealed class Row
    {
        [VectorType(10)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public bool Label { get; set; }
    }
}
