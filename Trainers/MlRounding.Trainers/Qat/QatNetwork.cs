using MlRounding.Ops;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// The multilayer perceptron that is trained: Linear → ReLU → (activation quantizer) per hidden layer, then a Linear
/// output layer; every Linear's weight passes through a weight quantizer. Biases stay float (they are added after
/// the integer dot product in the scorer).
/// </summary>
internal sealed class QatNetwork : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> _layers = new();
    private readonly ModuleList<Quantizer> _weightQuantizers = new();
    private readonly ModuleList<Quantizer> _activationQuantizers = new();
    private readonly ModuleList<nn.Module<Tensor, Tensor>> _roundingModules = new();
    private readonly List<(int Position, RoundingGrid Grid)> _roundings = new();
    private readonly QuantizedWeightBuffers _quantizedWeights;

    [ComponentName(Name = "convolutions")]
    private readonly QatConvolutions? _convolutions;

    [ComponentName(Name = "log_steps")]
    private readonly Parameter? _logSteps;

    /// <summary>Gets the network's log steps (every quantizer's log s, one parameter), or null without quantizers.</summary>
    internal Parameter? LogSteps => _logSteps;

    public QatNetwork(int inputs, int outputs, QatOptions options) : base(nameof(QatNetwork))
    {
        int[] channels = options.ImageShape is null ? Array.Empty<int>() : options.ConvolutionChannels;
        int[] sizes = new[] { DenseInputs(options, inputs) }.Concat(options.HiddenLayers).Append(outputs).ToArray();
        bool quantize = options.Mode != QatMode.Float;
        int[] allBits = options.WeightBitsOfLayers(channels.Length + sizes.Length - 1).Select(b => quantize ? b : 32).ToArray();
        int[] bits = allBits[channels.Length..];
        bool Weights(int i) => bits[i] != 32;
        bool activations = quantize && options.ActivationBits != 32;
        long weightSteps(int i) => options.PerChannelWeights ? sizes[i + 1] : 1;
        long total = QatConvolutions.StepCount(channels, allBits, activations, options.PerChannelWeights)
            + Enumerable.Range(0, sizes.Length - 1).Sum(i => (Weights(i) ? weightSteps(i) : 0) + (activations && i + 2 < sizes.Length ? 1 : 0));
        if (total > 0)
        {
            _logSteps = nn.Parameter(zeros(total), requires_grad: options.Quantizer == QatQuantizer.LearnedStepSize);
        }

        long offset = 0;
        StepSlice Next(long count)
        {
            offset += count;
            return new StepSlice(_logSteps!, offset - count, count);
        }

        if (channels.Length > 0)
        {
            _convolutions = new QatConvolutions(options.ImageShape!, channels, options.ConvolutionKernelSize, allBits, activations, options, Next);
        }

        _quantizedWeights = new QuantizedWeightBuffers(sizes.Length - 1);
        var weightQuantizers = AddDenseLayers(sizes, bits, activations, options, Next);

        foreach (var layer in options.RoundingLayers)
        {
            _roundingModules.Add(layer.Grid.CreateModule(layer.Gradient));
            _roundings.Add((layer.Position, layer.Grid));
        }

        RegisterComponents();
        Layers = _layers.ToList();
        WeightQuantizers = weightQuantizers;
        ActivationQuantizers = _activationQuantizers.ToList();
        Quantizers = (_convolutions?.WeightQuantizers ?? Enumerable.Empty<Quantizer>()).Concat(_weightQuantizers)
            .Concat(_convolutions?.ActivationQuantizers ?? Enumerable.Empty<Quantizer>()).Concat(ActivationQuantizers).ToArray();
        if (options.Mode == QatMode.PostTraining)
        {
            SetQuantizersEnabled(false);
        }
    }

    /// <summary>The dense layers and their quantizers; returns each layer's weight quantizer (null for float weights).</summary>
    private Quantizer?[] AddDenseLayers(int[] sizes, int[] bits, bool activations, QatOptions options, Func<long, StepSlice> next)
    {
        var weightQuantizers = new Quantizer?[sizes.Length - 1];
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            _layers.Add(nn.Linear(sizes[i], sizes[i + 1]));
            if (bits[i] != 32)
            {
                weightQuantizers[i] = new Quantizer($"wq{i}", weights: true, bits[i], next(options.PerChannelWeights ? sizes[i + 1] : 1), options.PerChannelWeights, options.Quantizer, options.FiniteDifferenceHalfWidth, options.Seed + i);
                _weightQuantizers.Add(weightQuantizers[i]!);
            }

            if (activations && i + 2 < sizes.Length)
            {
                _activationQuantizers.Add(new Quantizer($"aq{i}", weights: false, options.ActivationBits, next(1), false, options.Quantizer, options.FiniteDifferenceHalfWidth, options.Seed + 100 + i));
            }
        }

        return weightQuantizers;
    }

    /// <summary>The first dense layer's inputs: the features, or the last convolution block's output.</summary>
    private static int DenseInputs(QatOptions options, int inputs) =>
        options.ImageShape is { } image ? QatConvolutions.Shapes(image, options.ConvolutionChannels)[^1].Size : inputs;

    /// <summary>Each convolution's and then each dense layer's weight and bias, input first.</summary>
    public IEnumerable<(Tensor Weight, Tensor Bias)> WeightsAndBiases() =>
        (_convolutions?.Convolutions ?? []).Select(c => (c.weight! as Tensor, c.bias! as Tensor))
            .Concat(_layers.Select(l => (l.weight! as Tensor, l.bias! as Tensor)));

    public IReadOnlyList<Linear> Layers { get; private set; } = Array.Empty<Linear>();

    /// <summary>Gets the convolution blocks before the dense layers, or null for a dense network.</summary>
    public QatConvolutions? Convolutions => _convolutions;

    /// <summary>Gets or sets a value indicating whether training steps may take the one-call path (<see cref="QatMlpFunction"/>); the tests compare both paths.</summary>
    internal bool FuseTrainingPass { get; set; } = true;

    /// <summary>Gets how many training passes took the one-call path.</summary>
    internal long FusedPasses { get; private set; }

    /// <summary>
    /// Gets or sets the input quantization (from a <c>Quantize</c> transform, or fitted with
    /// <see cref="QatOptions.InputBits"/>), or null: the exported model quantizes its features to that grid, so its first
    /// layer is integer too. The training batches already hold what that first layer sees (the batch sources convert them once).
    /// </summary>
    public InputGrid? Input { get; set; }

    /// <summary>
    /// Gets or sets the inputs this network was trained on when it saw only some (<see cref="InputScreening"/>): the
    /// exported model then takes <c>Width</c> features, and its first layer has zero weights for the others.
    /// </summary>
    public (int[] Columns, int Width)? ScreenedInputs { get; set; }

    /// <summary>Gets or sets the scale of the output (regression: the training labels' standard deviation; else 1).</summary>
    public float OutputScale { get; set; } = 1;

    /// <summary>Gets or sets the shift of the output (regression: the training labels' mean; else 0).</summary>
    public float OutputShift { get; set; }

    /// <summary>output · scale + shift in float32, after the last layer and before an output rounding layer.</summary>
    private Tensor Rescale(Tensor h) => OutputScale == 1 && OutputShift == 0 ? h : h.Times(OutputScale).Plus(OutputShift);

    /// <summary>Gets the weight quantizer of each layer, or null for a layer with float weights (32 bits, or float mode).</summary>
    public IReadOnlyList<Quantizer?> WeightQuantizers { get; private set; } = Array.Empty<Quantizer?>();

    public IReadOnlyList<Quantizer> ActivationQuantizers { get; private set; } = Array.Empty<Quantizer>();

    /// <summary>Gets the weight quantizers, then the activation quantizers.</summary>
    public IReadOnlyList<Quantizer> Quantizers { get; private set; } = Array.Empty<Quantizer>();

    /// <summary>Gets the extra rounding layers: boundary and grid.</summary>
    public IReadOnlyList<(int Position, RoundingGrid Grid)> Roundings => _roundings;

    private Tensor RoundAt(int position, Tensor h)
    {
        for (int r = 0; r < _roundings.Count; r++)
        {
            if (_roundings[r].Position == position)
            {
                h = _roundingModules[r].call(h);
            }
        }

        return h;
    }

    public void SetQuantizersEnabled(bool enabled)
    {
        foreach (var q in Quantizers)
        {
            q.Enabled = enabled;
        }
    }

    /// <summary>
    /// The training forward pass as one <see cref="QatMlpFunction"/> call, when it applies: at least one quantizer (float
    /// training, and the float phase of post-training quantization, stay on TorchSharp's own autograd), every quantizer LSQ-trained
    /// or straight-through (binary weights included) and already initialised (the first step takes the per-layer path, which
    /// initialises them), no extra rounding layers, float32 rows. Null otherwise. Data-driven steps are updated as the
    /// per-layer path updates them: the weights' before the pass, each activation quantizer's from the batch's ReLU
    /// output inside it.
    /// </summary>
    private Tensor? FusedForward(Tensor x)
    {
        if (!FuseTrainingPass || _convolutions is not null || _roundings.Count > 0 || Quantizers.Count == 0 || !Quantizers.All(q => q.FusedReady) || x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU || x.dim() != 2 || !x.is_contiguous())
        {
            return null;
        }

        var layers = new (Tensor, Tensor)[_layers.Count];
        var settings = new QatMlpFunction.Layer[_layers.Count];
        long rows = x.shape[0];
        for (int i = 0; i < layers.Length; i++)
        {
            Linear layer = _layers[i];
            Tensor w = layer.weight!;
            if (w.dtype != ScalarType.Float32)
            {
                return null;
            }

            Quantizer? wq = WeightQuantizers[i];
            Quantizer? aq = i < _activationQuantizers.Count ? _activationQuantizers[i] : null;
            wq?.Observe(w);
            layers[i] = (w, layer.bias!);
            settings[i] = new QatMlpFunction.Layer(
                wq?.Slice.Offset ?? -1, wq?.Slice.Count ?? 0, wq?.Range.Min ?? 0, wq?.Range.Max ?? 0, wq?.GradientScaleFor(w) ?? 0,
                aq?.Slice.Offset ?? -1, aq?.Range.Max ?? 0, aq?.GradientScale(rows * layer.out_features) ?? 0, wq?.Bits == 1, wq?.BinaryMaxStep == true);
        }

        Action<int, Tensor>? observe = _activationQuantizers.Count > 0 && !_activationQuantizers[0].Learned
            ? (layer, activation) => _activationQuantizers[layer].Observe(activation)
            : null;
        return QatMlpFunction.Apply(x, layers, _logSteps, settings, observe, _quantizedWeights);
    }

    /// <summary>
    /// The fake-quantized forward pass: in training mode with the quantizers' gradients (one <see cref="QatMlpFunction"/>
    /// call where it applies), in evaluation mode the same values without noise or soft rounding. The deployed scores
    /// come from <see cref="Export"/>, whose integer arithmetic gives the same values up to float rounding.
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        if (FusedForward(x) is Tensor fused)
        {
            FusedPasses++;
            return Rescale(fused).MoveToOuterDisposeScope();
        }

        Tensor h = _convolutions is null ? RoundAt(0, x) : _convolutions.call(x);
        for (int i = 0; i < _layers.Count; i++)
        {
            Linear layer = _layers[i];
            Tensor w = WeightQuantizers[i] is { } wq ? wq.call(layer.weight!) : layer.weight!;
            h = nn.functional.linear(h, w, layer.bias);
            if (i + 1 < _layers.Count)
            {
                h = nn.functional.relu(h);
                if (_activationQuantizers.Count > 0)
                {
                    h = _activationQuantizers[i].call(h);
                }
            }
            else
            {
                h = Rescale(h);
            }

            h = RoundAt(i + 1, h);
        }

        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Releases the quantized-weight buffers of the training pass with the module.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _quantizedWeights.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// The network as the deployed integer model (<see cref="QuantizedMlp"/>): weight codes of every enabled weight
    /// quantizer with its steps, float weights where a quantizer is absent or disabled (float training, post-training
    /// quantization before calibration), the activation grids of enabled activation quantizers, the extra rounding layers,
    /// the input grid and the output rescaling. Validation scores this model, so the epoch kept is chosen on exactly the
    /// scores that will be deployed.
    /// </summary>
    public QuantizedMlp Export(QatTask task, int classes)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var layers = new QuantizedLayer[_layers.Count];
        for (int i = 0; i < layers.Length; i++)
        {
            Quantizer? aq = i + 1 < _layers.Count && i < _activationQuantizers.Count ? _activationQuantizers[i] : null;
            layers[i] = ExportLayer(i == 0 ? AllInputs(_layers[0].weight!) : _layers[i].weight!, _layers[i].bias!, WeightQuantizers[i], aq);
        }

        if (_convolutions is not null)
        {
            return new QuantizedMlp(task, classes, _convolutions.Export(), layers, Input?.Grid, Input?.Step ?? 0, OutputScale, OutputShift);
        }

        return new QuantizedMlp(task, classes, layers, _roundings, Input?.Grid, Input?.Step ?? 0, OutputScale, OutputShift);
    }

    /// <summary>The first layer's weights over every input: zero columns for the inputs a screened network did not see.</summary>
    private Tensor AllInputs(Tensor weight)
    {
        if (ScreenedInputs is not { } screened)
        {
            return weight;
        }

        using Tensor columns = tensor(screened.Columns.Select(c => (long)c).ToArray());
        return zeros(weight.shape[0], screened.Width, dtype: weight.dtype).index_copy_(1, columns, weight.detach());
    }

    /// <summary>
    /// One layer as the deployed model has it (a dense layer, or a convolution's filters flattened to (outputs, inputs)):
    /// the weight codes and steps of an enabled weight quantizer, else float weights; the activation grid of an enabled
    /// activation quantizer, else a float activation.
    /// </summary>
    internal static QuantizedLayer ExportLayer(Tensor weights, Tensor bias, Quantizer? weightQuantizer, Quantizer? activationQuantizer)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor weight = weights.detach().reshape(weights.shape[0], -1).contiguous();
        int outputs = (int)weight.shape[0], inputs = (int)weight.shape[1];
        float[] biases = bias.detach().data<float>().ToArray();
        Quantizer? aq = activationQuantizer is { Enabled: true } a ? a : null;
        int activationBits = aq?.Bits ?? 32;
        float activationStep = aq is null ? 1 : (float)aq.Steps()[0];
        return weightQuantizer is { Enabled: true } wq
            ? new QuantizedLayer(inputs, outputs, wq.Bits, wq.Codes(weight).to_type(ScalarType.Int32).data<int>().ToArray(), wq.Steps().Select(v => (float)v).ToArray(), biases, activationBits, activationStep)
            : new QuantizedLayer(inputs, outputs, weight.data<float>().ToArray(), biases, activationBits, activationStep);
    }
}
