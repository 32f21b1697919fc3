using TorchSharp.Utils;
using MlRounding.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Per-tensor affine fake quantization: y = (clamp(round(x / s) + z, qmin, qmax) - z) s, rounding half to even;
    /// the gradient is straight-through where round(x / s) + z lies in [qmin, qmax] and zero elsewhere (the mask is
    /// taken on the rounded value, as LibTorch does).
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="scale">Step s, in [1e-30, 1e30].</param>
    /// <param name="zeroPoint">Zero point z, an integer in [qmin, qmax].</param>
    /// <param name="qmin">Smallest code.</param>
    /// <param name="qmax">Largest code, greater than qmin; at most 2^24.</param>
    /// <returns>The fake-quantized tensor.</returns>
    /// <remarks>
    /// <para>In float32, x / s is computed as x * (1 / s) with 1 / s rounded to float32, which makes the result bit-identical
    /// to LibTorch's <c>fake_quantize_per_tensor_affine</c> for every finite x with |x / s| &lt; 2^63.</para>
    /// <para>Unlike LibTorch, which converts through int64: NaN stays NaN (gradient 0) instead of becoming
    /// (qmin - z) s, and +∞ clamps to (qmax - z) s instead of (qmin - z) s.</para>
    /// <para>Contiguous CPU tensors take a one-pass vectorized, multi-threaded kernel that stores a 1-bit mask for
    /// the backward pass; other tensors take a composite path.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    public static Tensor FakeQuantize(Tensor x, double scale, long zeroPoint, long qmin, long qmax)
    {
        TensorCheck.Floating(x, nameof(x));
        Check.InRange(scale, RoundingLimits.MinScale, RoundingLimits.MaxScale, nameof(scale));
        Check.Range(qmin, qmax, zeroPoint, nameof(qmin), nameof(qmax), nameof(zeroPoint));
        return FakeQuantizeFunction.apply(x, scale, zeroPoint, qmin, qmax);
    }

    /// <summary>Per-tensor fake quantization on a <see cref="QuantizationRange"/>.</summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="scale">Step s, in [1e-30, 1e30].</param>
    /// <param name="zeroPoint">Zero point, inside <paramref name="range"/>.</param>
    /// <param name="range">The integer grid.</param>
    /// <returns>The fake-quantized tensor.</returns>
    public static Tensor FakeQuantize(Tensor x, double scale, long zeroPoint, QuantizationRange range) =>
        FakeQuantize(x, scale, zeroPoint, range.Min, range.Max);

    /// <summary>
    /// Per-channel affine fake quantization along <paramref name="axis"/>: channel c uses scales[c] and
    /// zeroPoints[c]. Same rounding, mask and special values as the per-tensor form; bit-identical in float32 to
    /// LibTorch's <c>fake_quantize_per_channel_affine</c>.
    /// </summary>
    /// <param name="x">A float32 or float64 tensor with at least one dimension.</param>
    /// <param name="scales">1-D tensor of x.shape[axis] steps, each in [1e-30, 1e30].</param>
    /// <param name="zeroPoints">1-D tensor of x.shape[axis] integer zero points in [qmin, qmax].</param>
    /// <param name="axis">The channel dimension; negative counts from the end.</param>
    /// <param name="qmin">Smallest code.</param>
    /// <param name="qmax">Largest code, greater than qmin; at most 2^24.</param>
    /// <returns>The fake-quantized tensor.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    /// <exception cref="ArgumentException">scales or zeroPoints does not have x.shape[axis] elements.</exception>
    public static Tensor FakeQuantizePerChannel(Tensor x, Tensor scales, Tensor zeroPoints, long axis, long qmin, long qmax)
    {
        TensorCheck.Floating(x, nameof(x));
        Check.Range(qmin, qmax, qmin, nameof(qmin), nameof(qmax), nameof(qmin));
        long dim = NormalizeAxis(x, axis);
        long channels = x.shape[dim];
        ArgumentNullException.ThrowIfNull(scales);
        ArgumentNullException.ThrowIfNull(zeroPoints);
        if (scales.dim() != 1 || scales.shape[0] != channels)
        {
            throw new ArgumentException($"scales must be 1-D with {channels} elements (x.shape[{axis}]), got shape [{string.Join(", ", scales.shape)}].", nameof(scales));
        }

        if (zeroPoints.dim() != 1 || zeroPoints.shape[0] != channels)
        {
            throw new ArgumentException($"zeroPoints must be 1-D with {channels} elements (x.shape[{axis}]), got shape [{string.Join(", ", zeroPoints.shape)}].", nameof(zeroPoints));
        }

        using (no_grad())
        {
            double lo = scales.min().to_type(ScalarType.Float64).item<double>();
            double hi = scales.max().to_type(ScalarType.Float64).item<double>();
            if (!(lo >= RoundingLimits.MinScale && hi <= RoundingLimits.MaxScale))
            {
                throw new ArgumentOutOfRangeException(nameof(scales), $"every scale must be in [{RoundingLimits.MinScale:R}, {RoundingLimits.MaxScale:R}]; got values in [{lo:R}, {hi:R}].");
            }

            Tensor z = zeroPoints.to_type(ScalarType.Float64);
            if (!z.eq(z.round()).all().item<bool>() || z.min().item<double>() < qmin || z.max().item<double>() > qmax)
            {
                throw new ArgumentOutOfRangeException(nameof(zeroPoints), $"every zero point must be an integer in [{qmin}, {qmax}].");
            }
        }

        return FakeQuantizePerChannelFunction.apply(x, scales, zeroPoints, dim, qmin, qmax);
    }

    internal static long NormalizeAxis(Tensor x, long axis)
    {
        long rank = x.dim();
        long dim = axis < 0 ? axis + rank : axis;
        if (rank == 0 || dim < 0 || dim >= rank)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"axis must be in [{-rank}, {rank - 1}] for a tensor of rank {rank}.");
        }

        return dim;
    }

    /// <summary>Shape that broadcasts a 1-D channel tensor along dimension <paramref name="dim"/> of <paramref name="x"/>.</summary>
    internal static long[] ChannelShape(Tensor x, long dim)
    {
        long[] shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        shape[dim] = x.shape[dim];
        return shape;
    }

    /// <summary>Composite fake quantization with broadcastable scale and zero point; returns the output and a bool mask.</summary>
    internal static (Tensor Output, Tensor Mask) FakeQuantizeComposite(Tensor x, Tensor scale, Tensor zero, long qmin, long qmax)
    {
        using var scope = NewDisposeScope();
        Tensor inverse = scale.reciprocal();
        Tensor q = (x * inverse).round().Plus(zero);
        Tensor mask = q.AtLeast(qmin).logical_and(q.AtMost(qmax));
        Tensor y = (q.ClampTo(qmin, qmax) - zero) * scale;
        y = where(x.isnan(), x, y);
        return (y.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="FakeQuantizeModule"/> with fixed per-tensor parameters.</summary>
        /// <param name="scale">Step s, in [1e-30, 1e30].</param>
        /// <param name="zeroPoint">Zero point, inside <paramref name="range"/>.</param>
        /// <param name="range">The integer grid.</param>
        /// <returns>The module.</returns>
        public static FakeQuantizeModule FakeQuantize(double scale, long zeroPoint, QuantizationRange range) => new(scale, zeroPoint, range);

        /// <summary>Creates a <see cref="FakeQuantizePerChannelModule"/> with fixed per-channel parameters.</summary>
        /// <param name="scales">1-D tensor of steps, one per channel.</param>
        /// <param name="zeroPoints">1-D tensor of integer zero points, one per channel.</param>
        /// <param name="axis">The channel dimension of the inputs.</param>
        /// <param name="range">The integer grid.</param>
        /// <returns>The module.</returns>
        public static FakeQuantizePerChannelModule FakeQuantizePerChannel(Tensor scales, Tensor zeroPoints, long axis, QuantizationRange range) =>
            new(scales, zeroPoints, axis, range);
    }
}

