namespace MlRounding;

/// <summary>One column of a <see cref="RoundingTransformer"/>: the input it reads, the grid, and the outputs it writes.</summary>
/// <param name="OutputColumnName">Name of the rounded (or dequantized) output column.</param>
/// <param name="InputColumnName">Name of the input column.</param>
/// <param name="Grid">The grid the values are rounded to.</param>
/// <param name="CodesColumnName">Name of an extra output column holding the integer codes (affine grids), or null.</param>
public sealed record RoundingColumn(string OutputColumnName, string InputColumnName, RoundingGrid Grid, string? CodesColumnName = null);
