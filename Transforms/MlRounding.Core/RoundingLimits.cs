namespace MlRounding;

/// <summary>
/// The parameter ranges shared by the differentiable ops (<c>MlRounding.Ops</c>) and the ML.NET transforms
/// (<c>MlRounding.Transforms</c>), so that a grid accepted by one is accepted by the other.
/// </summary>
public static class RoundingLimits
{
    /// <summary>Smallest accepted scale (step) of a grid or quantizer; its reciprocal is finite in float32.</summary>
    public const double MinScale = 1e-30;

    /// <summary>Largest accepted scale (step) of a grid or quantizer.</summary>
    public const double MaxScale = 1e30;

    /// <summary>Smallest accepted number of decimal places (rounds to hundreds of millions).</summary>
    public const int MinDecimals = -8;

    /// <summary>Largest accepted number of decimal places.</summary>
    public const int MaxDecimals = 8;

    /// <summary>Largest magnitude of a quantization code (and of qmin, qmax): 2^24, the last integer exact in float32.</summary>
    public const long MaxCode = 1L << 24;
}
