using MlRounding.Ops;

namespace MlRounding.Trainers;

/// <summary>
/// An extra rounding layer inserted into the network at a layer boundary, e.g. the very grid a <c>Round</c> or
/// <c>Quantize</c> transformer uses (<see cref="RoundingTransformer.GridOf"/>): gradients flow through it with its
/// estimator while training, and the deployed scorer applies the same rounding.
/// </summary>
public sealed class QatRoundingLayer
{
    /// <summary>Gets the grid.</summary>
    public required RoundingGrid Grid { get; init; }

    /// <summary>Gets the boundary: 0 rounds the input features, k rounds the output of hidden layer k (after its ReLU and
    /// activation quantizer), and the number of hidden layers + 1 rounds the network's output (e.g. a price to cents).</summary>
    public required int Position { get; init; }

    /// <summary>Gets the gradient estimator for decimal and step grids; null means straight-through.</summary>
    public RoundingGradient? Gradient { get; init; }
}
