using Microsoft.ML;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.ML.Data;

namespace MlRounding;

/// <summary>Rounding to the grid <see cref="Offset"/> + k <see cref="Step"/>, as the ops library's <c>Rounding.RoundToStep</c> (bit for bit).</summary>
public sealed class StepGrid : RoundingGrid
{
    /// <summary>Creates the grid.</summary>
    /// <param name="step">Grid spacing, in [1e-30, 1e30].</param>
    /// <param name="offset">A grid point; finite.</param>
    /// <param name="midpoint">ToEven or AwayFromZero.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    public StepGrid(double step, double offset = 0, MidpointRounding midpoint = MidpointRounding.ToEven)
    {
        Check.Step(step, offset, midpoint);
        Step = step;
        Offset = offset;
        Midpoint = midpoint;
    }

    /// <summary>Gets the grid spacing.</summary>
    public double Step { get; }

    /// <summary>Gets the grid offset.</summary>
    public double Offset { get; }

    /// <summary>Gets the midpoint rule.</summary>
    public MidpointRounding Midpoint { get; }

    /// <inheritdoc/>
    public override string Kind => "step";

    internal override bool PreservesZero => Offset == 0;

    internal override SpanRounder<T> CreateRounder<T>(bool codes) => new UniformRounder<T, Op<T>>(new Op<T>(this));

    private readonly struct Op<T> : IElementOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T _step;
        private readonly T _offset;
        private readonly MidpointRounding _midpoint;

        public Op(StepGrid grid)
        {
            (_step, _offset, _midpoint) = (T.CreateTruncating(grid.Step), T.CreateTruncating(grid.Offset), grid.Midpoint);
        }

        public int Prefix(ReadOnlySpan<T> src, Span<T> dst) => typeof(T) == typeof(float) && GridKernels.Enabled
            ? GridKernels.Step(MemoryMarshal.Cast<T, float>(src), MemoryMarshal.Cast<T, float>(dst), float.CreateTruncating(_step), float.CreateTruncating(_offset), _midpoint == MidpointRounding.AwayFromZero)
            : 0;

        public T Apply(T x)
        {
            T u = (x - _offset) / _step;
            T y = RoundWith(u, _midpoint) * _step + _offset;
            return !T.IsFinite(u) && T.IsFinite(x) ? x : y;
        }
    }

    internal override void Annotate(DataViewSchema.Annotations.Builder builder)
    {
        AddText(builder, RoundingAnnotations.Grid, Kind);
        AddScalar(builder, RoundingAnnotations.Step, NumberDataViewType.Double, Step);
        AddScalar(builder, RoundingAnnotations.Offset, NumberDataViewType.Double, Offset);
        AddText(builder, RoundingAnnotations.Midpoint, Midpoint.ToString());
    }

    internal override void WriteFields(BinaryWriter writer)
    {
        writer.Write(Step);
        writer.Write(Offset);
        writer.Write((byte)Midpoint);
    }
}
