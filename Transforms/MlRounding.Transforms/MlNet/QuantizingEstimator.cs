using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MlRounding;

/// <summary>
/// Learns an affine integer grid (scale and zero point, per column or per vector slot) for each column in
/// <see cref="Fit"/>, streaming the data once, and returns a <see cref="RoundingTransformer"/> that outputs the
/// dequantized values (and optionally the integer codes). Create it with
/// <see cref="RoundingCatalog.Quantize(TransformsCatalog, string, string?, int, bool, bool, QuantizeCalibration)"/>.
/// </summary>
public sealed class QuantizingEstimator : IEstimator<RoundingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly QuantizeOptions[] _options;

    internal QuantizingEstimator(IHostEnvironment env, IEnumerable<QuantizeOptions> options)
    {
        _env = env;
        _options = options.ToArray();
        if (_options.Length == 0)
        {
            throw new ArgumentException("At least one column is required.", nameof(options));
        }
    }

    /// <summary>Calibrates every column on <paramref name="input"/> and returns the transformer.</summary>
    /// <param name="input">The data; read once, up to <see cref="QuantizeOptions.MaximumExampleCount"/> rows per column.</param>
    /// <returns>The transformer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidOperationException">A column (or slot) has no finite values.</exception>
    public RoundingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var columns = new List<RoundingColumn>();
        foreach (var o in _options)
        {
            string inputName = o.InputColumnName ?? o.OutputColumnName;
            var column = ColumnTypes.Find(input.Schema, inputName, 0);
            if (o.PerSlot && column.Type is not Microsoft.ML.Data.VectorDataViewType { IsKnownSize: true })
            {
                throw ColumnTypes.Mismatch("input", inputName, "known-size vector of Single or Double (PerSlot)", column.Type.ToString());
            }

            columns.Add(new RoundingColumn(o.OutputColumnName, inputName, QuantizationCalibrator.Fit(input, column, o), o.CodesColumnName));
        }

        return new RoundingTransformer(_env, columns);
    }

    /// <summary>The output schema shape for <paramref name="inputSchema"/>.</summary>
    /// <param name="inputSchema">The input schema shape.</param>
    /// <returns>The output schema shape.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        // The grid's parameters are only known after Fit; its annotations are shaped like any affine grid's.
        var placeholder = new AffineGrid(8, QuantizationRange.FromBits(8, false), new[] { 1.0 }, new[] { 0L });
        var columns = _options.Select(o => new RoundingColumn(o.OutputColumnName, o.InputColumnName ?? o.OutputColumnName, placeholder, o.CodesColumnName)).ToList();
        var perSlot = _options.Where(o => o.PerSlot).Select(o => o.OutputColumnName).ToHashSet();
        return OutputShapes.Of(inputSchema, columns, c => perSlot.Contains(c.OutputColumnName));
    }
}
