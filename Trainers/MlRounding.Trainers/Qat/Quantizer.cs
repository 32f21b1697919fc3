using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using MlRounding.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// A fake quantizer for weights (signed, narrow range, per output channel or per tensor, zero point 0) or hidden
/// activations (unsigned, after ReLU, zero point 0): y = clamp(R(x / s), qmin, qmax) s, where R is the chosen rounding
/// estimator of the ops library. With <see cref="QatQuantizer.LearnedStepSize"/> the step s is a parameter and the
/// quantizer is <see cref="LsqQuantizeFunction"/>, the library's one LSQ (step gradient round(v) - v inside, qmin or qmax
/// outside, scaled by 1 / sqrt(N qmax)). The parameter is log s: Adam normalises gradient magnitudes, so a step stored directly would move by
/// about the learning rate per update, which is larger than an 8-bit step itself; in log space every update is a
/// relative change, and s stays positive. Otherwise s follows the data: max |w| / qmax for weights, a running maximum
/// for activations.
/// </summary>
internal sealed class Quantizer : nn.Module<Tensor, Tensor>
{
    private readonly bool _weights;
    private readonly bool _perChannel;
    private readonly QatQuantizer _gradient;
    private readonly double _halfWidth;
    private readonly Generator _noise;
    private bool _initialized;

    private readonly StepSlice _steps;

    public Quantizer(string name, bool weights, int bits, StepSlice steps, bool perChannel, QatQuantizer gradient, double halfWidth, long seed)
        : base(name)
    {
        _weights = weights;
        Bits = bits;
        _perChannel = weights && perChannel;
        _gradient = gradient;
        _halfWidth = halfWidth;
        _noise = new Generator((ulong)seed);
        Range = bits == 1 ? new QuantizationRange(-1, 1)
            : weights ? QuantizationRange.FromBits(bits, signed: true, narrowRange: true)
            : QuantizationRange.FromBits(bits, signed: false);
        _steps = steps;
        RegisterComponents();
    }

    /// <summary>Gets the bits; 1 means binary weights ±s.</summary>
    public int Bits { get; }

    /// <summary>Gets the integer codes.</summary>
    public QuantizationRange Range { get; }

    /// <summary>Gets or sets the hardness of the annealed estimators.</summary>
    public double Hardness { get; set; } = 1;

    /// <summary>Gets or sets a value indicating whether the quantizer is active (post-training quantization switches it on after training).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets a value indicating whether the step is learned (LSQ) rather than following the data.</summary>
    internal bool Learned => _gradient == QatQuantizer.LearnedStepSize;

    /// <summary>Gets where this quantizer's log steps sit in the network's log-step parameter.</summary>
    internal StepSlice Slice => _steps;

    /// <summary>A view of log s (one per channel, or one) in the network's log-step parameter; the caller disposes it.</summary>
    public Tensor LogStep() => _steps.View();

    /// <summary>
    /// Whether <see cref="QatMlpFunction"/> can stand in for this quantizer: enabled, LSQ or straight-through (the
    /// two whose backward pass it writes out, binary weights included, with the same gradient window as
    /// <see cref="forward"/>), initialised, training.
    /// </summary>
    internal bool FusedReady => Enabled && (Learned || _gradient == QatQuantizer.StraightThrough) && training && _initialized;

    /// <summary>
    /// Whether these are binary weights whose step follows the data (max |w| per channel, or over the tensor): the largest
    /// weight is then the step itself, and its straight-through gradient would ignore that it scales every code of the
    /// row, so only weights below the largest get one. (Clipping at |w / s| &lt;= 1 would decide the largest weight by the
    /// rounding of its step, one ulp either way; training with every weight passing diverged on Fashion-MNIST.)
    /// </summary>
    internal bool BinaryMaxStep => Bits == 1 && !Learned;