/// <summary>Module form of <see cref="Rounding.FakeQuantize(Tensor, double, long, long, long)"/> with fixed parameters.</summary>
public sealed class FakeQuantizeModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module; the parameters are checked here.</summary>
    /// <param name="scale">Step s, in [1e-30, 1e30].</param>
    /// <param name="zeroPoint">Zero point, inside <paramref name="range"/>.</param>
    /// <param name="range">The integer grid.</param>
    public FakeQuantizeModule(double scale, long zeroPoint, QuantizationRange range) : base(nameof(FakeQuantizeModule))
    {
        Check.InRange(scale, RoundingLimits.MinScale, RoundingLimits.MaxScale, nameof(scale));
        Check.Range(range.Min, range.Max, zeroPoint, "range.Min", "range.Max", nameof(zeroPoint));
        Scale = scale;
        ZeroPoint = zeroPoint;
        Range = range;
    }

    /// <summary>Gets the step.</summary>
    public double Scale { get; }

    /// <summary>Gets the zero point.</summary>
    public long ZeroPoint { get; }

    /// <summary>Gets the integer grid.</summary>
    public QuantizationRange Range { get; }

    /// <summary>Applies the fake quantization.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>The fake-quantized tensor.</returns>
    public override Tensor forward(Tensor input) => Rounding.FakeQuantize(input, Scale, ZeroPoint, Range);
}

