using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Model;

/// <summary>Safetensors export and import (TorchSharp.PyBridge): the reloaded network scores bit-identically.</summary>
[TestClass]
public sealed class SafetensorsTests
{
    [TestMethod]
    [DataRow(4, 8)]
    [DataRow(1, 8)]
    [DataRow(32, 32)]
    public void RoundTrip_ScoresBitIdentical_TensorsNamedForPyTorch(int weightBits, int activationBits)
    {
        var network = QatTraining.Train(Digits.Train, 10, new QatOptions { HiddenLayers = new[] { 16 }, WeightBits = weightBits, ActivationBits = activationBits, MaxEpoch = 2, NumberOfThreads = 1 });
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}.safetensors");
        try
        {
            network.SaveSafetensors(path);
            var loaded = QuantizedMlpSafetensors.LoadSafetensors(path);
            for (int i = 0; i < Digits.Test.Count; i++)
            {
                var x = Digits.Test.Features.AsSpan(i * 64, 64);
                CollectionAssert.AreEqual(network.Forward(x), loaded.Forward(x), $"row {i}");
            }

            Assert.AreEqual(network.ParameterBytes, loaded.ParameterBytes);
            using var scope = NewDisposeScope();
            var state = Safetensors.LoadStateDict(path);
            if (weightBits == 32)
            {
                Assert.AreEqual(ScalarType.Float32, state["layers.0.weight"].dtype);
            }
            else
            {
                Assert.AreEqual(ScalarType.Int8, state["layers.0.weight_codes"].dtype);
                CollectionAssert.AreEqual(new long[] { 16, 64 }, state["layers.0.weight_codes"].shape);
                Assert.AreEqual(16L, state["layers.0.weight_scale"].numel(), "per-channel scales");
            }

            Assert.AreEqual(2L, state["task"].item<long>());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    [DataRow(4)]
    [DataRow(32)]
    public void Cnn_RoundTrip_ScoresBitIdentical_FiltersShapedAsConv2dWeights(int bits)
    {
        var options = new QatOptions { Mode = bits == 32 ? QatMode.Float : QatMode.QuantizationAware, WeightBits = bits, ActivationBits = bits == 32 ? 32 : 8, ImageShape = new ImageShape(1, 8, 8), ConvolutionChannels = new[] { 4, 6 }, HiddenLayers = new[] { 8 }, MaxEpoch = 1, NumberOfThreads = 1 };
        var network = QatTraining.Train(Digits.Train, 10, options);
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}.safetensors");
        try
        {
            network.SaveSafetensors(path);
            var loaded = QuantizedMlpSafetensors.LoadSafetensors(path);
            Assert.AreEqual(QuantizedMlpFormat.Write(network).Length, QuantizedMlpFormat.Write(loaded).Length);
            CollectionAssert.AreEqual(QuantizedMlpFormat.Write(network), QuantizedMlpFormat.Write(loaded), "the same network");
            var x = Digits.Test.Features.AsSpan(0, 64);
            CollectionAssert.AreEqual(network.Forward(x), loaded.Forward(x));
            using var scope = NewDisposeScope();
            var state = Safetensors.LoadStateDict(path);
            CollectionAssert.AreEqual(new long[] { 6, 4, 3, 3 }, state[bits == 32 ? "convolutions.1.weight" : "convolutions.1.weight_codes"].shape);
            CollectionAssert.AreEqual(new long[] { 4, 4, 4 }, state["convolutions.1.input_shape"].data<long>().ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void MissingTensor_FormatExceptionNamingIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var scope = NewDisposeScope())
            {
                Safetensors.SaveStateDict(path, new Dictionary<string, Tensor> { ["layers.0.bias"] = zeros(3) });
            }

            var e = Assert.ThrowsExactly<ModelFormatException>(() => QuantizedMlpSafetensors.LoadSafetensors(path));
            StringAssert.Contains(e.Message, "tensor 'layers.0.weight_bits' is missing");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
