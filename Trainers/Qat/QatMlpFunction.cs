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
/// Arguments: x, then for each layer W, b, log(weight step) or null, log(activation step) or null (hidden layers),
/// then the <see cref="Layer"/>[] settings.
/// </summary>
internal sealed class QatMlpFunction : autograd.SingleTensorFunction<QatMlpFunction>
{
    private const int PerLayer = 4; // arguments per layer
    private const int Saved = 6; // saved tensors per layer

    public override string Name => nameof(QatMlpFunction);

    /// <summary>Runs the network on <paramref name="x"/>: the output layer's values before any rescaling.</summary>
    public static Tensor Apply(Tensor x, IReadOnlyList<(Tensor Weight, Tensor Bias, Tensor? WeightStep, Tensor? ActivationStep)> layers, Layer[] settings)
    {
        var args = new object?[1 + (PerLayer * layers.Count) + 1];
        args[0] = x;
        for (int i = 0; i < layers.Count; i++)
        {
            (args[1 + (PerLayer * i)], args[2 + (PerLayer * i)], args[3 + (PerLayer * i)], args[4 + (PerLayer * i)]) = layers[i];
        }

        args[^1] = settings;
        return apply(args!);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            var settings = (Layer[])vars[^1];
            var weightSteps = new float[settings.Length][];
            var activationSteps = new float[settings.Length][];
            var saved = new List<Tensor> { x };
            var created = new List<Tensor>();
            Tensor h = x;
            for (int i = 0; ; i++)
            {
                var (w, b, lw, la) = Arguments(vars, i);
                Layer layer = settings[i];
                Tensor wq = w;
                if (lw is not null)
                {
                    weightSteps[i] = LsqQuantizeFunction.Steps(lw);
                    wq = LsqQuantizeFunction.Quantize(w, weightSteps[i], layer.WeightMin, layer.WeightMax);
                    created.Add(wq);
                }

                Tensor z = b.addmm(h, wq.t());
                saved.AddRange(new[] { w, lw!, wq, la! });
                if (i + 1 == settings.Length)
                {
                    saved.Add(null!);
                    saved.Add(null!);
                    foreach (Tensor t in created)
                    {
                        t.MoveToOuterDisposeScope(); // saved tensors must outlive this scope
                    }

                    ctx.save_for_backward(saved);
                    ctx.save_data("state", (settings, weightSteps, activationSteps, x.requires_grad));
                    return z;
                }

                if (la is not null)
                {
                    activationSteps[i] = LsqQuantizeFunction.Steps(la);
                    h = LsqQuantizeFunction.Quantize(z, activationSteps[i], 0, layer.ActivationMax, relu: true);
                }
                else
                {
                    h = nn.functional.relu(z);
                }

                created.Add(z);
                created.Add(h);
                saved.Add(z);
                saved.Add(h);
            }
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            List<Tensor> saved = ctx.get_saved_variables();
            var (settings, weightSteps, activationSteps, inputGrad) = ((Layer[], float[][], float[][], bool))ctx.get_data("state");
            var grads = new Tensor[1 + (PerLayer * settings.Length) + 1];
            Tensor dz = grad_output.contiguous();
            for (int i = settings.Length - 1; i >= 0; i--)
            {
                // Saved: x, then per layer W, log(weight step), quantized W, log(activation step), pre-activation z,
                // the layer's output h (the quantized ReLU, the next layer's input).
                var (w, lw, wq) = (saved[1 + (Saved * i)], saved[2 + (Saved * i)], saved[3 + (Saved * i)]);
                Tensor input = i == 0 ? saved[0] : saved[Saved * i];
                grads[2 + (PerLayer * i)] = dz.sum(new long[] { 0 }); // (an int 0 would select the ScalarType overload)
                Tensor dwq = dz.t().mm(input);
                Tensor? dh = i > 0 || inputGrad ? dz.mm(wq) : null;
                if (lw is not null)
                {
                    Layer layer = settings[i];
                    (grads[1 + (PerLayer * i)], grads[3 + (PerLayer * i)]) = LsqQuantizeFunction.Gradients(w, lw, dwq, weightSteps[i], layer.WeightGradientScale, layer.WeightMin, layer.WeightMax);
                }
                else
                {
                    grads[1 + (PerLayer * i)] = dwq;
                }

                if (i == 0)
                {
                    grads[0] = dh!;
                    break;
                }

                // Through the previous layer's activation quantizer and ReLU.
                var (la, z) = (saved[4 + (Saved * (i - 1))], saved[5 + (Saved * (i - 1))]);
                if (la is not null)
                {
                    Layer previous = settings[i - 1];
                    (dz, grads[4 + (PerLayer * (i - 1))]) = LsqQuantizeFunction.Gradients(z, la, dh!, activationSteps[i - 1], previous.ActivationGradientScale, 0, previous.ActivationMax, relu: true);
                }
                else
                {
                    dz = dh! * z.gt(0).to_type(ScalarType.Float32);
                }
            }

            return grads.ToList();
        });
    }

    private static (Tensor W, Tensor B, Tensor? LogWeightStep, Tensor? LogActivationStep) Arguments(object[] vars, int layer) =>
        ((Tensor)vars[1 + (PerLayer * layer)], (Tensor)vars[2 + (PerLayer * layer)], vars[3 + (PerLayer * layer)] as Tensor, vars[4 + (PerLayer * layer)] as Tensor);

    /// <summary>A layer's quantizer settings: weight grid and LSQ gradient scale; activation grid and gradient scale.</summary>
    internal sealed record Layer(float WeightMin, float WeightMax, double WeightGradientScale, float ActivationMax, double ActivationGradientScale);
}
