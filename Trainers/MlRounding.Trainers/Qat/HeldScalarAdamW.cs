using MlRounding.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>
/// TorchSharp's AdamW (decoupled weight decay; no AMSGrad, no maximize) with a step that holds the scalars it passes to
/// LibTorch. TorchSharp 0.107's <c>AdamW.step</c> converts its coefficients to Scalars that nothing keeps alive during
/// the native call, so a collection on another thread can free one mid-call (see <see cref="ScalarArithmetic"/>). This
/// step makes the same LibTorch calls in the same order with the same values, so training is bit-identical to
/// TorchSharp's optimizer (asserted by <c>HeldScalarAdamWTests</c>); the state, the parameter groups and the learning
/// rate that schedulers set are TorchSharp's.
/// </summary>
internal sealed class HeldScalarAdamW : AdamW
{
    private readonly Dictionary<IntPtr, Tensor> _scratch = new();

    public HeldScalarAdamW(IEnumerable<Parameter> parameters, double lr, double weightDecay)
        : base(parameters, lr, weight_decay: weightDecay)
    {
    }

    /// <summary>An optimizer over parameter groups, each with its own learning rate and weight decay.</summary>
    public HeldScalarAdamW(IEnumerable<ParamGroup> groups)
        : base(groups)
    {
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value;
        double lr = options.LearningRate!.Value, weightDecay = options.weight_decay!.Value;
        using Scalar decay = (1 - (lr * weightDecay)).ToScalar(), b1 = beta1.ToScalar(), b2 = beta2.ToScalar();
        using Scalar oneMinusB1 = (1 - beta1).ToScalar(), oneMinusB2 = (1 - beta2).ToScalar(), epsilon = eps.ToScalar();
        foreach (Parameter parameter in group.Parameters)
        {
            var state = (State)_state[parameter.Handle];
            Tensor? grad = parameter.grad;
            if (grad is null)
            {
                continue;
            }

            state.step += 1;
            parameter.mul_(decay);
            double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            state.exp_avg.mul_(b1).add_(grad, oneMinusB1);
            state.exp_avg_sq.mul_(b2).addcmul_(grad, grad, oneMinusB2);
            using Scalar value = (-(lr / biasCorrection1)).ToScalar(), correction = Math.Sqrt(biasCorrection2).ToScalar();
            Tensor denominator = Scratch(parameter).copy_(state.exp_avg_sq).sqrt_().div_(correction).add_(epsilon, ScalarArithmetic.One);
            parameter.addcdiv_(state.exp_avg, denominator, value);
        }
    }, closure);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (Tensor scratch in _scratch.Values)
            {
                scratch.Dispose();
            }

            _scratch.Clear();
        }

        base.Dispose(disposing);
    }

    // The parameter's denominator buffer, kept across steps: the in-place sqrt, division and addition give the bits of
    // TorchSharp's out-of-place ones, and two parameter-sized allocations fewer per step keep glibc from trimming and
    // re-faulting the top of its heap every step (float training of 784-512-128 ran 2x slower without this).
    private Tensor Scratch(Parameter parameter)
    {
        if (!_scratch.TryGetValue(parameter.Handle, out Tensor? scratch))
        {
            scratch = empty_like(parameter).DetachFromDisposeScope();
            _scratch.Add(parameter.Handle, scratch);
        }

        return scratch;
    }
}
