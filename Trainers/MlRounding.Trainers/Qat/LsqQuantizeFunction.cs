using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using MlRounding.Ops;
using System.Runtime.InteropServices;
using MlRounding.Kernels;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// The LSQ quantizer of <see cref="Quantizer"/> as one autograd function over float32 memory, so that a step costs one
/// forward and one backward call instead of about ten TorchSharp ops each way. The arithmetic is the library's one LSQ
/// (<c>LsqGrid</c> in its divided form, run by MlRounding.Ops' LsqKernel, which the public op
/// <c>Rounding.LearnedStepSize</c> runs in its affine form): y = clamp(round(x / s), qmin, qmax) s with s = exp(log s) per row (weights, per channel) or one
/// (activations); dx = dy where qmin &lt;= round(x / s) &lt;= qmax; d(log s) = g s Σ dy (round(v) - v inside, the clamped
/// code outside), v = x / s, g the LSQ gradient scale.
/// </summary>
internal sealed class LsqQuantizeFunction : autograd.SingleTensorFunction<LsqQuantizeFunction>
{
    public override string Name => nameof(LsqQuantizeFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            var logStep = (Tensor)vars[1];
            float qmin = (long)vars[3], qmax = (long)vars[4];
            bool binary = (bool)vars[5];
            float[] steps = Steps(logStep);
            ctx.save_for_backward(new() { x });

            // The backward reuses the steps as numbers; the log-step tensor itself is not saved: it is a view of the
            // network's shared log-step parameter, which other quantizers initialise in place during the same pass.
            ctx.save_data("args", ((double)vars[2], qmin, qmax, binary, steps, logStep.shape));
            return Quantize(x, steps, qmin, qmax, binary: binary);
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var saved = ctx.get_saved_variables();
            var (gradScale, qmin, qmax, binary, steps, shape) = ((double, float, float, bool, float[], long[]))ctx.get_data("args");
            var (dx, dLog) = Gradients(saved[0], grad_output, steps, gradScale, qmin, qmax, binary: binary);
            return new() { dx, StepGradient(dLog).reshape(shape), null!, null!, null!, null! };
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
            LsqKernel.Forward(src.Slice(at, columns), dst.Slice(at, columns), LsqGrid<float>.Divided(steps.Length == 1 ? steps[0] : steps[row], qmin, qmax), relu, binary);
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
            float? limit = !belowMax ? null : steps.Length == 1 ? all : MathF.Abs(TensorPrimitives.MaxMagnitude(values));
            dLog[k] += LsqKernel.Backward(values, dy.Slice(at, columns), dst.Slice(at, columns), LsqGrid<float>.Divided(steps[k], lo, hi), relu, binary, limit).Step;
        }

        for (int k = 0; k < dLog.Length; k++)
        {
            dLog[k] *= steps[k] * gradScale;
        }

        return (dx, dLog);
    }

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
