namespace MlRounding;

/// <summary>One column of a <see cref="RoundingTransformer"/>: the input it reads, the grid, and the outputs it writes.</summary>
public sealed class RoundingColumn
{
    /// <summary>Describes a column.</summary>
    /// <param name="outputColumnName">Name of the rounded (or dequantized) output column.</param>
    /// <param name="inputColumnName">Name of the input column.</param>
    /// <param name="grid">The grid the values are rounded to.</param>
    /// <param name="codesColumnName">Name of an extra output column holding the integer codes (affine grids), or null.</param>
    public RoundingColumn(string outputColumnName, string inputColumnName, RoundingGrid grid, string? codesColumnName = null)
    {
        (OutputColumnName, InputColumnName, Grid, CodesColumnName) = (outputColumnName, inputColumnName, grid, codesColumnName);
    }

    /// <summary>Gets the name of the rounded (or dequantized) output column.</summary>
    public string OutputColumnName { get; }

    /// <summary>Gets the name of the input column.</summary>
    public string InputColumnName { get; }

    /// <summary>Gets the grid the values are rounded to.</summary>
    public RoundingGrid Grid { get; }

    /// <summary>Gets the name of an extra output column holding the integer codes (affine grids), or null.</summary>
    public string? CodesColumnName { get; }
}