    /// <summary>The LSQ gradient scale 1/√(N·Qp) for <paramref name="x"/>, N the elements per step.</summary>
    internal double GradientScaleFor(Tensor x) => GradientScale(_perChannel ? x.shape[1] : x.numel());

    /// <summary>The LSQ gradient scale 1/√(N·Qp) when each step serves <paramref name="perStep"/> elements.</summary>
    internal double GradientScale(long perStep) => Rounding.LearnedStepSizeGradientScale(Math.Max(1, perStep), Math.Max(1, Range.Max));

    /// <summary>Sets the step from data: max |x| / qmax per channel (weights) or over the batch (activations).</summary>
    public void Calibrate(Tensor x) => SetSteps(MaxAbs(x), movingAverage: false);

    public override Tensor forward(Tensor x)
    {
        if (!Enabled)
        {
            return x;
        }

        using var scope = NewDisposeScope();
        Observe(x);
        if (Learned)
        {
            // The library's one LSQ (LsqGrid, divided form), in training and evaluation alike; the network's weights and
            // activations are float32 matrices.
            Tensor input = x.is_contiguous() ? x : x.contiguous();
            return LsqQuantizeFunction.apply(input, LogStep(), GradientScaleFor(x), Range.Min, Range.Max, Bits == 1).MoveToOuterDisposeScope();
        }

        // The other estimators: the values of LsqGrid's divided form (clamp(round(x / s)) s), written with tensor ops
        // because their gradients are the ops library's surrogates, through autograd; the step follows the data.
        Tensor s = LogStep().exp();
        if (_perChannel)
        {
            s = s.unsqueeze(1);
        }

        Tensor v = x / s;
        Tensor codes = Bits == 1 ? Binary(v, BinaryMaxStep ? BelowLargest(x) : null) : Round(v).ClampTo(Range.Min, Range.Max);
        return (codes * s).MoveToOuterDisposeScope();
    }

    /// <summary>The integer codes of <paramref name="x"/> (no gradient), as the scorer stores them, with the steps of <see cref="Steps"/>.</summary>
    public Tensor Codes(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor s = tensor(Steps().Select(v => (float)v).ToArray());
        Tensor v = x / (_perChannel ? s.unsqueeze(1) : s);
        Tensor codes = Bits == 1 ? SignCode(v) : v.round().ClampTo(Range.Min, Range.Max);
        return codes.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The steps the forward pass uses, one per channel or one: a learned step as <see cref="LsqQuantizeFunction"/> computes
    /// it (exp of log s in float64, rounded once), a step that follows the data as LibTorch's float32 exp gives it. The
    /// exported model is built from these, so it scores exactly what the network computes.
    /// </summary>
    public double[] Steps()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using Tensor log = LogStep();
        return Learned
            ? LsqQuantizeFunction.Steps(log).Select(v => (double)v).ToArray()
            : log.exp().to_type(ScalarType.Float64).data<double>().ToArray();
    }

    /// <summary>
    /// What <see cref="forward"/> does first with <paramref name="x"/>: initialises a learned step from the first data
    /// it sees (LSQ: 2 mean |x| / √qmax), or updates a data-driven step (max |w| per channel; the activations' running
    /// maximum).
    /// </summary>
    internal void Observe(Tensor x)
    {
        if (Learned && _initialized)
        {
            return; // learned steps need no tracking after initialisation
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (Learned)
        {
            if (!_initialized)
            {
                Tensor meanAbs = _perChannel ? x.abs().mean(new long[] { 1 }) : x.abs().mean().reshape(1);
                LogStep().copy_(meanAbs.Times(2 / Math.Sqrt(Math.Max(1, Range.Max))).ClampMin(1e-8).log());
                _initialized = true;
            }

            return;
        }

        if (_weights)
        {
            Calibrate(x);
        }
        else if (training)
        {
            SetSteps(MaxAbs(x), movingAverage: _initialized); // a running maximum: 0.9 old + 0.1 this batch
        }
    }

    /// <summary>max |x| per row (per-channel weights) or over all of x, read from float32 memory.</summary>
    private float[] MaxAbs(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor data = x.dtype == ScalarType.Float32 && x.device_type == DeviceType.CPU && x.is_contiguous() ? x : x.detach().to(ScalarType.Float32, CPU).contiguous();
        ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(data.bytes);
        int rows = _perChannel ? (int)data.shape[0] : 1;
        int columns = rows == 0 ? 0 : values.Length / rows;
        var amax = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            amax[r] = columns == 0 ? 0 : MathF.Abs(TensorPrimitives.MaxMagnitude(values.Slice(r * columns, columns)));
        }

        return amax;
    }

