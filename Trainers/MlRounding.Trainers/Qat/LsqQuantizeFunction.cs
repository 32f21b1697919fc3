using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using MlRounding.Ops;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// The LSQ quantizer of <see cref="Quantizer"/> fused into one autograd function over float32 memory, so that a step
/// costs one forward and one backward call instead of about ten TorchSharp ops each way. Same mathematics as the
/// composite path: y = clamp(round(x / s), qmin, qmax) s with s = exp(log s) per row (weights, per channel) or one
/// (activations); dx = dy where qmin &lt;= round(x / s) &lt;= qmax; d(log s) = g s Σ dy (round(v) - v inside, the clamped
/// code outside), v = x / s, g the LSQ gradient scale.
/// </summary>
internal sealed class LsqQuantizeFunction : autograd.SingleTensorFunction<LsqQuantizeFunction>
{
    public override string Name => nameof(LsqQuantizeFunction);

    /// <summary>True when the fused path applies: a float32 contiguous 2-D CPU input (the log steps are float32 by construction).</summary>
    public static bool Supports(Tensor x) =>
        x.dtype == ScalarType.Float32 && x.device_type == TorchSharp.DeviceType.CPU && x.is_contiguous() && x.dim() == 2;

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            var logStep = (Tensor)vars[1];
            float qmin = (long)vars[3], qmax = (long)vars[4];
            float[] steps = Steps(logStep);
            ctx.save_for_backward(new() { x });

