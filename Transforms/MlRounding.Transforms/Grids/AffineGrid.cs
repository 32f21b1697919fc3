using Microsoft.ML;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.ML.Data;

namespace MlRounding;

/// <summary>
/// Affine quantization: code q = clamp(round(x / scale) + zeroPoint, qmin, qmax), value (q - zeroPoint) scale, as
/// the ops library's <c>Rounding.FakeQuantize</c> (one parameter set) or <c>Rounding.FakeQuantizePerChannel</c> (one per
/// vector slot), bit for bit. NaN stays NaN; infinities clamp to the ends.
/// </summary>
public sealed class AffineGrid : RoundingGrid
{
    private readonly double[] _scales;
    private readonly long[] _zeroPoints;

    /// <summary>Creates the grid.</summary>
    /// <param name="bits">Bits of the codes, 2 to 16.</param>
    /// <param name="range">The integer codes [qmin, qmax].</param>
    /// <param name="scales">One scale, or one per slot; each in [1e-30, 1e30].</param>
    /// <param name="zeroPoints">Zero points, as many as scales, each in the range.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    /// <exception cref="ArgumentException">scales and zeroPoints differ in length or are empty.</exception>
    public AffineGrid(int bits, QuantizationRange range, IReadOnlyList<double> scales, IReadOnlyList<long> zeroPoints)
    {
        ArgumentNullException.ThrowIfNull(scales);
        ArgumentNullException.ThrowIfNull(zeroPoints);
        if (bits < QuantizationRange.MinBits || bits > QuantizationRange.MaxBits)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"bits must be in [{QuantizationRange.MinBits}, {QuantizationRange.MaxBits}].");
        }

        if (scales.Count == 0 || scales.Count != zeroPoints.Count)
        {
            throw new ArgumentException($"scales and zeroPoints must have the same, nonzero length (got {scales.Count} and {zeroPoints.Count}).", nameof(zeroPoints));
        }

        for (int i = 0; i < scales.Count; i++)
        {
            if (!(scales[i] >= RoundingLimits.MinScale && scales[i] <= RoundingLimits.MaxScale))
            {
                throw new ArgumentOutOfRangeException(nameof(scales), scales[i], $"scale {i} must be in [{RoundingLimits.MinScale:R}, {RoundingLimits.MaxScale:R}].");
            }

            Check.Range(range.Min, range.Max, zeroPoints[i], "range.Min", "range.Max", nameof(zeroPoints));
        }

        Bits = bits;
        Range = range;
        _scales = scales.ToArray();
        _zeroPoints = zeroPoints.ToArray();
    }

    /// <summary>
    /// The grid the <c>Quantize</c> transform fits to values in [<paramref name="min"/>, <paramref name="max"/>]:
    /// unsigned codes 0..2^bits - 1 over [min(min, 0), max(max, 0)] with the zero point that makes 0 exact, or with
    /// <paramref name="symmetric"/> signed codes with zero point 0 and scale max(|min|, |max|) / qmax.
    /// </summary>
    /// <param name="bits">Bits of the codes, 2 to 16.</param>
    /// <param name="min">The smallest value to represent; finite.</param>
    /// <param name="max">The largest value to represent; finite, at least <paramref name="min"/>.</param>
    /// <param name="symmetric">Signed codes symmetric about 0 instead of unsigned codes with a zero point.</param>
    /// <returns>The grid (one scale and zero point).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    public static AffineGrid FromRange(int bits, double min, double max, bool symmetric = false)
    {
        Check.Finite(min, nameof(min));
        Check.Finite(max, nameof(max));
        if (max < min)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"max must be at least min ({min}).");
        }

        var range = QuantizationRange.FromBits(bits, signed: symmetric);
        var (scale, zero) = ScaleAndZeroPoint(min, max, range, symmetric);
        return new AffineGrid(bits, range, new[] { scale }, new[] { zero });
    }

    /// <summary>
    /// Asymmetric: the range is widened to contain 0, scale = (hi - lo) / (qmax - qmin), zero point = qmin - round(lo / scale)
    /// (so 0 is exactly representable). Symmetric: scale = max(|lo|, |hi|) / qmax, zero point 0. A zero-width range gets scale 1.
    /// Scales are clamped to [<see cref="RoundingLimits.MinScale"/>, <see cref="RoundingLimits.MaxScale"/>]; an asymmetric range too wide
    /// for the largest scale is shrunk towards 0 in proportion (values beyond it saturate at the grid's ends).
    /// </summary>
    internal static (double Scale, long ZeroPoint) ScaleAndZeroPoint(double lo, double hi, QuantizationRange range, bool symmetric)
    {
        if (symmetric)
        {
            double amax = Math.Max(Math.Abs(lo), Math.Abs(hi));
            double s = amax > 0 ? amax / range.Max : 1;
            return (Math.Clamp(s, RoundingLimits.MinScale, RoundingLimits.MaxScale), 0);
        }

        lo = Math.Min(lo, 0);
        hi = Math.Max(hi, 0);
        if (!(hi > lo))
        {
            return (1, range.Min);
        }

        // Scales are bounded by RoundingLimits.MaxScale: a wider range (e.g. values near the float limits) is shrunk towards 0
        // in proportion, so both signs stay covered and the extremes saturate at the grid's ends. Halves avoid overflow.
        double halfWidth = hi * 0.5 - lo * 0.5;
        double maxHalfWidth = (range.Max - range.Min) * 0.5 * RoundingLimits.MaxScale;
        if (halfWidth > maxHalfWidth)
        {
            double shrink = maxHalfWidth / halfWidth;
            lo *= shrink;
            hi *= shrink;
        }

        double scale = Math.Clamp((hi - lo) / (range.Max - range.Min), RoundingLimits.MinScale, RoundingLimits.MaxScale);
        long zero = (long)Math.Clamp(Math.Round(range.Min - lo / scale), range.Min, range.Max);
        return (scale, zero);
    }

    /// <summary>Gets the number of bits of the codes.</summary>
    public int Bits { get; }

    /// <summary>Gets the integer codes [qmin, qmax].</summary>
    public QuantizationRange Range { get; }

    /// <summary>Gets the scales: one, or one per slot.</summary>
    public IReadOnlyList<double> Scales => _scales;

    /// <summary>Gets the zero points: one, or one per slot.</summary>
    public IReadOnlyList<long> ZeroPoints => _zeroPoints;

    /// <inheritdoc/>
    public override string Kind => "affine";

    /// <inheritdoc/>
    public override int SlotCount => _scales.Length == 1 ? 0 : _scales.Length;

    internal override bool PreservesZero => true; // zero maps to code z, i.e. to (z - z) s = 0

    internal override SpanRounder<T> CreateRounder<T>(bool codes) => new Rounder<T>(this, codes);

    /// <summary>
    /// The integer codes of <paramref name="values"/>, clamp(round(x / scale) + zero point, qmin, qmax), as the
    /// <c>Quantize</c> transform's codes column holds them (value i uses slot i's parameters when the grid is per slot);
    /// NaN stays NaN.
    /// </summary>
    /// <param name="values">The values: as many as the grid has slots, or any number for a single-scale grid.</param>
    /// <param name="codes">Where to write the codes (as floats); may be <paramref name="values"/> itself.</param>
    /// <exception cref="ArgumentException">The lengths differ, or do not match a per-slot grid.</exception>
    public void Codes(ReadOnlySpan<float> values, Span<float> codes)
    {
        if (codes.Length != values.Length || (SlotCount > 0 && values.Length != SlotCount))
        {
            throw new ArgumentException($"Expected {(SlotCount > 0 ? SlotCount : values.Length)} values and as many codes, got {values.Length} and {codes.Length}.", nameof(codes));
        }

        (_codes ??= CreateRounder<float>(codes: true)).Dense(values, codes);
    }

    private SpanRounder<float>? _codes;

    /// <summary>Per-slot (or single) parameters in the element type; 1/s is rounded to T first, as LibTorch does.</summary>
    private sealed class Rounder<T> : SpanRounder<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] _scale;
        private readonly T[] _inverse;
        private readonly T[] _zero;
        private readonly T _min;
        private readonly T _max;
        private readonly bool _codes;

        public Rounder(AffineGrid grid, bool codes)
        {
            _scale = grid._scales.Select(T.CreateTruncating).ToArray();
            _inverse = _scale.Select(s => T.One / s).ToArray();
            _zero = grid._zeroPoints.Select(T.CreateTruncating).ToArray();
            _min = T.CreateTruncating(grid.Range.Min);
            _max = T.CreateTruncating(grid.Range.Max);
            _codes = codes;
        }

        public override T One(T x, int slot)
        {
            int i = _scale.Length == 1 ? 0 : slot;
            return Quantize(x, _inverse[i], _scale[i], _zero[i]);
        }

        public override void Dense(ReadOnlySpan<T> src, Span<T> dst)
        {
            if (typeof(T) == typeof(float) && GridKernels.Enabled && (_scale.Length == 1 || _scale.Length == src.Length))
            {
                int done = GridKernels.Affine(
                    MemoryMarshal.Cast<T, float>(src), MemoryMarshal.Cast<T, float>(dst),
                    MemoryMarshal.Cast<T, float>(_inverse), MemoryMarshal.Cast<T, float>(_scale), MemoryMarshal.Cast<T, float>(_zero),
                    float.CreateTruncating(_min), float.CreateTruncating(_max), _codes);
                for (int i = done; i < src.Length; i++)
                {
                    dst[i] = One(src[i], i);
                }

                return;
            }

            if (_scale.Length == 1)
            {
                T inverse = _inverse[0], scale = _scale[0], zero = _zero[0];
                for (int i = 0; i < src.Length; i++)
                {
                    dst[i] = Quantize(src[i], inverse, scale, zero);
                }
            }
            else
            {
                for (int i = 0; i < src.Length; i++)
                {
                    dst[i] = Quantize(src[i], _inverse[i], _scale[i], _zero[i]);
                }
            }
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private T Quantize(T x, T inverse, T scale, T zero) => _codes
            ? RoundingRules.AffineCode(x, inverse, zero, _min, _max)
            : RoundingRules.FakeQuantize(x, inverse, scale, zero, _min, _max, out _);
    }

    internal override void Annotate(DataViewSchema.Annotations.Builder builder)
    {
        AddText(builder, RoundingAnnotations.Grid, Kind);
        AddScalar(builder, RoundingAnnotations.Bits, NumberDataViewType.Int32, Bits);
        AddScalar(builder, RoundingAnnotations.QuantizationMin, NumberDataViewType.Int64, Range.Min);
        AddScalar(builder, RoundingAnnotations.QuantizationMax, NumberDataViewType.Int64, Range.Max);
        double[] scales = _scales;
        long[] zeros = _zeroPoints;
        builder.Add(RoundingAnnotations.Scale, new VectorDataViewType(NumberDataViewType.Double, scales.Length),
            (ref VBuffer<double> v) => v = new VBuffer<double>(scales.Length, (double[])scales.Clone()));
        builder.Add(RoundingAnnotations.ZeroPoint, new VectorDataViewType(NumberDataViewType.Int64, zeros.Length),
            (ref VBuffer<long> v) => v = new VBuffer<long>(zeros.Length, (long[])zeros.Clone()));
    }

    internal override void WriteFields(BinaryWriter writer)
    {
        writer.Write(Bits);
        writer.Write(Range.Min);
        writer.Write(Range.Max);
        writer.Write(_scales.Length);
        foreach (double s in _scales)
        {
            writer.Write(s);
        }

        foreach (long z in _zeroPoints)
        {
            writer.Write(z);
        }
    }
}
