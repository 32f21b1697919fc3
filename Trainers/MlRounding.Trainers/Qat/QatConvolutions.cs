using MlRounding.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// The convolution blocks in front of a <see cref="QatNetwork"/>'s dense layers: per block a 2-D convolution (square
/// kernel, stride 1, "same" zero padding) whose weight passes through a per-output-channel weight quantizer, ReLU, 2x2
/// max pooling, then the activation quantizer. Pooling before the activation quantizer gives the codes of pooling after it
/// (rounding does not decrease) on a quarter of the values. The result is flattened channel-planar, as the scorer reads it.
/// </summary>
internal sealed class QatConvolutions : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Conv2d> _convolutions = new();
    private readonly ModuleList<Quantizer> _weightQuantizers = new();
    private readonly ModuleList<Quantizer> _activationQuantizers = new();
    private readonly Quantizer?[] _weightQuantizerOf;
    private readonly ImageShape[] _shapes;
    private readonly int _kernel;

    /// <summary>Creates the blocks; <paramref name="next"/> hands out each quantizer's slice of the network's log steps.</summary>
    public QatConvolutions(ImageShape input, int[] channels, int kernel, int[] bits, bool activations, QatOptions options, Func<long, StepSlice> next)
        : base(nameof(QatConvolutions))
    {
        _kernel = kernel;
        _shapes = Shapes(input, channels);
        _weightQuantizerOf = new Quantizer?[channels.Length];
        for (int i = 0; i < channels.Length; i++)
        {
            ImageShape shape = _shapes[i];
            _convolutions.Add(nn.Conv2d(shape.Channels, channels[i], kernel, padding: kernel / 2));
            if (bits[i] != 32)
            {
                _weightQuantizerOf[i] = new Quantizer($"cwq{i}", weights: true, bits[i], next(options.PerChannelWeights ? channels[i] : 1), options.PerChannelWeights, options.Quantizer, options.FiniteDifferenceHalfWidth, options.Seed + 200 + i);
                _weightQuantizers.Add(_weightQuantizerOf[i]!);
            }

            if (activations)
            {
                _activationQuantizers.Add(new Quantizer($"caq{i}", weights: false, options.ActivationBits, next(1), false, options.Quantizer, options.FiniteDifferenceHalfWidth, options.Seed + 300 + i));
            }

        }

        RegisterComponents();
    }

    /// <summary>The shape of the blocks' input, then of each block's output: its channels, the sides halved by the pooling.</summary>
    public static ImageShape[] Shapes(ImageShape input, int[] channels)
    {
        var shapes = new ImageShape[channels.Length + 1];
        shapes[0] = input;
        for (int i = 0; i < channels.Length; i++)
        {
            shapes[i + 1] = new ImageShape(channels[i], shapes[i].Height / 2, shapes[i].Width / 2);
        }

        return shapes;
    }

    /// <summary>The number of log steps the blocks need: per block one per channel (or one) for quantized weights, one for a quantized activation.</summary>
    public static long StepCount(int[] channels, int[] bits, bool activations, bool perChannel) =>
        Enumerable.Range(0, channels.Length).Sum(i => (bits[i] != 32 ? (perChannel ? channels[i] : 1) : 0) + (activations ? 1 : 0));

    /// <summary>Gets the convolutions, input first.</summary>
    public IReadOnlyList<Conv2d> Convolutions => _convolutions.ToList();

    /// <summary>Gets the weight quantizers that exist (blocks with float weights have none).</summary>
    public IEnumerable<Quantizer> WeightQuantizers => _weightQuantizers;

    /// <summary>Gets the activation quantizers, one per block, or none for float activations.</summary>
    public IReadOnlyList<Quantizer> ActivationQuantizers => _activationQuantizers.ToList();

    /// <summary>Gets the shape of the flattened output.</summary>
    public ImageShape Output => _shapes[^1];

    /// <summary>The fake-quantized pass: rows of image values in, rows of the last block's flattened output out.</summary>
    public override Tensor forward(Tensor x) => Blocks(x, calibrate: false);

    /// <summary>Sets every weight step from its weights and every activation step from <paramref name="x"/>'s values (post-training quantization).</summary>
    public Tensor Calibrate(Tensor x) => Blocks(x, calibrate: true);

    private Tensor Blocks(Tensor x, bool calibrate)
    {
        using var scope = NewDisposeScope();
        Tensor h = x.reshape(x.shape[0], _shapes[0].Channels, _shapes[0].Height, _shapes[0].Width);
        for (int i = 0; i < _convolutions.Count; i++)
        {
            Conv2d conv = _convolutions[i];
            Tensor w = conv.weight!.reshape(conv.weight!.shape[0], -1);
            if (_weightQuantizerOf[i] is { } wq)
            {
                if (calibrate)
                {
                    wq.Calibrate(w);
                }
                else
                {
                    w = wq.call(w);
                }
            }

            h = i == 0
                ? nn.functional.conv2d(h, w.view(conv.weight!.shape), conv.bias!, padding: new long[] { _kernel / 2, _kernel / 2 })
                : ConvolutionFunction.apply(h, w.view(conv.weight!.shape), conv.bias!);
            h = nn.functional.max_pool2d(nn.functional.relu(h), new long[] { 2, 2 });
            if (i < _activationQuantizers.Count)
            {
                if (calibrate)
                {
                    _activationQuantizers[i].Calibrate(h);
                }
                else
                {
                    h = _activationQuantizers[i].call(h);
                }
            }
        }

        return h.flatten(1).MoveToOuterDisposeScope();
    }

    /// <summary>The blocks as the deployed model has them: weight codes and steps of enabled quantizers, activation grids of enabled ones.</summary>
    public QuantizedConvolution[] Export()
    {
        var blocks = new QuantizedConvolution[_convolutions.Count];
        for (int i = 0; i < blocks.Length; i++)
        {
            Quantizer? aq = i < _activationQuantizers.Count ? _activationQuantizers[i] : null;
            QuantizedLayer filters = QatNetwork.ExportLayer(_convolutions[i].weight!, _convolutions[i].bias!, _weightQuantizerOf[i], aq);
            blocks[i] = new QuantizedConvolution(_shapes[i], _kernel, filters, poolSize: 2);
        }

        return blocks;
    }
}
