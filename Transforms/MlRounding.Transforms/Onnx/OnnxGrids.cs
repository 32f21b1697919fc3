using Onnx;

namespace MlRounding.Onnx;

/// <summary>
/// A <see cref="RoundingGrid"/> as ONNX nodes, with the same float32 operations in the same order as the C# rounding
/// (so ONNX Runtime reproduces it exactly): decimals and steps through <c>Round</c> (half to even; away from zero by
/// fixing exact ties), affine grids through multiply-by-reciprocal, round, add zero point, clip, subtract, scale.
/// </summary>
internal static class OnnxGrids
{
    /// <summary>Rounds the float tensor <paramref name="x"/> ([N, width]) to <paramref name="grid"/>; returns the output name.</summary>
    public static string Round(OnnxGraph g, string x, RoundingGrid grid, int width) => grid switch
    {
        DecimalGrid d => Decimals(g, x, d),
        StepGrid s => Step(g, x, s),
        AffineGrid a => Affine(g, x, a, width, codes: false),
        _ => throw new NotSupportedException($"Rounding grids of kind '{grid.Kind}' cannot be exported to ONNX."),
    };

    /// <summary>The integer codes of an affine grid, as float ([N, width]).</summary>
    public static string Codes(OnnxGraph g, string x, AffineGrid grid, int width) => Affine(g, x, grid, width, codes: true);

    private static string Decimals(OnnxGraph g, string x, DecimalGrid grid)
    {
        string p = g.Scalar("pow10", (float)Math.Pow(10, Math.Abs(grid.Decimals)));
        bool multiply = grid.Decimals >= 0;
        string u = g.Node(multiply ? "Mul" : "Div", new[] { x, p });
        string r = RoundWith(g, u, grid.Midpoint);
        string y = g.Node(multiply ? "Div" : "Mul", new[] { r, p });
        return OverflowKeepsInput(g, x, u, y);
    }

    private static string Step(OnnxGraph g, string x, StepGrid grid)
    {
        string offset = g.Scalar("offset", (float)grid.Offset);
        string step = g.Scalar("step", (float)grid.Step);
        string u = g.Node("Div", new[] { g.Node("Sub", new[] { x, offset }), step });
        string y = g.Node("Add", new[] { g.Node("Mul", new[] { RoundWith(g, u, grid.Midpoint), step }), offset });
        return OverflowKeepsInput(g, x, u, y);
    }

    private static string Affine(OnnxGraph g, string x, AffineGrid grid, int width, bool codes)
    {
        float[] scale = grid.Scales.Select(s => (float)s).ToArray();
        float[] inverse = scale.Select(s => 1f / s).ToArray();
        float[] zero = grid.ZeroPoints.Select(z => (float)z).ToArray();
        long[] dims = scale.Length == 1 ? Array.Empty<long>() : new long[] { width };
        string z = g.Floats("zero_point", zero, dims);
        string q = g.Node("Add", new[] { g.Node("Round", new[] { g.Node("Mul", new[] { x, g.Floats("inverse_scale", inverse, dims) }) }), z });
        string c = g.Node("Max", new[] { g.Node("Min", new[] { q, g.Scalar("qmax", grid.Range.Max) }), g.Scalar("qmin", grid.Range.Min) });
        string y = codes ? c : g.Node("Mul", new[] { g.Node("Sub", new[] { c, z }), g.Floats("scale", scale, dims) });
        return g.Node("Where", new[] { g.Node("IsNaN", new[] { x }), x, y }); // NaN stays NaN
    }

    /// <summary>Half to even (ONNX Round), or away from zero: exact ties (u - floor(u) = 0.5) move away from zero.</summary>
    private static string RoundWith(OnnxGraph g, string u, MidpointRounding midpoint)
    {
        string even = g.Node("Round", new[] { u });
        if (midpoint == MidpointRounding.ToEven)
        {
            return even;
        }

        string half = g.Scalar("half", 0.5f);
        string tie = g.Node("Equal", new[] { g.Node("Sub", new[] { u, g.Node("Floor", new[] { u }) }), half });
        string away = g.Node("Add", new[] { u, g.Node("Mul", new[] { g.Node("Sign", new[] { u }), half }) });
        return g.Node("Where", new[] { tie, away, even });
    }

    /// <summary>Where the scaled value overflows but the input is finite, the input is returned unchanged (as in C#).</summary>
    private static string OverflowKeepsInput(OnnxGraph g, string x, string u, string y)
    {
        string overflow = g.Node("And", new[] { g.Node("IsInf", new[] { u }), g.Node("Not", new[] { g.Node("IsInf", new[] { x }) }) });
        return g.Node("Where", new[] { overflow, x, y });
    }
}
