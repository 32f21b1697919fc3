using System.Numerics;
using System.Runtime.InteropServices;
using MlRounding.Kernels;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Learned step size quantization (LSQ, Esser et al. 2019, "Learned Step Size Quantization"; zero point as in
    /// LSQ+, Bhalgat et al. 2020): y = (clamp(round(x / s + z), qmin, qmax) - z) s with learnable s and z.
    /// </summary>
    /// <param name="x">A float32 or float64 tensor.</param>
    /// <param name="scale">The step s: one element (per tensor) or a 1-D tensor of x.shape[axis] elements (per channel).
    /// Values below 1e-30 are clamped up to it, so a training step that drives s to zero or below cannot produce
    /// infinities.</param>
    /// <param name="zeroPoint">The zero point z, same shape as <paramref name="scale"/>, or null for z = 0 (not learned).
    /// It is rounded and clamped to [qmin, qmax] in the forward pass.</param>
    /// <param name="qmin">Smallest code.</param>
    /// <param name="qmax">Largest code, greater than qmin; at most 2^24.</param>
    /// <param name="gradientScale">Factor g applied to the gradients of s and z; the paper uses
    /// <see cref="LearnedStepSizeGradientScale"/>(N, qmax) = 1 / sqrt(N qmax). 1 disables it.</param>
    /// <param name="axis">The channel dimension for per-channel quantization, or null for per tensor.</param>
    /// <returns>The fake-quantized tensor.</returns>
    /// <remarks>
    /// Gradients, with v = round(x / s + z): for x, 1 where qmin &lt;= v &lt;= qmax, else 0; for s, v - z - x / s inside,
    /// qmin - z below and qmax - z above, times g; for z, 0 inside and -s outside, times g; s and z gradients are
    /// summed over all elements (per tensor) or all but the channel axis. These are the gradients of LibTorch's
    /// <c>_fake_quantize_learnable_per_tensor_affine</c> and <c>_per_channel_affine</c>, which the tests compare against,
    /// with one deliberate difference: LibTorch's backward turns a negative zero point z into (int64)(z + 0.5) (0 for
    /// z = -1) while its forward uses round(z), so its x-gradient mask disagrees with its own clamping; ours uses the
    /// forward's zero point throughout.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    /// <exception cref="ArgumentException">scale or zeroPoint has the wrong number of elements.</exception>
    public static Tensor LearnedStepSize(Tensor x, Tensor scale, Tensor? zeroPoint, long qmin, long qmax, double gradientScale = 1.0, long? axis = null)
    {
        TensorCheck.Floating(x, nameof(x));
        ArgumentNullException.ThrowIfNull(scale);
        Check.Range(qmin, qmax, qmin, nameof(qmin), nameof(qmax), nameof(qmin));
        Check.Positive(gradientScale, 1e30, nameof(gradientScale));
        long expected = 1;
        long dim = -1;
        if (axis is long a)
        {
            dim = NormalizeAxis(x, a);
            expected = x.shape[dim];
        }

        if (scale.numel() != expected)
        {
            throw new ArgumentException($"scale must have {expected} element(s), got {scale.numel()}.", nameof(scale));
        }

        if (zeroPoint is not null && zeroPoint.numel() != expected)
        {
            throw new ArgumentException($"zeroPoint must have {expected} element(s), got {zeroPoint.numel()}.", nameof(zeroPoint));
        }

        Tensor z = zeroPoint ?? zeros_like(scale);
        return LearnedStepSizeFunction.apply(x, scale, z, qmin, qmax, gradientScale, dim);
    }

    /// <summary>The LSQ gradient scale 1 / sqrt(N qmax) (Esser et al. 2019, section 2.2).</summary>
    /// <param name="elementsPerScale">N: the number of elements that share one step (all of them, or one channel's).</param>
    /// <param name="qmax">The largest code (Qp in the paper).</param>
    /// <returns>The factor.</returns>
    public static double LearnedStepSizeGradientScale(long elementsPerScale, long qmax)
    {
        if (elementsPerScale < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(elementsPerScale), elementsPerScale, "elementsPerScale must be positive.");
        }

        if (qmax < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(qmax), qmax, "qmax must be positive.");
        }

        return 1 / Math.Sqrt((double)elementsPerScale * qmax);
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="LearnedStepSizeModule"/>.</summary>
        /// <param name="range">The integer grid.</param>
        /// <param name="channels">Number of channels for per-channel steps, or null for one step.</param>
        /// <param name="axis">The channel dimension (used when <paramref name="channels"/> is set).</param>
        /// <param name="learnZeroPoint">Learn a zero point too (LSQ+).</param>
        /// <param name="useGradientScale">Scale the step's gradient by 1 / sqrt(N qmax).</param>
        /// <returns>The module.</returns>
        public static LearnedStepSizeModule LearnedStepSize(QuantizationRange range, long? channels = null, long axis = 0, bool learnZeroPoint = false, bool useGradientScale = true) =>
            new(range, channels, axis, learnZeroPoint, useGradientScale);
    }
}

