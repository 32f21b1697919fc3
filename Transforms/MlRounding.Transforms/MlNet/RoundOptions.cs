namespace MlRounding;

/// <summary>Options of <see cref="RoundingCatalog.Round(Microsoft.ML.TransformsCatalog, RoundOptions[])"/> for one column.</summary>
public sealed class RoundOptions
{
    /// <summary>Gets or sets the name of the output column.</summary>
    public required string OutputColumnName { get; set; }

    /// <summary>Gets or sets the name of the input column; null means the output column's name.</summary>
    public string? InputColumnName { get; set; }

    /// <summary>Gets or sets the number of decimal places, -8 to 8 (negative: tens, hundreds, ...). Default 0.</summary>
    public int Decimals { get; set; }

    /// <summary>Gets or sets the midpoint rule: ToEven (default) or AwayFromZero.</summary>
    public MidpointRounding Midpoint { get; set; } = MidpointRounding.ToEven;
}

/// <summary>Options of <see cref="RoundingCatalog.RoundToStep(Microsoft.ML.TransformsCatalog, RoundToStepOptions[])"/> for one column.</summary>
public sealed class RoundToStepOptions
{
    /// <summary>Gets or sets the name of the output column.</summary>
    public required string OutputColumnName { get; set; }

    /// <summary>Gets or sets the name of the input column; null means the output column's name.</summary>
    public string? InputColumnName { get; set; }

    /// <summary>Gets or sets the grid spacing, in [1e-30, 1e30]. Default 1.</summary>
    public double Step { get; set; } = 1;

    /// <summary>Gets or sets a grid point (the grid is Offset + k Step); finite. Default 0.</summary>
    public double Offset { get; set; }

    /// <summary>Gets or sets the midpoint rule: ToEven (default) or AwayFromZero.</summary>
    public MidpointRounding Midpoint { get; set; } = MidpointRounding.ToEven;
}

/// <summary>How <see cref="QuantizingEstimator"/> chooses the range it quantizes.</summary>
public enum QuantizeCalibration
{
    /// <summary>The smallest and largest finite values seen.</summary>
    MinMax,

    /// <summary>The (100 - p)-th and p-th percentiles of the finite values (p = <see cref="QuantizeOptions.Percentile"/>):
    /// robust to outliers, which then clamp to the grid ends.</summary>
    Percentile,
}

/// <summary>Options of <see cref="RoundingCatalog.Quantize(Microsoft.ML.TransformsCatalog, QuantizeOptions[])"/> for one column.</summary>
public sealed class QuantizeOptions
{
    /// <summary>Gets or sets the name of the output column (the dequantized values).</summary>
    public required string OutputColumnName { get; set; }

    /// <summary>Gets or sets the name of the input column; null means the output column's name.</summary>
    public string? InputColumnName { get; set; }

    /// <summary>Gets or sets the bits of the codes, 2 to 16. Default 8.</summary>
    public int Bits { get; set; } = 8;

    /// <summary>Gets or sets a value indicating whether the grid is symmetric about zero (signed codes, zero point 0)
    /// rather than fitted to [min, max] (unsigned codes with a zero point). Default false.</summary>
    public bool Symmetric { get; set; }

    /// <summary>Gets or sets a value indicating whether each slot of a known-size vector gets its own scale and zero point. Default false.</summary>
    public bool PerSlot { get; set; }

    /// <summary>Gets or sets a value indicating whether the lowest code is left unused (signed grids become symmetric, e.g. -127..127). Default false.</summary>
    public bool NarrowRange { get; set; }

    /// <summary>Gets or sets how the range is chosen. Default <see cref="QuantizeCalibration.MinMax"/>.</summary>
    public QuantizeCalibration Calibration { get; set; } = QuantizeCalibration.MinMax;

    /// <summary>Gets or sets p for <see cref="QuantizeCalibration.Percentile"/>, in (50, 100]. Default 99.99.</summary>
    public double Percentile { get; set; } = 99.99;

    /// <summary>Gets or sets the name of an extra output column with the integer codes (same type as the input), or null for none.</summary>
    public string? CodesColumnName { get; set; }

    /// <summary>Gets or sets the number of rows read to calibrate, positive. Default 1,000,000.</summary>
    public long MaximumExampleCount { get; set; } = 1_000_000;
}
