using Microsoft.ML;
using MlRounding.Bridge;

namespace MlRounding;

/// <summary>Options of <see cref="ImputationCatalog.ImputeMissingValues(TransformsCatalog, MissingValueImputingOptions)"/>.</summary>
public sealed class MissingValueImputingOptions
{
    /// <summary>Gets or sets the name of the output column.</summary>
    public required string OutputColumnName { get; set; }

    /// <summary>Gets or sets the name of the input column, a known-size vector of Single; null means the output column's name.</summary>
    public string? InputColumnName { get; set; }

    /// <summary>
    /// Gets or sets the ridge penalty of each regression, relative to each predictor's own sum of squares (so it does not
    /// depend on the columns' scales), in [0, 1e6]. Default 0.001: a least-squares fit kept stable when slots are collinear.
    /// </summary>
    public double Ridge { get; set; } = 0.001;
}

/// <summary><c>ImputeMissingValues</c> on ML.NET's transforms catalog (<c>mlContext.Transforms</c>).</summary>
public static class ImputationCatalog
{
    /// <summary>
    /// Imputes the missing values (NaN) of a known-size vector column of Single from each row's other slots: a ridge
    /// regression per slot that had gaps in training, the training mean for the others (see <see cref="MissingValueImputingTransformer"/>).
    /// </summary>
    /// <param name="catalog">mlContext.Transforms.</param>
    /// <param name="outputColumnName">The column to write, of the input's type.</param>
    /// <param name="inputColumnName">The column to read; null means <paramref name="outputColumnName"/>.</param>
    /// <returns>The estimator.</returns>
    public static MissingValueImputingEstimator ImputeMissingValues(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null) =>
        catalog.ImputeMissingValues(new MissingValueImputingOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName });

    /// <summary>Imputes the missing values of a known-size vector column of Single, with options.</summary>
    /// <param name="catalog">mlContext.Transforms.</param>
    /// <param name="options">The options.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The ridge penalty is out of range.</exception>
    public static MissingValueImputingEstimator ImputeMissingValues(this TransformsCatalog catalog, MissingValueImputingOptions options) =>
        new(CatalogEnvironment.Of(catalog), options);
}