    /// <summary>
    /// Writes log(max(amax / qmax, 1e-8)) into this quantizer's slice of the log-step parameter, or with
    /// <paramref name="movingAverage"/> log(0.9 s + 0.1 max(amax / qmax, 1e-8)), in float32 (no autograd: the steps of
    /// data-driven estimators are not trained, and calibration happens outside training).
    /// </summary>
    private void SetSteps(float[] amax, bool movingAverage)
    {
        Span<float> log = MemoryMarshal.Cast<byte, float>(_steps.All.bytes).Slice((int)_steps.Offset, (int)_steps.Count);
        float qmax = Math.Max(1, Range.Max);
        for (int k = 0; k < log.Length; k++)
        {
            float step = Math.Max(amax[amax.Length == 1 ? 0 : k] / qmax, 1e-8f);
            log[k] = MathF.Log(movingAverage ? (MathF.Exp(log[k]) * 0.9f) + (step * 0.1f) : step);
        }

        _initialized = true;
    }

    // sign(v) forward (0 counts as +1); backward 1 where |v| <= 1 (clipped straight-through), or where window is true.
    private static Tensor Binary(Tensor v, Tensor? window)
    {
        Tensor passed = window is null ? v.ClampTo(-1, 1) : v * window;
        return passed.Plus((SignCode(v) - passed).detach());
    }

    // The binary code: +1 where v >= 0 (0 included), else -1.
    private static Tensor SignCode(Tensor v) => where(v.AtLeast(0), ones_like(v), -ones_like(v));

    // 1 where |x| is below the largest |x| of its row (per channel) or of the tensor, else 0 (no gradient).
    private Tensor BelowLargest(Tensor x)
    {
        using var noGrad = no_grad();
        Tensor magnitude = x.abs();
        Tensor largest = _perChannel ? magnitude.amax(new long[] { 1 }, keepdim: true) : magnitude.max();
        return magnitude.lt(largest).to_type(x.dtype);
    }

    private Tensor Round(Tensor v)
    {
        if (!training)
        {
            return Rounding.StraightThrough(v);
        }

        return _gradient switch
        {
            QatQuantizer.Sigmoid => Rounding.Sigmoid(v, Hardness, hard: true),
            QatQuantizer.Softmax => Rounding.Softmax(v, Hardness, hard: true),
            QatQuantizer.FiniteDifference => Rounding.FiniteDifference(v, _halfWidth),
            QatQuantizer.SoftRound => Rounding.SoftRound(v, Hardness),
            QatQuantizer.Noise => Rounding.Noise(v, training: true, _noise),
            _ => Rounding.StraightThrough(v),
        };
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _noise.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// A quantizer's log steps inside the network's single log-step parameter: one optimizer entry for all quantizers
/// instead of one each (TorchSharp's AdamW costs ~20 µs per parameter and step, more than a small layer's arithmetic).
/// </summary>
/// <param name="All">The network's log-step parameter.</param>
/// <param name="Offset">The first entry of this quantizer.</param>
/// <param name="Count">The entries: one per channel, or one.</param>
internal sealed record StepSlice(Parameter All, long Offset, long Count)
{
    /// <summary>A view of this quantizer's entries (gradients flow to <see cref="All"/>); the caller disposes it.</summary>
    public Tensor View() => All.narrow(0, Offset, Count);
}
