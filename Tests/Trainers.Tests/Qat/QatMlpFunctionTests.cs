using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Qat;

/// <summary>
/// The one-call training pass (<see cref="QatMlpFunction"/>) against the per-layer path it stands in for (quantizer
/// modules, <c>linear</c> and <c>relu</c> under TorchSharp's autograd): the same outputs and the same gradients for
/// every parameter, across bit widths, granularities, depths, tasks and with one side left in float.
/// </summary>
[TestClass]
public sealed class QatMlpFunctionTests
{
    public static IEnumerable<object[]> Configurations => new[]
    {
        new object[] { "W4A8 per channel", new QatOptions { WeightBits = 4, ActivationBits = 8 } },
        new object[] { "W2A2 per tensor", new QatOptions { WeightBits = 2, ActivationBits = 2, PerChannelWeights = false } },
        new object[] { "W8A32", new QatOptions { WeightBits = 8, ActivationBits = 32 } },
        new object[] { "W32A4", new QatOptions { WeightBits = 32, ActivationBits = 4 } },
        new object[] { "three hidden layers", new QatOptions { WeightBits = 3, ActivationBits = 5, HiddenLayers = new[] { 40, 24, 16 } } },
        new object[] { "no hidden layer", new QatOptions { WeightBits = 4, HiddenLayers = Array.Empty<int>() } },
        new object[] { "regression", new QatOptions { WeightBits = 4, Task = QatTask.Regression } },
        new object[] { "W4A8 straight-through", new QatOptions { WeightBits = 4, Gradient = QatGradient.StraightThrough } },
        new object[] { "W2A4 straight-through per tensor", new QatOptions { WeightBits = 2, ActivationBits = 4, PerChannelWeights = false, Gradient = QatGradient.StraightThrough } },
        new object[] { "W1A8 per channel", new QatOptions { WeightBits = 1, ActivationBits = 8 } },
        new object[] { "W1A4 per tensor", new QatOptions { WeightBits = 1, ActivationBits = 4, PerChannelWeights = false } },
        new object[] { "W1A8 straight-through", new QatOptions { WeightBits = 1, Gradient = QatGradient.StraightThrough } },
        new object[] { "weight bits 1, 8", new QatOptions { LayerWeightBits = new[] { 1, 8 }, HiddenLayers = new[] { 32 } } },
    };

    [TestMethod]
    [DynamicData(nameof(Configurations))]
    public void OneCallPass_EqualsThePerLayerPass_ValuesAndGradients(string name, QatOptions options)
    {
        using var scope = NewDisposeScope();
        int outputs = options.Task == QatTask.Regression ? 1 : 10;
        Tensor x = tensor(Digits.Train.Features.AsSpan(0, 64 * 64).ToArray()).reshape(64, 64);
        Tensor seed = randn(new long[] { 64, outputs }, generator: new Generator(11));

        // Two networks in the same state (data-driven steps move with every pass, so one network cannot run both).
        QatNetwork Network()
        {
            manual_seed(7);
            var network = new QatNetwork(64, outputs, options) { FuseTrainingPass = false };
            if (options.Task == QatTask.Regression)
            {
                (network.OutputScale, network.OutputShift) = (2.5f, 4f);
            }

            network.train();
            network.call(x).Dispose(); // the first step initialises the quantizers' steps
            return network;
        }

        using QatNetwork first = Network(), second = Network();
        var (perLayer, perLayerGrads) = Step(first, x, seed, fused: false);
        var (oneCall, oneCallGrads) = Step(second, x, seed, fused: true);
        Assert.AreEqual(0, first.FusedPasses);
        Assert.AreEqual(1, second.FusedPasses, $"{name}: the one-call path was taken");
        Tensor stepsAfter(QatNetwork n) => n.named_parameters().Single(p => p.name == "log_steps").parameter.detach().clone();
        Assert.IsTrue(stepsAfter(first).allclose(stepsAfter(second), rtol: 1e-6, atol: 1e-7), $"{name}: the steps after the pass");

        Assert.IsTrue(oneCall.allclose(perLayer, rtol: 1e-5, atol: 1e-5), $"{name}: outputs, largest difference {(oneCall - perLayer).abs().max().item<float>()}");
        Assert.AreEqual(perLayerGrads.Count, oneCallGrads.Count, $"{name}: the same parameters receive gradients");
        foreach (var (parameter, expected) in perLayerGrads)
        {
            Tensor actual = oneCallGrads[parameter];
            double scale = Math.Max(1e-3, expected.abs().max().item<float>());
            double worst = (actual - expected).abs().max().item<float>() / scale;
            Assert.IsLessThan(1e-4, worst, $"{name}: gradient of {parameter}, worst difference {worst:G3} of its largest entry");
        }

        bool learned = options.Gradient == QatGradient.LearnedStepSize;
        Assert.AreEqual(learned, perLayerGrads.ContainsKey("log_steps"), $"{name}: steps are learned with LSQ only ({string.Join(", ", perLayerGrads.Keys)})");
    }

    [TestMethod]
    public void OneCallPass_PassesTheGradientToTheInput_WhenTheInputNeedsIt()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var network = new QatNetwork(64, 10, new QatOptions { WeightBits = 4 });
        network.train();
        Tensor x0 = tensor(Digits.Train.Features.AsSpan(0, 16 * 64).ToArray()).reshape(16, 64);
        network.call(x0).Dispose();
        Tensor Gradient(bool fused)
        {
            network.FuseTrainingPass = fused;
            Tensor x = x0.clone().requires_grad_(true);
            network.call(x).square().sum().backward();
            return x.grad!.clone();
        }

        Tensor expected = Gradient(false);
        Assert.IsTrue(Gradient(true).allclose(expected, rtol: 1e-4, atol: 1e-6));
        Assert.AreEqual(1, network.FusedPasses);
        Assert.IsGreaterThan(0f, expected.abs().max().item<float>(), "a gradient that can differ");
    }

    [TestMethod]
    [DataRow(QatMode.Float)]
    [DataRow(QatMode.PostTraining)]
    public void FloatTraining_StaysOnTorchSharpsAutograd(QatMode mode)
    {
        using var scope = NewDisposeScope();
        using var network = new QatNetwork(64, 10, new QatOptions { Mode = mode, WeightBits = 4 });
        network.train();
        Tensor x = tensor(Digits.Train.Features.AsSpan(0, 16 * 64).ToArray()).reshape(16, 64);
        network.call(x).sum().backward();
        network.call(x).sum().backward();
        Assert.AreEqual(0, network.FusedPasses, "the float peer and post-training quantization's float phase are plain TorchSharp");
    }

    private static (Tensor Output, Dictionary<string, Tensor> Gradients) Step(QatNetwork network, Tensor x, Tensor seed, bool fused)
    {
        network.FuseTrainingPass = fused;
        network.zero_grad();
        Tensor output = network.call(x);
        output.backward(new[] { seed });
        var grads = network.named_parameters().Where(p => p.parameter.grad is not null).ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        return (output.detach(), grads);
    }
}
