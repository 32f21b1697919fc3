// Shared source (see Check.cs): compiled into MlRounding.Ops and MlRounding.Transforms. The one definition of learned
// step size quantization; LsqKernel (MlRounding.Ops) is its vectorized specialization, tested lane for lane against it.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace MlRounding;

/// <summary>
/// Learned step size quantization (LSQ, Esser et al. 2019) of one value, in one of two forms:
/// <list type="bullet">
/// <item>divided (the quantization-aware trainer, and the scorer's activation codes): v = x / s, the code r = round(v)
/// (half to even; sign(v) with 0 counted as +1 for binary weights), the value clamp(r, min, max) · s;</item>
/// <item>affine (the public op <c>Rounding.LearnedStepSize</c>, LibTorch's learnable fake quantization, with a zero point
/// z): v = x · (1/s) with 1/s rounded to T first, the code q = r + z, the value (clamp(q, min, max) - z) · s; NaN stays NaN.</item>
/// </list>
/// The trainer's other estimators (sigmoid, soft round, ...) compute the divided form's values with tensor ops, since
/// their gradients are autograd's through the ops library's surrogates (Quantizer.forward).
/// The two forms differ on purpose: the op matches LibTorch's kernel bit for bit, which multiplies by the reciprocal; the trainer
/// divides (correctly rounded), as every model it has written was trained and validated with.
/// Gradients (LSQ's): dx = dy where the code is inside [min, max] (for binary, where min &lt;= v &lt;= max: the clipped
/// straight-through window), else 0; the step's term is r - v inside and clamp(q, min, max) - z outside; the zero
/// point's is 0 inside and -s outside. With ReLU (the trainer's activations) x is max(x, 0) first and dx is 0 where x &lt;= 0.
/// The zero dx differs in sign between the forms, each as its reference computes it: the affine form multiplies dy by
/// the 0/1 mask, as LibTorch's fake-quantization kernels do (-0 where dy &lt; 0); the divided form selects 0, as autograd's
/// clamp does in the trainer's composite path (+0).
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
internal readonly struct LsqGrid<T> where T : IFloatingPointIeee754<T>
{
    private LsqGrid(T step, T inverse, T zero, T min, T max, bool affine) =>
        (Step, Inverse, Zero, Min, Max, Affine) = (step, inverse, zero, min, max, affine);

    /// <summary>Gets the step s.</summary>
    public T Step { get; }

    /// <summary>Gets 1 / s rounded to T (used by the affine form).</summary>
    public T Inverse { get; }

    /// <summary>Gets the zero point z (0 in the divided form).</summary>
    public T Zero { get; }

    /// <summary>Gets the smallest code.</summary>
    public T Min { get; }

    /// <summary>Gets the largest code.</summary>
    public T Max { get; }

    /// <summary>Gets a value indicating whether this is the affine form (v = x · (1/s), codes r + z).</summary>
    public bool Affine { get; }

    /// <summary>The divided form: v = x / s, no zero point.</summary>
    public static LsqGrid<T> Divided(T step, T min, T max) => new(step, T.One / step, T.Zero, min, max, affine: false);

    /// <summary>The affine form with a zero point: v = x · (1/s), codes r + z.</summary>
    public static LsqGrid<T> AffineWith(T step, T zero, T min, T max) => new(step, T.One / step, zero, min, max, affine: true);

    /// <summary>v: x / s, or x · (1/s) in the affine form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Scaled(T x) => Affine ? x * Inverse : x / Step;

    /// <summary>The code before the zero point and the clamping: round(v), or sign(v) with 0 as +1 for binary weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Code(T v, bool binary) => binary ? (v >= T.Zero ? T.One : -T.One) : T.Round(v);

    /// <summary>The quantized value of x (see the type's remarks); with <paramref name="relu"/>, of max(x, 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Value(T x, bool relu = false, bool binary = false)
    {
        T r = Code(Scaled(relu ? T.Max(x, T.Zero) : x), binary);
        return Affine ? (T.IsNaN(x) ? x : (T.Clamp(r + Zero, Min, Max) - Zero) * Step) : T.Clamp(r, Min, Max) * Step;
    }

    /// <summary>The integer code clamp(r + z, min, max) of x (the divided form: clamp(r, min, max)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T ClampedCode(T x, bool relu = false, bool binary = false)
    {
        T r = Code(Scaled(relu ? T.Max(x, T.Zero) : x), binary);
        return T.Clamp(Affine ? r + Zero : r, Min, Max);
    }

    /// <summary>
    /// The gradients at x for an incoming dy: returns dx, and sets whether x is inside (the window of the gradient, below
    /// <paramref name="limit"/> in magnitude too) and the step's term (r - v inside, clamp(q) - z outside; not yet
    /// multiplied by dy).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Gradient(T x, T dy, bool relu, bool binary, T limit, out bool inside, out T stepTerm)
    {
        T v = Scaled(relu ? T.Max(x, T.Zero) : x);
        T r = Code(v, binary);
        T q = Affine ? r + Zero : r;
        T window = binary ? v : q;
        inside = window >= Min && window <= Max && T.Abs(x) < limit;
        stepTerm = inside ? r - v : (Affine ? T.Clamp(q, Min, Max) - Zero : T.Clamp(r, Min, Max));
        bool passes = inside && (!relu || x > T.Zero);
        return Affine ? dy * (passes ? T.One : T.Zero) : passes ? dy : T.Zero;
    }
}
