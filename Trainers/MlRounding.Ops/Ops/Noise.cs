using static TorchSharp.torch;

namespace MlRounding.Ops;

public static partial class Rounding
{
    /// <summary>
    /// Noise proxy (Ballé et al. 2017): in training x + U with U uniform on [-1/2, 1/2) (gradient 1); at inference
    /// round(x) half to even.
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="training">Adds noise when true, rounds when false.</param>
    /// <param name="generator">Random generator for the noise; null uses LibTorch's global generator.
    /// Seed it (<c>new torch.Generator(seed)</c>) for reproducible noise.</param>
    /// <returns>x + U in training, round(x) at inference.</returns>
    public static Tensor Noise(Tensor x, bool training, Generator? generator = null)
    {
        TensorCheck.Floating(x, nameof(x));
        if (!training)
        {
            return StraightThrough(x);
        }

        using var scope = NewDisposeScope();
        Tensor u = rand(x.shape, dtype: x.dtype, device: x.device, generator: generator).Minus(0.5);
        return x.Plus(u).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Expected-gradient noise proxy for an element-wise function f: the forward pass is f(x + U) in training
    /// (f(round(x)) at inference) and the backward pass uses f(x + 1/2) - f(x - 1/2), the exact derivative of
    /// E[f(x + U)] for U uniform on [-1/2, 1/2], which has no sampling variance.
    /// </summary>
    /// <param name="x">A float32 or float64 tensor of any shape.</param>
    /// <param name="f">An element-wise function; it is applied without autograd in the backward pass.</param>
    /// <param name="training">Adds noise when true, rounds when false.</param>
    /// <param name="generator">Random generator for the noise; null uses LibTorch's global generator.</param>
    /// <returns>f(x + U) or f(round(x)).</returns>
    public static Tensor NoiseExpectedGradient(Tensor x, Func<Tensor, Tensor> f, bool training, Generator? generator = null)
    {
        TensorCheck.Floating(x, nameof(x));
        ArgumentNullException.ThrowIfNull(f);
        return ExpectedGradientFunction.apply(x, f, training, generator!);
    }

    public static partial class Modules
    {
        /// <summary>Creates a <see cref="NoiseModule"/> module: noise in training mode, rounding in evaluation mode.</summary>
        /// <param name="seed">Seed of the module's own generator; null uses LibTorch's global generator.</param>
        /// <returns>The module.</returns>
        public static NoiseModule Noise(long? seed = null) => new(seed);
    }
}

/// <summary>Module form of <see cref="Rounding.Noise"/>: adds noise in training mode and rounds in evaluation mode.</summary>
public sealed class NoiseModule : nn.Module<Tensor, Tensor>
{
    private readonly Generator? _generator;

    /// <summary>Creates the module.</summary>
    /// <param name="seed">Seed of the module's own generator; null uses LibTorch's global generator.</param>
    public NoiseModule(long? seed = null) : base(nameof(NoiseModule))
    {
        _generator = seed is long s ? new Generator((ulong)s) : null;
    }

    /// <summary>Applies <see cref="Rounding.Noise"/> with the module's training flag.</summary>
    /// <param name="input">A float32 or float64 tensor.</param>
    /// <returns>input + U in training mode, round(input) in evaluation mode.</returns>
    public override Tensor forward(Tensor input) => Rounding.Noise(input, training, _generator);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _generator?.Dispose();
        }

        base.Dispose(disposing);
    }
}

internal sealed class ExpectedGradientFunction : autograd.SingleTensorFunction<ExpectedGradientFunction>
{
    public override string Name => nameof(ExpectedGradientFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        return GradientScope.Run(() =>
        {
            var x = (Tensor)vars[0];
            var f = (Func<Tensor, Tensor>)vars[1];
            bool training = (bool)vars[2];
            var generator = vars[3] as Generator;
            ctx.save_for_backward(new() { x });
            ctx.save_data("f", f);
            Tensor input = training
                ? x.Plus(rand(x.shape, dtype: x.dtype, device: x.device, generator: generator).Minus(0.5))
                : x.round();
            return f(input);
        });
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        return GradientScope.Run(() =>
        {
            var x = ctx.get_saved_variables()[0];
            var f = (Func<Tensor, Tensor>)ctx.get_data("f");
            using var noGrad = no_grad();
            return new() { grad_output * (f(x.Plus(0.5)) - f(x.Minus(0.5))), null!, null!, null! };
        });
    }
}
