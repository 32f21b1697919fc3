using static TorchSharp.torch;

namespace MlRounding.Ops;

/// <summary>
/// Base of the rounding modules with a hardness (k, beta or alpha) that a <see cref="HardnessSchedule"/> can anneal,
/// and a soft or hard mode.
/// </summary>
public abstract class SmoothRoundingModule : nn.Module<Tensor, Tensor>, IHasHardness
{
    private double _hardness;

    /// <summary>Creates the module.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="hardness">Initial hardness in [0, 1e30].</param>
    /// <param name="hard">Hard mode (round forward, smooth gradient) or soft mode.</param>
    /// <param name="hardnessName">The parameter's name in error messages (k, beta, alpha).</param>
    private protected SmoothRoundingModule(string name, double hardness, bool hard, string hardnessName) : base(name)
    {
        HardnessName = hardnessName;
        Hardness = hardness;
        Hard = hard;
    }

    /// <summary>Gets or sets the hardness, in [0, 1e30].</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [0, 1e30].</exception>
    public double Hardness
    {
        get => _hardness;
        set
        {
            Check.InRange(value, 0, Rounding.MaxHardness, HardnessName);
            _hardness = value;
        }
    }

    /// <summary>Gets a value indicating whether the forward pass rounds (hard mode).</summary>
    public bool Hard { get; }

    private string HardnessName { get; }
}
