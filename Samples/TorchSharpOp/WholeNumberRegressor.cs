using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlRounding.Samples;

/// <summary>
/// A TorchSharp MLP whose prediction is a whole number: its last layer is a rounding module. With MlRounding's modules
/// the forward pass rounds and the backward pass uses the module's surrogate gradient; with a plain <c>torch.round</c>
/// the gradient is zero everywhere and nothing before the rounding can learn.
/// </summary>
public sealed class WholeNumberRegressor : nn.Module<Tensor, Tensor>
{
    private readonly Linear _hidden;
    private readonly Linear _output;
    private readonly nn.Module<Tensor, Tensor> _round;

    /// <summary>Initializes a new instance of the <see cref="WholeNumberRegressor"/> class.</summary>
    /// <param name="inputs">Number of features.</param>
    /// <param name="hidden">Hidden units.</param>
    /// <param name="round">The rounding module applied to the prediction.</param>
    /// <param name="targetMean">Initial output bias (the mean target), so training starts at a sensible scale.</param>
    public WholeNumberRegressor(int inputs, int hidden, nn.Module<Tensor, Tensor> round, float targetMean) : base(nameof(WholeNumberRegressor))
    {
        _hidden = nn.Linear(inputs, hidden);
        _output = nn.Linear(hidden, 1);
        _round = round;
        using (no_grad())
        {
            _output.bias!.fill_(targetMean);
        }

        RegisterComponents();
    }

    /// <summary>Predicts whole numbers for a batch of rows.</summary>
    /// <param name="x">Features, one row per example.</param>
    /// <returns>The rounded predictions, one per row.</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor y = _output.forward(nn.functional.relu(_hidden.forward(x))).squeeze(1);
        return _round.forward(y).MoveToOuterDisposeScope();
    }
}

/// <summary><c>torch.round</c> as a module: what a TorchSharp user writes without MlRounding (zero gradient).</summary>
public sealed class PlainTorchRound() : nn.Module<Tensor, Tensor>(nameof(PlainTorchRound))
{
    /// <summary>Rounds half to even; its gradient is zero.</summary>
    /// <param name="x">Input.</param>
    /// <returns>The rounded tensor.</returns>
    public override Tensor forward(Tensor x) => x.round();
}
