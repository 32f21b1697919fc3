using Microsoft.ML;
using System.Numerics;
using Microsoft.ML.Data;

namespace MlRounding;

/// <summary>
/// The grid a column is rounded to: <see cref="DecimalGrid"/> (N decimal places), <see cref="StepGrid"/>
/// (offset + k step) or <see cref="AffineGrid"/> (integer codes with a scale and zero point). Immutable.
/// </summary>
public abstract class RoundingGrid
{
    // The per-value rounders of Round(float) and Round(double), built once (an affine rounder converts its parameters).
    private SpanRounder<float>? _float;
    private SpanRounder<double>? _double;

    private protected RoundingGrid()
    {
    }

    /// <summary>Gets the kind of grid: "decimals", "step" or "affine" (the value of the <see cref="RoundingAnnotations.Grid"/> annotation).</summary>
    public abstract string Kind { get; }

    /// <summary>Gets the number of per-slot parameter sets (affine per-slot grids), or 0 when one set serves every slot.</summary>
    public virtual int SlotCount => 0;

    /// <summary>Gets a value indicating whether zero maps to zero, so sparse vectors stay sparse.</summary>
    internal abstract bool PreservesZero { get; }


    /// <summary>Rounds one float32 value, exactly as the transform and its TorchSharp module (<c>CreateModule</c> in MlRounding.Trainers) do.</summary>
    /// <param name="x">The value.</param>
    /// <param name="slot">Its vector slot (per-slot affine grids); ignored otherwise.</param>
    /// <returns>The rounded value.</returns>
    public float Round(float x, int slot = 0) => (_float ??= CreateRounder<float>(codes: false)).One(x, slot);

    /// <summary>Rounds one float64 value, exactly as the transform and its TorchSharp module (<c>CreateModule</c> in MlRounding.Trainers) do.</summary>
    /// <param name="x">The value.</param>
    /// <param name="slot">Its vector slot (per-slot affine grids); ignored otherwise.</param>
    /// <returns>The rounded value.</returns>
    public double Round(double x, int slot = 0) => (_double ??= CreateRounder<double>(codes: false)).One(x, slot);

    /// <summary>Writes the grid in the versioned binary form used inside model files (see <see cref="Read"/>).</summary>
    /// <param name="writer">The destination.</param>
    internal void Write(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ModelPayload.WriteGrid(writer, this);
    }

    /// <summary>Reads a grid written by <see cref="Write(BinaryWriter)"/>.</summary>
    /// <param name="reader">The source.</param>
    /// <returns>The grid.</returns>
    /// <exception cref="ModelFormatException">The bytes are not a valid grid.</exception>
    internal static RoundingGrid Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return ModelPayload.ReadGrid(reader, "grid");
    }


    /// <summary>This grid's rounding (or, with <paramref name="codes"/>, its integer codes) for element type T.</summary>
    internal abstract SpanRounder<T> CreateRounder<T>(bool codes) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Adds this grid's annotations.</summary>
    internal abstract void Annotate(DataViewSchema.Annotations.Builder builder);

    /// <summary>Writes the grid's fields (see <see cref="ModelPayload"/> for the format).</summary>
    internal abstract void WriteFields(BinaryWriter writer);

    /// <summary>Round with the given midpoint rule (<see cref="RoundingRules.Round{T}(T, MidpointRounding)"/>), as the ops library does.</summary>
    internal static T RoundWith<T>(T u, MidpointRounding midpoint) where T : unmanaged, IFloatingPointIeee754<T> => RoundingRules.Round(u, midpoint);

    internal static void AddScalar<T>(DataViewSchema.Annotations.Builder builder, string name, PrimitiveDataViewType type, T value) =>
        builder.Add(name, type, (ref T v) => v = value);

    internal static void AddText(DataViewSchema.Annotations.Builder builder, string name, string value) =>
        builder.Add(name, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = value.AsMemory());
}
