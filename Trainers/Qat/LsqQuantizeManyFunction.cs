using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// Several LSQ quantizers (<see cref="LsqQuantizeFunction"/>) in one autograd call: the weight matrices of all layers
/// are quantized together at the start of each training step. TorchSharp's custom-function round trip costs more than
/// the arithmetic of a small layer (~50-75 µs per forward and backward), so one call instead of one per layer saves
/// that overhead; the values and gradients are those of the per-layer function, element for element.
/// Arguments: for each tensor i, x_i, log(step)_i; then double[] gradient scales, float[] qmin, float[] qmax.
/// </summary>
internal sealed class LsqQuantizeManyFunction : autograd.MultiTensorFunction<LsqQuantizeManyFunction>
{
    public override string Name => nameof(LsqQuantizeManyFunction);

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            int n = (vars.Length - 3) / 2;
            var (scales, qmin, qmax) = ((double[])vars[^3], (float[])vars[^2], (float[])vars[^1]);
            var saved = new List<Tensor>();
            var steps = new float[n][];
            var outputs = new List<Tensor>();
            for (int i = 0; i < n; i++)
            {
                var x = (Tensor)vars[2 * i];
                var logStep = (Tensor)vars[(2 * i) + 1];
                steps[i] = LsqQuantizeFunction.Steps(logStep);
                saved.Add(x);
                saved.Add(logStep);
                outputs.Add(LsqQuantizeFunction.Quantize(x, steps[i], qmin[i], qmax[i]));
            }

            ctx.save_for_backward(saved);
            ctx.save_data("args", (scales, qmin, qmax, steps));
            return outputs;
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        return GradientScope.Run(() =>
        {
            var saved = ctx.get_saved_variables();
            var (scales, qmin, qmax, steps) = ((double[], float[], float[], float[][]))ctx.get_data("args");
            var grads = new List<Tensor>();
            for (int i = 0; i < steps.Length; i++)
            {
                var (dx, dStep) = LsqQuantizeFunction.Gradients(saved[2 * i], saved[(2 * i) + 1], grad_outputs[i], steps[i], scales[i], qmin[i], qmax[i]);
                grads.Add(dx);
                grads.Add(dStep);
            }

            grads.Add(null!);
            grads.Add(null!);
            grads.Add(null!);
            return grads;
        });
    }
}
