using static TorchSharp.torch;

namespace MlRounding.Ops;

/// <summary>Argument checks shared by the ops. They run in release builds and name the offending parameter.</summary>
internal static class Check
{
    public static void FloatingTensor(Tensor x, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.dtype != ScalarType.Float32 && x.dtype != ScalarType.Float64)
        {
            throw new ArgumentException($"Expected a float32 or float64 tensor, got {x.dtype}.", name);
        }
    }

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
        if (decimals < Rounding.MinDecimals || decimals > Rounding.MaxDecimals)
        {
            throw new ArgumentOutOfRangeException(name, decimals, $"{name} must be in [{Rounding.MinDecimals}, {Rounding.MaxDecimals}].");
        }
    }

    public static void Finite(double value, string name)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite.");
        }
    }
}
