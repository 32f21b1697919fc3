using Microsoft.ML;
using MlRounding.Bridge;

namespace MlRounding;

/// <summary>
/// Rounding and quantization as ML.NET pipeline steps: extension methods on <c>mlContext.Transforms</c>. Each method
/// has a plain-argument form, a form for several column pairs, and an options form. Runnable sample:
/// <c>Samples/Mlround</c> (see README, "ML.NET transforms").
/// </summary>
public static class RoundingCatalog
{
    /// <summary>Rounds a column to <paramref name="decimals"/> decimal places (negative: tens, hundreds, ...).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the output column; same type and shape as the input.</param>
    /// <param name="inputColumnName">Name of the input column (Single or Double, scalar or vector); null means <paramref name="outputColumnName"/>.</param>
    /// <param name="decimals">Decimal places, -8 to 8.</param>
    /// <param name="midpoint">ToEven (default) or AwayFromZero.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static RoundingEstimator Round(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null, int decimals = 0, MidpointRounding midpoint = MidpointRounding.ToEven) =>
        catalog.CheckDecimals(decimals, midpoint).Round(new RoundOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName, Decimals = decimals, Midpoint = midpoint });

    /// <summary>Rounds several columns to <paramref name="decimals"/> decimal places.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">Output and input column pairs.</param>
    /// <param name="decimals">Decimal places, -8 to 8.</param>
    /// <param name="midpoint">ToEven (default) or AwayFromZero.</param>
    /// <returns>The estimator.</returns>
    public static RoundingEstimator Round(this TransformsCatalog catalog, InputOutputColumnPair[] columns, int decimals = 0, MidpointRounding midpoint = MidpointRounding.ToEven) =>
        catalog.CheckDecimals(decimals, midpoint).Round(Pairs(columns).Select(p => new RoundOptions { OutputColumnName = p.Output, InputColumnName = p.Input, Decimals = decimals, Midpoint = midpoint }).ToArray());

    /// <summary>Rounds columns to decimal places, one <see cref="RoundOptions"/> per column.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The columns and their options.</param>
    /// <returns>The estimator.</returns>
    public static RoundingEstimator Round(this TransformsCatalog catalog, params RoundOptions[] options)
    {
        CheckOptions(options);
        foreach (var o in options)
        {
            Check.Decimals(o.Decimals, nameof(RoundOptions.Decimals));
            Check.Midpoint(o.Midpoint, nameof(RoundOptions.Midpoint));
        }

        var columns = options.Select(o => new RoundingColumn(Output(o.OutputColumnName), o.InputColumnName ?? o.OutputColumnName, new DecimalGrid(o.Decimals, o.Midpoint)));
        return new RoundingEstimator(CatalogEnvironment.Of(catalog), columns.ToArray());
    }

    /// <summary>Rounds a column to the grid <paramref name="offset"/> + k <paramref name="step"/>.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the output column; same type and shape as the input.</param>
    /// <param name="inputColumnName">Name of the input column (Single or Double, scalar or vector); null means <paramref name="outputColumnName"/>.</param>
    /// <param name="step">Grid spacing, in [1e-30, 1e30].</param>
    /// <param name="offset">A grid point; finite.</param>
    /// <param name="midpoint">ToEven (default) or AwayFromZero.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static RoundingEstimator RoundToStep(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null, double step = 1.0, double offset = 0.0, MidpointRounding midpoint = MidpointRounding.ToEven) =>
        catalog.CheckStep(step, offset, midpoint).RoundToStep(new RoundToStepOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName, Step = step, Offset = offset, Midpoint = midpoint });

    /// <summary>Rounds several columns to the grid <paramref name="offset"/> + k <paramref name="step"/>.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">Output and input column pairs.</param>
    /// <param name="step">Grid spacing, in [1e-30, 1e30].</param>
    /// <param name="offset">A grid point; finite.</param>
    /// <param name="midpoint">ToEven (default) or AwayFromZero.</param>
    /// <returns>The estimator.</returns>
    public static RoundingEstimator RoundToStep(this TransformsCatalog catalog, InputOutputColumnPair[] columns, double step = 1.0, double offset = 0.0, MidpointRounding midpoint = MidpointRounding.ToEven) =>
        catalog.CheckStep(step, offset, midpoint).RoundToStep(Pairs(columns).Select(p => new RoundToStepOptions { OutputColumnName = p.Output, InputColumnName = p.Input, Step = step, Offset = offset, Midpoint = midpoint }).ToArray());

    /// <summary>Rounds columns to step grids, one <see cref="RoundToStepOptions"/> per column.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The columns and their options.</param>
    /// <returns>The estimator.</returns>
    public static RoundingEstimator RoundToStep(this TransformsCatalog catalog, params RoundToStepOptions[] options)
    {
        CheckOptions(options);
        foreach (var o in options)
        {
            Check.Step(o.Step, o.Offset, o.Midpoint, nameof(RoundToStepOptions.Step), nameof(RoundToStepOptions.Offset), nameof(RoundToStepOptions.Midpoint));
        }

        var columns = options.Select(o => new RoundingColumn(Output(o.OutputColumnName), o.InputColumnName ?? o.OutputColumnName, new StepGrid(o.Step, o.Offset, o.Midpoint)));
        return new RoundingEstimator(CatalogEnvironment.Of(catalog), columns.ToArray());
    }

    /// <summary>Quantizes a column to <paramref name="bits"/>-bit integer codes with a scale and zero point learned in <c>Fit</c>; outputs the dequantized values.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the output column; same type and shape as the input.</param>
    /// <param name="inputColumnName">Name of the input column (Single or Double, scalar or vector); null means <paramref name="outputColumnName"/>.</param>
    /// <param name="bits">Bits of the codes, 2 to 16.</param>
    /// <param name="symmetric">Signed codes symmetric about zero (zero point 0) rather than unsigned codes fitted to [min, max].</param>
    /// <param name="perSlot">One scale and zero point per slot of a known-size vector.</param>
    /// <param name="calibration">How the range is chosen.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static QuantizingEstimator Quantize(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null, int bits = 8, bool symmetric = false, bool perSlot = false, QuantizeCalibration calibration = QuantizeCalibration.MinMax) =>
        catalog.CheckBits(bits).Quantize(new QuantizeOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName, Bits = bits, Symmetric = symmetric, PerSlot = perSlot, Calibration = calibration });

    /// <summary>Quantizes several columns with the same settings (each column gets its own scale and zero point).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">Output and input column pairs.</param>
    /// <param name="bits">Bits of the codes, 2 to 16.</param>
    /// <param name="symmetric">Signed codes symmetric about zero.</param>
    /// <param name="perSlot">One scale and zero point per vector slot.</param>
    /// <param name="calibration">How the range is chosen.</param>
    /// <returns>The estimator.</returns>
    public static QuantizingEstimator Quantize(this TransformsCatalog catalog, InputOutputColumnPair[] columns, int bits = 8, bool symmetric = false, bool perSlot = false, QuantizeCalibration calibration = QuantizeCalibration.MinMax) =>
        catalog.CheckBits(bits).Quantize(Pairs(columns).Select(p => new QuantizeOptions { OutputColumnName = p.Output, InputColumnName = p.Input, Bits = bits, Symmetric = symmetric, PerSlot = perSlot, Calibration = calibration }).ToArray());

    /// <summary>Quantizes columns, one <see cref="QuantizeOptions"/> per column.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The columns and their options.</param>
    /// <returns>The estimator.</returns>
    public static QuantizingEstimator Quantize(this TransformsCatalog catalog, params QuantizeOptions[] options)
    {
        CheckOptions(options);
        foreach (var o in options)
        {
            Output(o.OutputColumnName);
            if (o.Bits < QuantizationRange.MinBits || o.Bits > QuantizationRange.MaxBits)
            {
                throw new ArgumentOutOfRangeException(nameof(QuantizeOptions.Bits), o.Bits, $"Bits must be in [{QuantizationRange.MinBits}, {QuantizationRange.MaxBits}].");
            }

            if (!Enum.IsDefined(o.Calibration))
            {
                throw new ArgumentOutOfRangeException(nameof(QuantizeOptions.Calibration), o.Calibration, "Calibration must be MinMax or Percentile.");
            }

            if (!(o.Percentile > 50 && o.Percentile <= 100))
            {
                throw new ArgumentOutOfRangeException(nameof(QuantizeOptions.Percentile), o.Percentile, "Percentile must be in (50, 100].");
            }

            if (o.MaximumExampleCount < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(QuantizeOptions.MaximumExampleCount), o.MaximumExampleCount, "MaximumExampleCount must be positive.");
            }

            if (o.CodesColumnName is { Length: 0 })
            {
                throw new ArgumentOutOfRangeException(nameof(QuantizeOptions.CodesColumnName), "CodesColumnName must be null or a name.");
            }
        }

        return new QuantizingEstimator(CatalogEnvironment.Of(catalog), options);
    }

    // The plain-argument overloads check their arguments under the arguments' names, the Options overloads under the
    // options' property names; both then build the same estimator.
    private static TransformsCatalog CheckDecimals(this TransformsCatalog catalog, int decimals, MidpointRounding midpoint)
    {
        Check.Decimals(decimals);
        Check.Midpoint(midpoint);
        return catalog;
    }

    private static TransformsCatalog CheckStep(this TransformsCatalog catalog, double step, double offset, MidpointRounding midpoint)
    {
        Check.Step(step, offset, midpoint);
        return catalog;
    }

    private static TransformsCatalog CheckBits(this TransformsCatalog catalog, int bits)
    {
        QuantizationRange.FromBits(bits, signed: false);
        return catalog;
    }

    private static void CheckOptions<T>(T[] options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Length == 0 || options.Any(o => o is null))
        {
            throw new ArgumentException("At least one column, and no null entries, are required.", nameof(options));
        }
    }

    private static string Output(string name) => string.IsNullOrEmpty(name)
        ? throw new ArgumentException("The output column name must not be empty.", "outputColumnName")
        : name;

    private static IEnumerable<(string Output, string Input)> Pairs(InputOutputColumnPair[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        return columns.Select(c => (c.OutputColumnName, c.InputColumnName));
    }
}
