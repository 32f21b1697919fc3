using MlRounding.Ops;
using System.Runtime.InteropServices;
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

    /// <summary>True when the fused path applies: float32 contiguous CPU input and steps.</summary>
    public static bool Supports(Tensor x, Tensor logStep) =>
        x.dtype == ScalarType.Float32 && logStep.dtype == ScalarType.Float32 && x.device_type == TorchSharp.DeviceType.CPU && x.is_contiguous() && x.dim() == 2;

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            var logStep = (Tensor)vars[1];
            float qmin = (long)vars[3], qmax = (long)vars[4];
            ctx.save_for_backward(new() { x, logStep });
            ctx.save_data("args", ((double)vars[2], qmin, qmax));
            float[] steps = Steps(logStep);
            Tensor y = empty_like(x);
            ReadOnlySpan<float> src = MemoryMarshal.Cast<byte, float>(x.bytes);
            Span<float> dst = MemoryMarshal.Cast<byte, float>(y.bytes);
            int columns = (int)x.shape[1];
            for (int i = 0; i < src.Length; i++)
            {
                float s = steps.Length == 1 ? steps[0] : steps[i / columns];
                dst[i] = Math.Clamp(MathF.Round(src[i] / s), qmin, qmax) * s;
            }
    
            return y;
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var saved = ctx.get_saved_variables();
            Tensor x = saved[0], logStep = saved[1];
            var (gradScale, qmin, qmax) = ((double, float, float))ctx.get_data("args");
            float[] steps = Steps(logStep);
            using Tensor g = grad_output.contiguous();
            Tensor dx = empty_like(x);
            var dLog = new double[steps.Length];
            ReadOnlySpan<float> src = MemoryMarshal.Cast<byte, float>(x.bytes);
            ReadOnlySpan<float> dy = MemoryMarshal.Cast<byte, float>(g.bytes);
            Span<float> dst = MemoryMarshal.Cast<byte, float>(dx.bytes);
            int columns = (int)x.shape[1];
            for (int i = 0; i < src.Length; i++)
            {
                int k = steps.Length == 1 ? 0 : i / columns;
                float s = steps[k];
                float v = src[i] / s;
                float r = MathF.Round(v);
                bool inside = r >= qmin && r <= qmax;
                dst[i] = inside ? dy[i] : 0f;
                dLog[k] += dy[i] * (double)(inside ? r - v : Math.Clamp(r, qmin, qmax));
            }
    
            for (int k = 0; k < dLog.Length; k++)
            {
                dLog[k] *= steps[k] * gradScale;
            }
    
            Tensor dStep = tensor(dLog.Select(d => (float)d).ToArray()).reshape(logStep.shape);
            return new() { dx, dStep, null!, null!, null! };
        });
    }

    private static float[] Steps(Tensor logStep)
    {
        using Tensor s = logStep.detach().exp().contiguous();
        return MemoryMarshal.Cast<byte, float>(s.bytes).ToArray();
    }
}
