using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// The quantization-aware MLP's training forward and backward in one autograd call: every layer's LSQ weight
/// quantizer, linear map, ReLU and LSQ activation quantizer, with the gradients of all of them computed by hand.
/// TorchSharp's custom-function round trip costs ~30 µs, more than the arithmetic of a digits-sized layer; one call per
/// step instead of one per quantizer is what brings quantization-aware training close to float training of the same
/// network (docs/benchmarks.md). The values and gradients are those of the per-layer path (<see cref="Quantizer"/> and
/// <c>nn.functional.linear</c> / <c>relu</c> under autograd) up to the summation order of the matrix products, which
/// the tests check.
/// With straight-through quantizers (data-driven steps, no step gradient) the same pass applies: their gradient with
/// respect to x is LSQ's, and an observer updates each activation step from the batch's ReLU output before it is used.
/// Arguments: x; for each layer W and b; the network's log-step parameter (or null); the <see cref="Layer"/>[] settings;
/// the activation observer (or null); the network's <see cref="QuantizedWeightBuffers"/> (or null: new tensors per pass).
/// </summary>
internal sealed class QatMlpFunction : autograd.SingleTensorFunction<QatMlpFunction>
{
    private const int Saved = 4; // saved tensors per layer: W, quantized W, pre-activation z, output h

    public override string Name => nameof(QatMlpFunction);

