using System.Numerics;
using System.Runtime.Intrinsics;

namespace MlRounding.Kernels;

/// <summary>
/// The vectorized specialization of <see cref="LsqGrid{T}"/> over one step's values (a row of a weight matrix, an
/// activation batch, a channel): the same operations in the same order, lane for lane, float32 (8 lanes) or float64 (4
/// lanes); the tails call <see cref="LsqGrid{T}"/> itself. The quantization-aware trainer (divided form) and the public
/// op <c>Rounding.LearnedStepSize</c> (affine form) both run on it: the library's one LSQ.
/// </summary>
internal static class LsqKernel
{
    /// <summary>y = the quantized values of x (<see cref="LsqGrid{T}.Value"/>); y may be x's memory.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, in LsqGrid<T> grid, bool relu = false, bool binary = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = new Lanes<T>(grid);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var raw = Vector256.Create(x.Slice(i, Vector256<T>.Count));
                var r = Code(lanes.Scaled(relu ? Vector256.Max(raw, Vector256<T>.Zero) : raw), binary);
                var value = grid.Affine
                    ? Vector256.ConditionalSelect(Vector256.Equals(raw, raw), (Vector256.Min(Vector256.Max(r + lanes.Zero, lanes.Min), lanes.Max) - lanes.Zero) * lanes.Step, raw)
                    : Vector256.Min(Vector256.Max(r, lanes.Min), lanes.Max) * lanes.Step;
                value.CopyTo(y.Slice(i, Vector256<T>.Count));
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = grid.Value(x[i], relu, binary);
        }
    }

    /// <summary>
    /// dx (<see cref="LsqGrid{T}.Gradient"/>; dx may be dy's memory: each element of dy is read before dx is written
    /// there); returns Σ dy · (the step's term) and Σ dy over the values outside the grid (the zero point's gradient is
    /// -s times that; 0 in the divided form, which has none), both summed in lanes of T, then in float64.
    /// </summary>
    public static (double Step, double Outside) Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, in LsqGrid<T> grid, bool relu = false, bool binary = false, T? limit = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T below = limit ?? T.PositiveInfinity;
        double step = 0, outside = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = new Lanes<T>(grid);
            bool bounded = limit is not null; // only binary weights whose step is their largest |w|
            var vbelow = Vector256.Create(below);
            Vector256<T> accStep = Vector256<T>.Zero, accOutside = Vector256<T>.Zero;
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var raw = Vector256.Create(x.Slice(i, Vector256<T>.Count));
                var v = lanes.Scaled(relu ? Vector256.Max(raw, Vector256<T>.Zero) : raw);
                var r = Code(v, binary);
                var q = grid.Affine ? r + lanes.Zero : r;
                var g = Vector256.Create(dy.Slice(i, Vector256<T>.Count));
                var window = binary ? v : q;
                var inside = Vector256.GreaterThanOrEqual(window, lanes.Min) & Vector256.LessThanOrEqual(window, lanes.Max);
                if (bounded)
                {
                    inside &= Vector256.LessThan(Vector256.Abs(raw), vbelow);
                }

                var passes = relu ? inside & Vector256.GreaterThan(raw, Vector256<T>.Zero) : inside;
                (grid.Affine ? g * (passes & Vector256<T>.One) : Vector256.ConditionalSelect(passes, g, Vector256<T>.Zero)).CopyTo(dx.Slice(i, Vector256<T>.Count));
                var clamped = Vector256.Min(Vector256.Max(q, lanes.Min), lanes.Max);
                accStep += g * Vector256.ConditionalSelect(inside, r - v, grid.Affine ? clamped - lanes.Zero : clamped);
                if (grid.Affine)
                {
                    accOutside += Vector256.ConditionalSelect(inside, Vector256<T>.Zero, g);
                }
            }

            step = double.CreateTruncating(Vector256.Sum(accStep));
            outside = double.CreateTruncating(Vector256.Sum(accOutside));
        }

        for (; i < x.Length; i++)
        {
            T g = dy[i];
            dx[i] = grid.Gradient(x[i], g, relu, binary, below, out bool inside, out T term);
            step += double.CreateTruncating(g) * double.CreateTruncating(term);
            outside += inside || !grid.Affine ? 0 : double.CreateTruncating(g);
        }

        return (step, outside);
    }

    /// <summary>The lanes of <see cref="LsqGrid{T}.Code"/>: round half to even, or sign with 0 as +1.</summary>
    private static Vector256<T> Code<T>(Vector256<T> v, bool binary) => binary
        ? Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<T>.Zero), Vector256<T>.One, -Vector256<T>.One)
        : RoundingRules.RoundHalfToEven(v);

    /// <summary>The grid's parameters broadcast to lanes.</summary>
    private readonly struct Lanes<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly Vector256<T> Step, Inverse, Zero, Min, Max;
        private readonly bool _affine;

        public Lanes(in LsqGrid<T> grid)
        {
            Step = Vector256.Create(grid.Step);
            Inverse = Vector256.Create(grid.Inverse);
            Zero = Vector256.Create(grid.Zero);
            Min = Vector256.Create(grid.Min);
            Max = Vector256.Create(grid.Max);
            _affine = grid.Affine;
        }

        public Vector256<T> Scaled(Vector256<T> x) => _affine ? x * Inverse : x / Step;
    }
}
