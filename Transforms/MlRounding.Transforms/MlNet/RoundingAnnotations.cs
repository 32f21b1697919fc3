namespace MlRounding;

/// <summary>
/// Names of the annotations that <see cref="RoundingTransformer"/> puts on its output columns, so that a downstream
/// trainer knows what grid its input was rounded to.
/// </summary>
public static class RoundingAnnotations
{
    /// <summary>Text: "decimals", "step" or "affine".</summary>
    public const string Grid = "MlRounding.Grid";

    /// <summary>Int32: decimal places (decimal grids).</summary>
    public const string Decimals = "MlRounding.Decimals";

    /// <summary>Double: grid spacing (decimal grids: 10^-decimals; step grids).</summary>
    public const string Step = "MlRounding.Step";

    /// <summary>Double: grid offset (decimal and step grids).</summary>
    public const string Offset = "MlRounding.Offset";

    /// <summary>Text: "ToEven" or "AwayFromZero" (decimal and step grids).</summary>
    public const string Midpoint = "MlRounding.Midpoint";

    /// <summary>Int32: bits of the codes (affine grids).</summary>
    public const string Bits = "MlRounding.Bits";

    /// <summary>Vector of Double: scale, one or one per slot (affine grids).</summary>
    public const string Scale = "MlRounding.Scale";

    /// <summary>Vector of Int64: zero point, one or one per slot (affine grids).</summary>
    public const string ZeroPoint = "MlRounding.ZeroPoint";

    /// <summary>Int64: smallest code (affine grids).</summary>
    public const string QuantizationMin = "MlRounding.QuantizationMin";

    /// <summary>Int64: largest code (affine grids).</summary>
    public const string QuantizationMax = "MlRounding.QuantizationMax";
}
