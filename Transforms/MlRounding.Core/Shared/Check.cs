// Shared source: compiled into MlRounding.Ops and MlRounding.Transforms (linked by their projects), not into
// MlRounding.Core. Both assemblies check the same parameters with the same words; an internal class cannot be shared
// across assemblies without InternalsVisibleTo, and a public one would only widen the surface.
namespace MlRounding;

/// <summary>Argument checks shared by the ops and the transforms. They run in release builds and name the offending parameter.</summary>
internal static class Check
{
    public static void InRange(double value, double min, double max, string name)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a number in [{min:R}, {max:R}].");
        }
    }

    public static void Positive(double value, double max, string name)
    {
        if (!(value > 0 && value <= max))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive and at most {max:R}.");
        }
    }

    public static void Midpoint(MidpointRounding midpoint, string name = "midpoint")
    {
        if (midpoint is not (MidpointRounding.ToEven or MidpointRounding.AwayFromZero))
        {
            throw new ArgumentOutOfRangeException(name, midpoint, $"{name} must be ToEven or AwayFromZero.");
        }
    }

    public static void Decimals(int decimals, string name = "decimals")
    {
        if (decimals < RoundingLimits.MinDecimals || decimals > RoundingLimits.MaxDecimals)
        {
            throw new ArgumentOutOfRangeException(name, decimals, $"{name} must be in [{RoundingLimits.MinDecimals}, {RoundingLimits.MaxDecimals}].");
        }
    }

    public static void Finite(double value, string name)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite.");
        }
    }

    /// <summary>A step grid: step in [<see cref="RoundingLimits.MinScale"/>, <see cref="RoundingLimits.MaxScale"/>], a finite offset, a known midpoint rule.</summary>
    public static void Step(double step, double offset, MidpointRounding midpoint, string stepName = "step", string offsetName = "offset", string midpointName = "midpoint")
    {
        InRange(step, RoundingLimits.MinScale, RoundingLimits.MaxScale, stepName);
        Finite(offset, offsetName);
        Midpoint(midpoint, midpointName);
    }

    /// <summary>A quantization grid [qmin, qmax] (within ±2^24, exact in float32) and a zero point inside it.</summary>
    public static void Range(long qmin, long qmax, long zeroPoint, string qminName, string qmaxName, string zeroPointName)
    {
        const long limit = RoundingLimits.MaxCode;
        if (qmin < -limit || qmin > limit)
        {
            throw new ArgumentOutOfRangeException(qminName, qmin, $"{qminName} must be in [-2^24, 2^24].");
        }

        if (qmax <= qmin || qmax > limit)
        {
            throw new ArgumentOutOfRangeException(qmaxName, qmax, $"{qmaxName} must be greater than {qminName} ({qmin}) and at most 2^24.");
        }

        if (zeroPoint < qmin || zeroPoint > qmax)
        {
            throw new ArgumentOutOfRangeException(zeroPointName, zeroPoint, $"{zeroPointName} must be in [{qmin}, {qmax}].");
        }
    }
}
