using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Cli;

/// <summary>The settings of <c>mlround op</c>: an op name, its parameters and the x grid.</summary>
internal sealed record OpSettings
{
    public static readonly string[] Names =
    {
        "ste", "ste-clipped", "sigmoid", "softmax", "finite-difference", "soft-round", "noise", "fake-quant", "lsq", "decimals",
    };

    public required string Name { get; init; }
    public double K { get; init; } = 10;
    public double Beta { get; init; } = 10;
    public double H { get; init; } = 0.25;
    public double Alpha { get; init; } = 5;
    public double Scale { get; init; } = 0.25;
    public long ZeroPoint { get; init; }
    public long Qmin { get; init; } = -8;
    public long Qmax { get; init; } = 7;
    public double Min { get; init; } = -2;
    public double Max { get; init; } = 2;
    public int Decimals { get; init; } = 1;
    public long Seed { get; init; }
    public double From { get; init; } = -3;
    public double To { get; init; } = 3;
    public int Points { get; init; } = 601;
    public bool Float32 { get; init; }
    public bool Hard { get; init; }
}

/// <summary>One sampled point of an op: input, output, and gradients from the op's backward pass.</summary>
internal readonly record struct CurvePoint(double X, double Y, double Dydx, double? Dyds);

/// <summary>Samples an op of the library on a grid of x values, in float64 (or float32).</summary>
internal static class OpCurve
{
    public static IReadOnlyList<CurvePoint> Sample(OpSettings settings)
    {
        if (Array.IndexOf(OpSettings.Names, settings.Name) < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(settings.Name), settings.Name, $"unknown op '{settings.Name}'; expected one of: {string.Join(", ", OpSettings.Names)}.");
        }

        if (settings.Points < 2)
        {
            throw new ArgumentOutOfRangeException("points", settings.Points, "--points must be at least 2.");
        }

        if (!double.IsFinite(settings.From) || !double.IsFinite(settings.To) || !(settings.To > settings.From))
        {
            throw new ArgumentOutOfRangeException("to", settings.To, "--from and --to must be finite with --to greater than --from.");
        }

        using var scope = NewDisposeScope();
        var dtype = settings.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        int n = settings.Points;
        double[] xs = Enumerable.Range(0, n).Select(i => settings.From + i * (settings.To - settings.From) / (n - 1)).ToArray();
        Tensor x = tensor(xs, dtype: dtype).requires_grad_(true);
        Tensor? scales = null;
        Tensor y = settings.Name switch
        {
            "ste" => Rounding.StraightThrough(x),
            "ste-clipped" => Rounding.StraightThroughClipped(x, settings.Min, settings.Max),
            "sigmoid" => Rounding.Sigmoid(x, settings.K, settings.Hard),
            "softmax" => Rounding.Softmax(x, settings.Beta, settings.Hard),
            "finite-difference" => Rounding.FiniteDifference(x, settings.H),
            "soft-round" => Rounding.SoftRound(x, settings.Alpha),
            "noise" => Rounding.Noise(x, training: true, new Generator((ulong)settings.Seed)),
            "fake-quant" => Rounding.FakeQuantize(x, settings.Scale, settings.ZeroPoint, settings.Qmin, settings.Qmax),
            "lsq" => Lsq(x, settings, out scales),
            _ => Rounding.RoundDecimals(x, settings.Decimals),
        };

        y.sum().backward();
        double[] values = ToDoubles(y);
        double[] dydx = ToDoubles(x.grad!);
        double[]? dyds = scales is null ? null : ToDoubles(scales.grad!);
        return Enumerable.Range(0, n).Select(i => new CurvePoint(ToOutput(xs[i], settings.Float32), values[i], dydx[i], dyds?[i])).ToArray();
    }

    // One step per element (LSQ per channel along the only axis), so that each element's dy/ds is its own
    // entry of the scale gradient; no gradient scaling.
    private static Tensor Lsq(Tensor x, OpSettings settings, out Tensor? scales)
    {
        if (!(settings.Scale >= RoundingLimits.MinScale && settings.Scale <= RoundingLimits.MaxScale))
        {
            throw new ArgumentOutOfRangeException("scale", settings.Scale, $"--scale must be in [{RoundingLimits.MinScale:R}, {RoundingLimits.MaxScale:R}].");
        }

        if (settings.ZeroPoint < settings.Qmin || settings.ZeroPoint > settings.Qmax)
        {
            throw new ArgumentOutOfRangeException("zeroPoint", settings.ZeroPoint, $"--zero-point must be in [--qmin, --qmax].");
        }

        scales = full(x.shape[0], settings.Scale, dtype: x.dtype).requires_grad_(true);
        Tensor zeros = full(x.shape[0], (double)settings.ZeroPoint, dtype: x.dtype);
        return Rounding.LearnedStepSize(x, scales, zeros, settings.Qmin, settings.Qmax, 1.0, axis: 0);
    }

    private static double[] ToDoubles(Tensor t) => t.detach().to_type(ScalarType.Float64).data<double>().ToArray();

    private static double ToOutput(double x, bool float32) => float32 ? (float)x : x;
}