    /// <summary>Runs the network on <paramref name="x"/>: the output layer's values before any rescaling.</summary>
    /// <param name="x">The input rows.</param>
    /// <param name="layers">Each layer's weight and bias.</param>
    /// <param name="logSteps">The network's log-step parameter, null when nothing is quantized.</param>
    /// <param name="settings">Each layer's quantizer settings.</param>
    /// <param name="observe">Told (layer, ReLU output) before a data-driven activation step is read; null for LSQ.</param>
    /// <param name="buffers">Where the quantized weights are written (unless another pass holds them), or null for new tensors.</param>
    public static Tensor Apply(Tensor x, IReadOnlyList<(Tensor Weight, Tensor Bias)> layers, Tensor? logSteps, Layer[] settings, Action<int, Tensor>? observe, QuantizedWeightBuffers? buffers)
    {
        var args = new object?[1 + (2 * layers.Count) + 4];
        args[0] = x;
        for (int i = 0; i < layers.Count; i++)
        {
            (args[1 + (2 * i)], args[2 + (2 * i)]) = layers[i];
        }

        bool held = buffers?.TryHold() == true;
        (args[^4], args[^3], args[^2], args[^1]) = (logSteps, settings, observe, held ? buffers : null);
        Tensor y = apply(args!);
        if (held && !y.requires_grad)
        {
            buffers!.Release(); // no backward can follow (no gradient mode, or nothing requires one)
        }

        return y;
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            var logSteps = vars[^4] as Tensor;
            var settings = (Layer[])vars[^3];
            var observe = vars[^2] as Action<int, Tensor>;
            var buffers = vars[^1] as QuantizedWeightBuffers; // null when another pass holds them
            float[] steps = logSteps is null ? Array.Empty<float>() : LsqQuantizeFunction.Steps(logSteps);
            var saved = new List<Tensor?> { x };
            var created = new List<Tensor>();
            Tensor h = x, z = x;
            for (int i = 0; i < settings.Length; i++)
            {
                var (w, b) = ((Tensor)vars[1 + (2 * i)], (Tensor)vars[2 + (2 * i)]);
                Layer layer = settings[i];
                Tensor wq = w;
                if (layer.WeightSteps > 0)
                {
                    wq = LsqQuantizeFunction.Quantize(w, layer.WeightStepsOf(steps), layer.WeightMin, layer.WeightMax, binary: layer.BinaryWeights, into: buffers?.Weights(i, w));
                    if (buffers is null)
                    {
                        created.Add(wq);
                    }
                }

                z = b.addmm(h, wq.t());
                saved.Add(w);
                saved.Add(wq);
                if (i + 1 == settings.Length)
                {
                    saved.Add(null); // the output layer: no activation, and z is the result
                    saved.Add(null);
                    break;
                }

                h = Activation(z, layer, i, steps, logSteps, observe);
                created.Add(z);
                created.Add(h);
                saved.Add(z);
                saved.Add(h);
            }

            GradientScope.Save(ctx, saved, created);
            ctx.save_data("state", (settings, steps, x.requires_grad, logSteps?.requires_grad ?? false));
            ctx.save_data("buffers", buffers);
            return z;
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            List<Tensor> saved = ctx.get_saved_variables();
            var (settings, steps, inputGrad, learnedSteps) = ((Layer[], float[], bool, bool))ctx.get_data("state");
            var buffers = ctx.get_data("buffers") as QuantizedWeightBuffers; // held by this pass, or null
            var grads = new Tensor[1 + (2 * settings.Length) + 4];
            var dLogSteps = new double[steps.Length];
            Tensor dz = grad_output.contiguous();
            for (int i = settings.Length - 1; i >= 0; i--)
            {
                // Saved: x, then per layer W, quantized W, pre-activation z, output h (the quantized ReLU, the next layer's input).
                Layer layer = settings[i];
                var (w, wq) = (saved[1 + (Saved * i)], saved[2 + (Saved * i)]);
                Tensor input = i == 0 ? saved[0] : saved[Saved * i];
                grads[2 + (2 * i)] = dz.sum(new long[] { 0 }); // (an int 0 would select the ScalarType overload)
                Tensor dwq = layer.WeightSteps > 0 && buffers is not null
                    ? buffers.Gradient(i, w).addmm_(dz.t(), input, beta: 0, alpha: 1) // the product alone (beta 0 ignores the old values)
                    : dz.t().mm(input);
                Tensor? dh = i > 0 || inputGrad ? dz.mm(wq) : null;
                if (layer.WeightSteps > 0)
                {
                    (grads[1 + (2 * i)], double[] d) = LsqQuantizeFunction.Gradients(w, dwq, layer.WeightStepsOf(steps), layer.WeightGradientScale, layer.WeightMin, layer.WeightMax, binary: layer.BinaryWeights, belowMax: layer.BelowMax, overwrite: buffers is not null);
                    d.CopyTo(dLogSteps, (int)layer.WeightStep);
                }
                else
                {
                    grads[1 + (2 * i)] = dwq;
                }

                if (i == 0)
                {
                    grads[0] = dh!;
                    break;
                }

                dz = ActivationGradient(saved[(Saved * i) - 1], dh!, settings[i - 1], steps, dLogSteps);
            }

            if (learnedSteps)
            {
                grads[^4] = LsqQuantizeFunction.StepGradient(dLogSteps);
            }

            buffers?.Release(); // this pass's weights are read

            return grads.ToList();
        });
    }

    /// <summary>
    /// A hidden layer's activation, the next layer's input: the quantized ReLU (after the quantizer has observed the ReLU,
    /// which initialises or updates a step that follows the data), or the plain ReLU without an activation quantizer.
    /// </summary>
    private static Tensor Activation(Tensor z, Layer layer, int i, float[] steps, Tensor? logSteps, Action<int, Tensor>? observe)
    {
        if (layer.ActivationStep < 0)
        {
            return nn.functional.relu(z);
        }

        if (observe is not null)
        {
            using (Tensor activation = nn.functional.relu(z))
            {
                observe(i, activation);
            }

            steps[(int)layer.ActivationStep] = LsqQuantizeFunction.Steps(logSteps!)[(int)layer.ActivationStep]; // the updated step
        }

        return LsqQuantizeFunction.Quantize(z, new[] { steps[(int)layer.ActivationStep] }, 0, layer.ActivationMax, relu: true);
    }

    /// <summary>
    /// The gradient with respect to the pre-activation <paramref name="z"/> of the previous layer, through its activation
    /// quantizer and ReLU (whose log-step gradient goes into <paramref name="dLogSteps"/>), or through the ReLU alone.
    /// </summary>
    private static Tensor ActivationGradient(Tensor z, Tensor dh, Layer previous, float[] steps, double[] dLogSteps)
    {
        if (previous.ActivationStep < 0)
        {
            return dh * z.Above(0).to_type(ScalarType.Float32);
        }

        (Tensor dz, double[] d) = LsqQuantizeFunction.Gradients(z, dh, new[] { steps[(int)previous.ActivationStep] }, previous.ActivationGradientScale, 0, previous.ActivationMax, relu: true);
        dLogSteps[(int)previous.ActivationStep] = d[0];
        return dz;
    }

    /// <summary>
    /// A layer's quantizer settings: where its weight steps sit in the log-step parameter (count 0: float weights), the
    /// weight grid and LSQ gradient scale; where its activation step sits (-1: no activation quantizer), the activation
    /// grid's top code and gradient scale; whether the weights are binary (±s, 1 bit), and whether their gradient passes
    /// only below the largest |w| (<see cref="Quantizer.BinaryMaxStep"/>).
    /// </summary>
    internal sealed record Layer(long WeightStep, long WeightSteps, float WeightMin, float WeightMax, double WeightGradientScale, long ActivationStep, float ActivationMax, double ActivationGradientScale, bool BinaryWeights = false, bool BelowMax = false)
    {
        /// <summary>This layer's weight steps out of all steps.</summary>
        public float[] WeightStepsOf(float[] steps) => steps.AsSpan((int)WeightStep, (int)WeightSteps).ToArray();
    }
}