/// <summary>
/// The op's autograd function: the library's one LSQ (<see cref="LsqGrid{T}"/> in its affine form, run by
/// <see cref="LsqKernel"/>, as the quantization-aware trainer runs it in its divided form) over each channel's values,
/// which are contiguous once the channel axis is moved first.
/// </summary>
internal sealed class LearnedStepSizeFunction : autograd.SingleTensorFunction<LearnedStepSizeFunction>
{
    public override string Name => nameof(LearnedStepSizeFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            var scale = (Tensor)vars[1];
            var zero = (Tensor)vars[2];
            long qmin = (long)vars[3], qmax = (long)vars[4];
            long dim = (long)vars[6];
            ctx.save_for_backward(new() { x, scale, zero });
            ctx.save_data("args", (qmin, qmax, (double)vars[5], dim));
            Tensor values = ChannelsFirst(x, dim);
            Tensor y = empty_like(values);
            if (x.dtype == ScalarType.Float32)
            {
                Forward<float>(values, y, scale, zero, qmin, qmax);
            }
            else
            {
                Forward<double>(values, y, scale, zero, qmin, qmax);
            }

            return Restore(y, dim);
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var saved = ctx.get_saved_variables();
            Tensor x = saved[0], scale = saved[1], zero = saved[2];
            var (qmin, qmax, factor, dim) = ((long, long, double, long))ctx.get_data("args");
            using var noGrad = no_grad();
            Tensor values = ChannelsFirst(x, dim);
            Tensor dy = ChannelsFirst(grad_output.to(x.dtype), dim);
            Tensor dx = empty_like(values);
            var (ds, dz) = x.dtype == ScalarType.Float32
                ? Backward<float>(values, dy, dx, scale, zero, qmin, qmax)
                : Backward<double>(values, dy, dx, scale, zero, qmin, qmax);
            Tensor dScale = tensor(ds.Select(d => d * factor).ToArray()).to(scale.dtype).reshape(scale.shape);
            Tensor dZero = tensor(dz.Select(d => d * factor).ToArray()).to(zero.dtype).reshape(zero.shape);
            return new() { Restore(dx, dim), dScale, dZero, null!, null!, null!, null! };
        });
    }

    /// <summary>The values with the channel axis first, contiguous (one channel's values are then one slice); all of them for per-tensor steps.</summary>
    private static Tensor ChannelsFirst(Tensor x, long dim) => (dim >= 0 ? x.movedim(new[] { dim }, new[] { 0L }) : x).contiguous();

    private static Tensor Restore(Tensor values, long dim) => dim >= 0 ? values.movedim(new[] { 0L }, new[] { dim }) : values;

    /// <summary>
    /// Each channel's grid: the step clamped up to <see cref="RoundingLimits.MinScale"/> (a training step that drives it to
    /// zero or below cannot produce infinities) and the zero point rounded and clamped into [qmin, qmax], both in T.
    /// </summary>
    private static LsqGrid<T>[] Grids<T>(Tensor scale, Tensor zero, long qmin, long qmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double[] s = scale.detach().to_type(ScalarType.Float64).data<double>().ToArray();
        double[] z = zero.detach().to_type(ScalarType.Float64).data<double>().ToArray();
        T min = T.CreateTruncating(qmin), max = T.CreateTruncating(qmax), floor = T.CreateTruncating(RoundingLimits.MinScale);
        return s.Select((step, k) => LsqGrid<T>.AffineWith(T.Max(T.CreateTruncating(step), floor), T.Clamp(T.Round(T.CreateTruncating(z[k])), min, max), min, max)).ToArray();
    }

    private static void Forward<T>(Tensor x, Tensor y, Tensor scale, Tensor zero, long qmin, long qmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LsqGrid<T>[] grids = Grids<T>(scale, zero, qmin, qmax);
        ReadOnlySpan<T> src = MemoryMarshal.Cast<byte, T>(x.bytes);
        Span<T> dst = MemoryMarshal.Cast<byte, T>(y.bytes);
        int n = src.Length / grids.Length;
        for (int k = 0; k < grids.Length; k++)
        {
            LsqKernel.Forward(src.Slice(k * n, n), dst.Slice(k * n, n), grids[k]);
        }
    }

    // Per channel: Σ dy (step term), and the zero point's -s Σ dy over the values outside the grid.
    private static (double[] Step, double[] Zero) Backward<T>(Tensor x, Tensor dy, Tensor dx, Tensor scale, Tensor zero, long qmin, long qmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LsqGrid<T>[] grids = Grids<T>(scale, zero, qmin, qmax);
        ReadOnlySpan<T> src = MemoryMarshal.Cast<byte, T>(x.bytes);
        ReadOnlySpan<T> g = MemoryMarshal.Cast<byte, T>(dy.bytes);
        Span<T> dst = MemoryMarshal.Cast<byte, T>(dx.bytes);
        int n = src.Length / grids.Length;
        var (ds, dz) = (new double[grids.Length], new double[grids.Length]);
        for (int k = 0; k < grids.Length; k++)
        {
            var (step, outside) = LsqKernel.Backward(src.Slice(k * n, n), g.Slice(k * n, n), dst.Slice(k * n, n), grids[k]);
            (ds[k], dz[k]) = (step, -double.CreateTruncating(grids[k].Step) * outside);
        }

        return (ds, dz);
    }
}