            // The backward reuses the steps as numbers; the log-step tensor itself is not saved: it is a view of the
            // network's shared log-step parameter, which other quantizers initialise in place during the same pass.
            ctx.save_data("args", ((double)vars[2], qmin, qmax, steps, logStep.shape));
            return Quantize(x, steps, qmin, qmax);
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var saved = ctx.get_saved_variables();
            var (gradScale, qmin, qmax, steps, shape) = ((double, float, float, float[], long[]))ctx.get_data("args");
            var (dx, dLog) = Gradients(saved[0], grad_output, steps, gradScale, qmin, qmax);
            return new() { dx, StepGradient(dLog).reshape(shape), null!, null!, null! };
        });
    }

    /// <summary>
    /// y = clamp(round(x / s), qmin, qmax) s, one step per row (or one for all); with <paramref name="relu"/>, x is
    /// max(x, 0) first; with <paramref name="binary"/>, y = sign(x / s) s (0 counts as +1; qmin and qmax are -1 and 1).
    /// Written into <paramref name="into"/> (a contiguous float32 tensor shaped like x) when given, else into a new tensor.
    /// </summary>
    internal static Tensor Quantize(Tensor x, float[] steps, float qmin, float qmax, bool relu = false, bool binary = false, Tensor? into = null)
    {
        Tensor y = into ?? empty_like(x);
        ReadOnlySpan<float> src = MemoryMarshal.Cast<byte, float>(x.bytes);
        Span<float> dst = MemoryMarshal.Cast<byte, float>(y.bytes);
        int columns = (int)x.shape[1];
        for (int row = 0, at = 0; at < src.Length; row++, at += columns)
        {
            Forward(src.Slice(at, columns), dst.Slice(at, columns), steps.Length == 1 ? steps[0] : steps[row], qmin, qmax, relu, binary);
        }

        return y;
    }

    /// <summary>
    /// The gradients with respect to x and to log(step) (scaled by the LSQ gradient scale; one per step); with
    /// <paramref name="relu"/>, those of the quantizer applied to max(x, 0), the ReLU's own gradient included (dx = 0
    /// where x &lt;= 0); with <paramref name="binary"/>, those of the binary quantizer (sign for round, |v| &lt;= 1 for inside:
    /// the clipped straight-through estimator of <see cref="Quantizer"/>). With <paramref name="belowMax"/> (binary weights
    /// whose step is the largest |x| of their row, or of all rows for one step) the gradient passes only where |x| is below
    /// that largest value, instead of the |v| &lt;= 1 window: the largest weight is the step, and a straight-through gradient for it would ignore that it
    /// scales every code of the row. With <paramref name="overwrite"/>, dx is written over the incoming gradient's memory
    /// (a buffer the caller owns and no longer needs) instead of a new tensor.
    /// </summary>
    internal static (Tensor Dx, double[] DLogStep) Gradients(Tensor x, Tensor gradOutput, float[] steps, double gradScale, float qmin, float qmax, bool relu = false, bool binary = false, bool belowMax = false, bool overwrite = false)
    {
        Tensor g = gradOutput.contiguous();
        Tensor dx = overwrite ? g.alias() : empty_like(x);
        var dLog = new double[steps.Length];
        ReadOnlySpan<float> src = MemoryMarshal.Cast<byte, float>(x.bytes);
        ReadOnlySpan<float> dy = MemoryMarshal.Cast<byte, float>(g.bytes);
        Span<float> dst = MemoryMarshal.Cast<byte, float>(dx.bytes);
        int columns = (int)x.shape[1];
        float all = belowMax && steps.Length == 1 ? MathF.Abs(TensorPrimitives.MaxMagnitude(src)) : float.PositiveInfinity;
        (float lo, float hi) = belowMax ? (float.NegativeInfinity, float.PositiveInfinity) : (qmin, qmax); // the window is below the largest |x| instead
        for (int row = 0, at = 0; at < src.Length; row++, at += columns)
        {
            int k = steps.Length == 1 ? 0 : row;
            ReadOnlySpan<float> values = src.Slice(at, columns);
            float limit = !belowMax ? float.PositiveInfinity : steps.Length == 1 ? all : MathF.Abs(TensorPrimitives.MaxMagnitude(values));
            dLog[k] += Backward(values, dy.Slice(at, columns), dst.Slice(at, columns), steps[k], lo, hi, relu, binary, limit);
        }

        for (int k = 0; k < dLog.Length; k++)
        {
            dLog[k] *= steps[k] * gradScale;
        }

        return (dx, dLog);
    }

    // y = clamp(round(x / s), qmin, qmax) s (x = max(x, 0) first with relu; sign(x / s) s with binary), eight lanes at a
    // time, then the tail.
    internal static void Forward(ReadOnlySpan<float> x, Span<float> y, float s, float qmin, float qmax, bool relu = false, bool binary = false)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s);
            var lo = Vector256.Create(qmin);
            var hi = Vector256.Create(qmax);
            for (; i <= x.Length - 8; i += 8)
            {
                var raw = Vector256.Create(x.Slice(i, 8));
                var v = (relu ? Vector256.Max(raw, Vector256<float>.Zero) : raw) / vs;
                (Vector256.Min(Vector256.Max(Code(v, binary), lo), hi) * vs).CopyTo(y.Slice(i, 8));
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = Math.Clamp(Code((relu ? Math.Max(x[i], 0f) : x[i]) / s, binary), qmin, qmax) * s;
        }
    }

    // dx = dy inside the grid, 0 outside (and where x <= 0 with relu); returns Σ dy (round(v) - v inside, the clamped
    // code outside), v = x / s (max(x, 0) / s with relu). Inside means qmin <= round(v) <= qmax, or with binary (the code
    // sign(v)) qmin <= v <= qmax, the clipped straight-through window; and |x| < limit. dx may be dy's own memory: each
    // element of dy is read before dx is written there.
    internal static double Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float s, float qmin, float qmax, bool relu = false, bool binary = false, float limit = float.PositiveInfinity)
    {
        double sum = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s);
            var lo = Vector256.Create(qmin);
            var hi = Vector256.Create(qmax);
            bool bounded = limit < float.PositiveInfinity; // only binary weights whose step is their largest |w|
            var below = Vector256.Create(limit);
            var acc = Vector256<float>.Zero;
            for (; i <= x.Length - 8; i += 8)
            {
                var raw = Vector256.Create(x.Slice(i, 8));
                var v = (relu ? Vector256.Max(raw, Vector256<float>.Zero) : raw) / vs;
                var r = Code(v, binary);
                var g = Vector256.Create(dy.Slice(i, 8));
                var window = binary ? v : r;
                var inside = Vector256.GreaterThanOrEqual(window, lo) & Vector256.LessThanOrEqual(window, hi);
                if (bounded)
                {
                    inside &= Vector256.LessThan(Vector256.Abs(raw), below);
                }

                var passes = relu ? inside & Vector256.GreaterThan(raw, Vector256<float>.Zero) : inside;
                Vector256.ConditionalSelect(passes, g, Vector256<float>.Zero).CopyTo(dx.Slice(i, 8));
                acc += g * Vector256.ConditionalSelect(inside, r - v, Vector256.Min(Vector256.Max(r, lo), hi));
            }

            sum = Vector256.Sum(acc);
        }

        for (; i < x.Length; i++)
        {
            float v = (relu ? Math.Max(x[i], 0f) : x[i]) / s;
            float r = Code(v, binary);
            float window = binary ? v : r;
            bool inside = window >= qmin && window <= qmax && MathF.Abs(x[i]) < limit;
            float g = dy[i];
            dx[i] = inside && (!relu || x[i] > 0) ? g : 0f;
            sum += g * (double)(inside ? r - v : Math.Clamp(r, qmin, qmax));
        }

        return sum;
    }

    // The code before clamping: round(v) (ties to even), or with binary sign(v) with 0 counted as +1.
    private static float Code(float v, bool binary) => binary ? (v >= 0 ? 1f : -1f) : MathF.Round(v);

    private static Vector256<float> Code(Vector256<float> v, bool binary) => binary
        ? Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), Vector256<float>.One, -Vector256<float>.One)
        : Vector256.Round(v);

    /// <summary>The log-step gradients, summed in float64, as a float32 tensor.</summary>
    internal static Tensor StepGradient(double[] sums) => tensor(Array.ConvertAll(sums, d => (float)d));

    /// <summary>
    /// exp(log step) for each entry, computed in float64 and rounded once (read straight from the parameter's memory:
    /// three TorchSharp calls per quantizer and step cost more than the quantizer's arithmetic on digits-sized layers).
    /// </summary>
    internal static float[] Steps(Tensor logStep)
    {
        if (!logStep.is_contiguous())
        {
            using Tensor contiguous = logStep.detach().contiguous();
            return Steps(contiguous);
        }

        ReadOnlySpan<float> log = MemoryMarshal.Cast<byte, float>(logStep.bytes);
        var steps = new float[log.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            steps[i] = (float)Math.Exp(log[i]);
        }

        return steps;
    }
}
