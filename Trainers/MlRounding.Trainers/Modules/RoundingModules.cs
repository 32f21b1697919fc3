using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding;

/// <summary>
/// The rounding of an ML.NET transform as a TorchSharp module of the ops library, so that a TorchSharp model (or the
/// quantization-aware trainer) applies the very same rounding, bit for bit in float32 and float64, with a gradient.
/// </summary>
public static class RoundingModules
{
    /// <summary>The rounding of a grid as a TorchSharp module: <see cref="RoundDecimalsModule"/>, <see cref="RoundToStepModule"/>,
    /// <see cref="FakeQuantizeModule"/> or <see cref="FakeQuantizePerChannelModule"/> (per slot, along the last dimension).</summary>
    /// <param name="grid">The grid, e.g. from <see cref="RoundingTransformer.GridOf"/>.</param>
    /// <param name="gradient">Gradient estimator for decimal and step grids; null means straight-through. Affine grids use
    /// fake quantization's straight-through gradient, zero outside the range.</param>
    /// <returns>A new module.</returns>
    /// <exception cref="NotSupportedException">The grid is of a kind this version does not know.</exception>
    public static nn.Module<Tensor, Tensor> CreateModule(this RoundingGrid grid, RoundingGradient? gradient = null)
    {
        ArgumentNullException.ThrowIfNull(grid);
        return grid switch
        {
            DecimalGrid d => Rounding.Modules.RoundDecimals(d.Decimals, d.Midpoint, gradient),
            StepGrid s => Rounding.Modules.RoundToStep(s.Step, s.Offset, s.Midpoint, gradient),
            AffineGrid a when a.Scales.Count == 1 => Rounding.Modules.FakeQuantize(a.Scales[0], a.ZeroPoints[0], a.Range),
            AffineGrid a => Rounding.Modules.FakeQuantizePerChannel(tensor(a.Scales.ToArray()), tensor(a.ZeroPoints.ToArray()), -1, a.Range),
            _ => throw new NotSupportedException($"No TorchSharp module for a {grid.GetType().Name}."),
        };
    }

    /// <summary>The rounding of one output column of a fitted transformer as a TorchSharp module (see <see cref="CreateModule(RoundingGrid, RoundingGradient?)"/>).</summary>
    /// <param name="transformer">A fitted <c>Round</c>, <c>RoundToStep</c> or <c>Quantize</c> transformer.</param>
    /// <param name="outputColumnName">One of its output columns.</param>
    /// <param name="gradient">Gradient estimator for decimal and step grids; null means straight-through.</param>
    /// <returns>A new module.</returns>
    /// <exception cref="ArgumentException">No output column has that name.</exception>
    public static nn.Module<Tensor, Tensor> CreateModule(this RoundingTransformer transformer, string outputColumnName, RoundingGradient? gradient = null)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        return transformer.GridOf(outputColumnName).CreateModule(gradient);
    }
}

/// <summary>The 1.0 name of <see cref="RoundingModules"/>.</summary>
[Obsolete("Renamed RoundingModules.CreateModule: it makes a TorchSharp module, not a layer of the network.")]
public static class RoundingLayers
{
    /// <summary>See <see cref="RoundingModules.CreateModule(RoundingGrid, RoundingGradient?)"/>.</summary>
    /// <param name="grid">The grid.</param>
    /// <param name="gradient">Gradient estimator for decimal and step grids; null means straight-through.</param>
    /// <returns>A new module.</returns>
    public static nn.Module<Tensor, Tensor> CreateLayer(this RoundingGrid grid, RoundingGradient? gradient = null) => grid.CreateModule(gradient);

    /// <summary>See <see cref="RoundingModules.CreateModule(RoundingTransformer, string, RoundingGradient?)"/>.</summary>
    /// <param name="transformer">A fitted <c>Round</c>, <c>RoundToStep</c> or <c>Quantize</c> transformer.</param>
    /// <param name="outputColumnName">One of its output columns.</param>
    /// <param name="gradient">Gradient estimator for decimal and step grids; null means straight-through.</param>
    /// <returns>A new module.</returns>
    public static nn.Module<Tensor, Tensor> CreateLayer(this RoundingTransformer transformer, string outputColumnName, RoundingGradient? gradient = null) =>
        transformer.CreateModule(outputColumnName, gradient);
}
