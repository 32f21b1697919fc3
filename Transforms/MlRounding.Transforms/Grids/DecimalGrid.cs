using Microsoft.ML;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.ML.Data;

namespace MlRounding;

/// <summary>Rounding to <see cref="Decimals"/> decimal places (negative: tens, hundreds, ...), as the ops library's <c>Rounding.RoundDecimals</c> (bit for bit).</summary>
public sealed class DecimalGrid : RoundingGrid
{
    /// <summary>Creates the grid.</summary>
    /// <param name="decimals">Decimal places, -8 to 8.</param>
    /// <param name="midpoint">ToEven or AwayFromZero.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    public DecimalGrid(int decimals, MidpointRounding midpoint = MidpointRounding.ToEven)
    {
        Check.Decimals(decimals);
        Check.Midpoint(midpoint);

        Decimals = decimals;
        Midpoint = midpoint;
    }

    /// <summary>Gets the number of decimal places.</summary>
    public int Decimals { get; }

    /// <summary>Gets the midpoint rule.</summary>
    public MidpointRounding Midpoint { get; }

    /// <inheritdoc/>
    public override string Kind => "decimals";

    internal override bool PreservesZero => true;

    internal override SpanRounder<T> CreateRounder<T>(bool codes) => new UniformRounder<T, Op<T>>(new Op<T>(this));

    private readonly struct Op<T> : IElementOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T _p;
        private readonly bool _multiply;
        private readonly MidpointRounding _midpoint;

        public Op(DecimalGrid grid)
        {
            (_p, _multiply, _midpoint) = (T.CreateTruncating(Math.Pow(10, Math.Abs(grid.Decimals))), grid.Decimals >= 0, grid.Midpoint);
        }

        public int Prefix(ReadOnlySpan<T> src, Span<T> dst) => typeof(T) == typeof(float) && GridKernels.Enabled
            ? GridKernels.Decimals(MemoryMarshal.Cast<T, float>(src), MemoryMarshal.Cast<T, float>(dst), float.CreateTruncating(_p), _multiply, _midpoint == MidpointRounding.AwayFromZero)
            : 0;

        public T Apply(T x)
        {
            T u = _multiply ? x * _p : x / _p;
            T r = RoundWith(u, _midpoint);
            T y = _multiply ? r / _p : r * _p;
            return !T.IsFinite(u) && T.IsFinite(x) ? x : y;
        }
    }

    internal override void Annotate(DataViewSchema.Annotations.Builder builder)
    {
        AddText(builder, RoundingAnnotations.Grid, Kind);
        AddScalar(builder, RoundingAnnotations.Decimals, NumberDataViewType.Int32, Decimals);
        AddScalar(builder, RoundingAnnotations.Step, NumberDataViewType.Double, Math.Pow(10, -Decimals));
        AddScalar(builder, RoundingAnnotations.Offset, NumberDataViewType.Double, 0.0);
        AddText(builder, RoundingAnnotations.Midpoint, Midpoint.ToString());
    }

    internal override void WriteFields(BinaryWriter writer)
    {
        writer.Write(Decimals);
        writer.Write((byte)Midpoint);
    }
}