internal sealed class FakeQuantizeFunction : autograd.SingleTensorFunction<FakeQuantizeFunction>
{
    public override string Name => nameof(FakeQuantizeFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            double scale = (double)vars[1];
            long zero = (long)vars[2], qmin = (long)vars[3], qmax = (long)vars[4];
            if (TensorKernels.FakeQuantize(x, scale, zero, qmin, qmax) is var (y, bits))
            {
                GradientScope.SaveCreated(ctx, bits);
                ctx.save_data("packed", true);
                return y;
            }

            double s = x.dtype == ScalarType.Float32 ? (float)scale : scale;
            var (output, mask) = Rounding.FakeQuantizeComposite(x, tensor(s, x.dtype, x.device), tensor((double)zero, x.dtype, x.device), qmin, qmax);
            GradientScope.SaveCreated(ctx, mask);
            ctx.save_data("packed", false);
            return output;
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var mask = ctx.get_saved_variables()[0];
            Tensor dx = (bool)ctx.get_data("packed") && grad_output.device_type == DeviceType.CPU
                ? TensorKernels.MaskedGradient(grad_output, mask)
                : grad_output * mask.to_type(grad_output.dtype);
            return new() { dx, null!, null!, null!, null! };
        });
    }
}

internal sealed class FakeQuantizePerChannelFunction : autograd.SingleTensorFunction<FakeQuantizePerChannelFunction>
{
    public override string Name => nameof(FakeQuantizePerChannelFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            var scales = (Tensor)vars[1];
            var zeroPoints = (Tensor)vars[2];
            long dim = (long)vars[3], qmin = (long)vars[4], qmax = (long)vars[5];
            long[] shape = Rounding.ChannelShape(x, dim);
            Tensor s = scales.detach().to(x.dtype, x.device).reshape(shape);
            Tensor z = zeroPoints.detach().to(x.dtype, x.device).reshape(shape);
            var (output, mask) = Rounding.FakeQuantizeComposite(x, s, z, qmin, qmax);
            GradientScope.SaveCreated(ctx, mask);
            return output;
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var mask = ctx.get_saved_variables()[0];
            return new() { grad_output * mask.to_type(grad_output.dtype), null!, null!, null!, null!, null! };
        });
    }
}

/// <summary>Module form of <see cref="Rounding.FakeQuantizePerChannel"/> with fixed parameters (registered as buffers).</summary>
public sealed class FakeQuantizePerChannelModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module; the parameters are checked on each call against the input's channel count.</summary>
    /// <param name="scales">1-D tensor of steps, one per channel.</param>
    /// <param name="zeroPoints">1-D tensor of integer zero points, one per channel.</param>
    /// <param name="axis">The channel dimension of the inputs.</param>
    /// <param name="range">The integer grid.</param>
    public FakeQuantizePerChannelModule(Tensor scales, Tensor zeroPoints, long axis, QuantizationRange range) : base(nameof(FakeQuantizePerChannelModule))
    {
        ArgumentNullException.ThrowIfNull(scales);
        ArgumentNullException.ThrowIfNull(zeroPoints);
        Check.Range(range.Min, range.Max, range.Min, "range.Min", "range.Max", "range.Min");
        this.scales = scales.detach().clone();
        zero_points = zeroPoints.detach().clone();
        Axis = axis;
        Range = range;
        RegisterComponents();
    }

    /// <summary>Gets the channel dimension.</summary>
    public long Axis { get; }

    /// <summary>Gets the integer grid.</summary>
    public QuantizationRange Range { get; }

#pragma warning disable IDE1006, SA1300 // PyTorch buffer names, kept for state_dict compatibility.
    /// <summary>Gets the steps, one per channel.</summary>
    [field: ComponentName(Name = nameof(scales))]
    public Tensor scales { get; }

    /// <summary>Gets the zero points, one per channel.</summary>
    [field: ComponentName(Name = nameof(zero_points))]
    public Tensor zero_points { get; }
#pragma warning restore IDE1006, SA1300

    /// <summary>Applies the per-channel fake quantization.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>The fake-quantized tensor.</returns>
    public override Tensor forward(Tensor input) => Rounding.FakeQuantizePerChannel(input, scales, zero_points, Axis, Range.Min, Range.Max);
}