/// <summary>
/// Module form of <see cref="Rounding.LearnedStepSize"/>: holds the step (and optionally the zero point) as
/// parameters. The step is initialised on the first forward pass to 2 mean(|x|) / sqrt(qmax) (Esser et al. 2019).
/// </summary>
public sealed class LearnedStepSizeModule : nn.Module<Tensor, Tensor>
{
    private readonly long _axis;
    private readonly bool _perChannel;
    private readonly bool _useGradientScale;
    private bool _initialized;

    /// <summary>Creates the module.</summary>
    /// <param name="range">The integer grid.</param>
    /// <param name="channels">Number of channels for per-channel steps, or null for one step.</param>
    /// <param name="axis">The channel dimension (used when <paramref name="channels"/> is set).</param>
    /// <param name="learnZeroPoint">Learn a zero point too (LSQ+).</param>
    /// <param name="useGradientScale">Scale the step's gradient by 1 / sqrt(N qmax).</param>
    public LearnedStepSizeModule(QuantizationRange range, long? channels = null, long axis = 0, bool learnZeroPoint = false, bool useGradientScale = true)
        : base(nameof(LearnedStepSizeModule))
    {
        Check.Range(range.Min, range.Max, range.Min, "range.Min", "range.Max", "range.Min");
        if (channels is long c && c < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(channels), c, "channels must be positive.");
        }

        Range = range;
        _axis = axis;
        _perChannel = channels.HasValue;
        _useGradientScale = useGradientScale;
        long n = channels ?? 1;
        scale = nn.Parameter(ones(n));
        zero_point = nn.Parameter(zeros(n), requires_grad: learnZeroPoint);
        RegisterComponents();
    }

    /// <summary>Gets the integer grid.</summary>
    public QuantizationRange Range { get; }

#pragma warning disable IDE1006, SA1300 // PyTorch parameter names, kept for state_dict compatibility.
    /// <summary>Gets the learned step(s).</summary>
    [field: ComponentName(Name = nameof(scale))]
    public TorchSharp.Modules.Parameter scale { get; }

    /// <summary>Gets the zero point(s); learned only when the module was created with learnZeroPoint.</summary>
    [field: ComponentName(Name = nameof(zero_point))]
    public TorchSharp.Modules.Parameter zero_point { get; }
#pragma warning restore IDE1006, SA1300

    /// <summary>Fake-quantizes <paramref name="input"/> with the learned step.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>The fake-quantized tensor.</returns>
    public override Tensor forward(Tensor input)
    {
        long? axis = _perChannel ? _axis : null;
        long perScale = _perChannel ? input.numel() / Math.Max(1, input.shape[Rounding.NormalizeAxis(input, _axis)]) : input.numel();
        if (!_initialized)
        {
            using (no_grad())
            {
                Tensor meanAbs = _perChannel
                    ? input.detach().abs().transpose(0, Rounding.NormalizeAxis(input, _axis)).reshape(scale.shape[0], -1).mean(new long[] { 1 })
                    : input.detach().abs().mean().reshape(1);
                scale.copy_(meanAbs.Times(2 / Math.Sqrt(Range.Max)).ClampMin(1e-8).to(scale.dtype));
            }

            _initialized = true;
        }

        double g = _useGradientScale ? Rounding.LearnedStepSizeGradientScale(Math.Max(1, perScale), Math.Max(1, Range.Max)) : 1.0;
        return Rounding.LearnedStepSize(input, scale, zero_point, Range.Min, Range.Max, g, axis);
    }
}
