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
        new object[] { "W4A8 straight-through", new QatOptions { WeightBits = 4, Quantizer = QatQuantizer.StraightThrough } },
        new object[] { "W2A4 straight-through per tensor", new QatOptions { WeightBits = 2, ActivationBits = 4, PerChannelWeights = false, Quantizer = QatQuantizer.StraightThrough } },
        new object[] { "W1A8 per channel", new QatOptions { WeightBits = 1, ActivationBits = 8 } },
        new object[] { "W1A4 per tensor", new QatOptions { WeightBits = 1, ActivationBits = 4, PerChannelWeights = false } },
        new object[] { "W1A8 straight-through", new QatOptions { WeightBits = 1, Quantizer = QatQuantizer.StraightThrough } },
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
        AssertGradientsMatch(perLayerGrads, oneCallGrads, name);

        bool learned = options.Quantizer == QatQuantizer.LearnedStepSize;
        Assert.AreEqual(learned, perLayerGrads.ContainsKey("log_steps"), $"{name}: steps are learned with LSQ only ({string.Join(", ", perLayerGrads.Keys)})");
    }

    [TestMethod]
    [DataRow(4)]
    [DataRow(1)]
    public void RepeatedPasses_ThroughTheReusedWeightBuffers_EqualThePerLayerPass(int bits)
    {
        // Three steps with plain SGD between them: each one-call pass overwrites the quantized weights the previous pass
        // left in the network's buffers, and must still give the per-layer pass's outputs and gradients.
        using var scope = NewDisposeScope();
        Tensor x = tensor(Digits.Train.Features.AsSpan(0, 32 * 64).ToArray()).reshape(32, 64);
        Tensor seed = randn(new long[] { 32, 10 }, generator: new Generator(5));
        var options = new QatOptions { WeightBits = bits, HiddenLayers = new[] { 24 } };
        using QatNetwork perLayer = Initialized(x, options, 9, fused: false), oneCall = Initialized(x, options, 9, fused: true);
        for (int step = 0; step < 3; step++)
        {
            var (expected, expectedGrads) = Step(perLayer, x, seed, fused: false);
            var (actual, actualGrads) = Step(oneCall, x, seed, fused: true);
            Assert.IsTrue(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), $"step {step}: outputs");
            AssertGradientsMatch(expectedGrads, actualGrads, $"step {step}");

            using (no_grad())
            {
                foreach (QatNetwork n in new[] { perLayer, oneCall })
                {
                    foreach (var p in n.parameters().Where(p => p.grad is not null))
                    {
                        p.sub_(p.grad!.mul(0.05));
                    }
                }
            }
        }

        Assert.AreEqual(3, oneCall.FusedPasses);
    }

    [TestMethod]
    public void WeightGradients_LeftInPlace_AfterAStartWithoutGradients_AreNotDoubled()
    {
        // The weight gradient passes through a buffer the network reuses. Gradients that start out undefined (a module's
        // zero_grad) and are then zeroed in place (an optimizer's zero_grad) must still equal the per-layer path's:
        // a .grad that shared the buffer would be overwritten by the next backward and then doubled.
        using var scope = NewDisposeScope();
        Tensor x = tensor(Digits.Train.Features.AsSpan(0, 16 * 64).ToArray()).reshape(16, 64);
        QatNetwork Network(bool fused)
        {
            QatNetwork network = Initialized(x, new QatOptions { WeightBits = 2 }, 4, fused);
            network.zero_grad(); // undefined gradients
            return network;
        }

        Tensor[] Gradients(QatNetwork network)
        {
            network.call(x).square().sum().backward();
            Tensor first = network.Layers[0].weight!.grad!.clone();
            foreach (var p in network.parameters())
            {
                p.grad?.zero_();
            }

            network.call(x * 0.5f).square().sum().backward();
            return new[] { first, network.Layers[0].weight!.grad!.clone() };
        }

        using QatNetwork perLayer = Network(false), oneCall = Network(true);
        Tensor[] expected = Gradients(perLayer), actual = Gradients(oneCall);
        Assert.AreEqual(2, oneCall.FusedPasses);
        for (int k = 0; k < 2; k++)
        {
            Assert.IsTrue(actual[k].allclose(expected[k], rtol: 1e-4, atol: 1e-6), $"step {k}: largest difference {(actual[k] - expected[k]).abs().max().item<float>()}");
        }
    }

    [TestMethod]
    public void TwoPassesBeforeTheirBackwards_EachGetTheGradientOfItsOwnWeights()
    {
        // The first pass holds the weight buffers until its backward; the second, run before that, must write its own
        // tensors, so both backwards give the gradients of their own pass. The steps grow between the passes (the one-call
        // pass keeps its steps as numbers, so that in-place change is allowed there), so the passes' quantized weights
        // differ and reading the other pass's would show. The per-layer reference runs each backward before the change.
        using var scope = NewDisposeScope();
        Tensor x = tensor(Digits.Train.Features.AsSpan(0, 16 * 64).ToArray()).reshape(16, 64);
        static Tensor Weight(QatNetwork n) => n.Layers[0].weight!;
        static void GrowSteps(QatNetwork n)
        {
            using var noGrad = no_grad();
            n.named_parameters().Single(p => p.name == "log_steps").parameter.add_(0.3f);
        }

        static Tensor TakeGradient(QatNetwork n)
        {
            Tensor g = Weight(n).grad!.clone();
            Weight(n).grad!.zero_();
            return g;
        }

        var options = new QatOptions { WeightBits = 4 };
        using QatNetwork perLayer = Initialized(x, options, 3, fused: false), oneCall = Initialized(x, options, 3, fused: true);
        perLayer.call(x).square().sum().backward();
        Tensor expectedA = TakeGradient(perLayer);
        GrowSteps(perLayer);
        perLayer.call(x).square().sum().backward();
        Tensor expectedB = TakeGradient(perLayer);

        Tensor a = oneCall.call(x);
        GrowSteps(oneCall);
        Tensor b = oneCall.call(x);
        b.square().sum().backward();
        Tensor actualB = TakeGradient(oneCall);
        a.square().sum().backward();
        Tensor actualA = TakeGradient(oneCall);

        Assert.AreEqual(2, oneCall.FusedPasses);
        Assert.IsFalse(expectedA.allclose(expectedB, rtol: 1e-3, atol: 1e-6), "the two passes' gradients differ, so a mix-up shows");
        Assert.IsTrue(actualA.allclose(expectedA, rtol: 1e-4, atol: 1e-6), "the first pass: its own weights' gradient");
        Assert.IsTrue(actualB.allclose(expectedB, rtol: 1e-4, atol: 1e-6), "the second pass: its own weights' gradient");

        Tensor again = oneCall.call(x); // both backwards ran: the buffers are free again, and a new pass still agrees
        again.sum().backward();
        Assert.AreEqual(3, oneCall.FusedPasses);
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

    /// <summary>A network seeded with <paramref name="seed"/> whose quantizers one per-layer pass on <paramref name="x"/> has initialised, in training mode, then set to take the one-call path or not.</summary>
    private static QatNetwork Initialized(Tensor x, QatOptions options, int seed, bool fused)
    {
        manual_seed(seed);
        var network = new QatNetwork(64, 10, options) { FuseTrainingPass = false };
        network.train();
        network.call(x).Dispose(); // the first step initialises the quantizers' steps
        network.FuseTrainingPass = fused;
        return network;
    }

    /// <summary>Each expected gradient equals the actual one within 1e-4 of its largest entry.</summary>
    private static void AssertGradientsMatch(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual, string label)
    {
        foreach (var (parameter, gradient) in expected)
        {
            double scale = Math.Max(1e-3, gradient.abs().max().item<float>());
            double worst = (actual[parameter] - gradient).abs().max().item<float>() / scale;
            Assert.IsLessThan(1e-4, worst, $"{label}: gradient of {parameter}, worst difference {worst:G3} of its largest entry");
        }
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
