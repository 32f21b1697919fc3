using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Ops;

/// <summary>
/// Tensor arithmetic with numbers that keeps each LibTorch <see cref="Scalar"/> alive until the native call using it has
/// returned, then disposes it. TorchSharp 0.107 turns a number into a finalizable <see cref="Scalar"/> and hands only its
/// native pointer to LibTorch (<c>x - 0.5</c>, and the <c>alpha = 1</c> that <c>Tensor + Tensor</c> creates inside
/// <c>Tensor.add</c>); nothing keeps the managed object reachable during the call, so a garbage collection started by
/// another thread can finalize it and free the native scalar while LibTorch still reads it. Under allocation pressure
/// this ends in a LibTorch error ("Unknown scalar type", or an overflow check of <c>c10::Scalar::toFloat</c>; 111 in a
/// million operations in our reproduction, none with held scalars). Our code therefore never converts a number to a
/// Scalar implicitly and never adds with <c>+</c>; <c>ScalarArithmeticTests</c> scans the compiled assemblies for both.
/// TorchSharp does the same inside some of its own methods (<c>Tensor.square()</c> is <c>pow(2)</c>; <c>arange(start, stop)</c>
/// passes a step of 1), so the scan also follows each TorchSharp method we call into TorchSharp's own IL.
/// Each method computes exactly what the operator it replaces computes (the same LibTorch call with the same operands).
/// </summary>
internal static class ScalarArithmetic
{
    /// <summary>The <c>alpha = 1</c> of an addition (and the step of a range), held for the life of the process.</summary>
    internal static readonly Scalar One = 1.ToScalar();

    /// <summary>The exponent of <see cref="Squared"/>, held for the life of the process.</summary>
    private static readonly Scalar Two = 2.ToScalar();

    /// <summary><c>a + b</c>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><c>a + b</c>.</summary>
    public static Tensor Plus(this Tensor a, double b) => With(a, b, static (t, s) => t.add(s, One));

    /// <summary><c>b - a</c> (TorchSharp's <c>Scalar - Tensor</c>: <c>-a + b</c>).</summary>
    public static Tensor SubtractedFrom(this Tensor a, double b)
    {
        using var scope = NewDisposeScope();
        return a.negative().Plus(b).MoveToOuterDisposeScope();
    }

    /// <summary><c>a - b</c>.</summary>
    public static Tensor Minus(this Tensor a, double b) => With(a, b, static (t, s) => t.sub(s));

    /// <summary><c>a * b</c>.</summary>
    public static Tensor Times(this Tensor a, double b) => With(a, b, static (t, s) => t.mul(s));

    /// <summary><c>a / b</c>.</summary>
    public static Tensor Over(this Tensor a, double b) => With(a, b, static (t, s) => t.div(s));

    /// <summary><c>a.square()</c>, which TorchSharp computes as <c>a.pow(2)</c> with an unheld Scalar.</summary>
    public static Tensor Squared(this Tensor a) => a.pow(Two);

    /// <summary><c>a.clamp(min, max)</c>.</summary>
    public static Tensor ClampTo(this Tensor a, double min, double max)
    {
        using Scalar lo = min.ToScalar(), hi = max.ToScalar();
        return a.clamp(lo, hi);
    }

    /// <summary><c>a.clamp_min(min)</c>.</summary>
    public static Tensor ClampMin(this Tensor a, double min) => With(a, min, static (t, s) => t.clamp_min(s));

    /// <summary><c>a &gt;= b</c>.</summary>
    public static Tensor AtLeast(this Tensor a, double b) => With(a, b, static (t, s) => t.ge(s));

    /// <summary><c>a &lt;= b</c>.</summary>
    public static Tensor AtMost(this Tensor a, double b) => With(a, b, static (t, s) => t.le(s));

    /// <summary><c>a &lt; b</c>.</summary>
    public static Tensor Below(this Tensor a, double b) => With(a, b, static (t, s) => t.lt(s));

    /// <summary><c>a &gt; b</c>.</summary>
    public static Tensor Above(this Tensor a, double b) => With(a, b, static (t, s) => t.gt(s));

    /// <summary><c>a == b</c> element-wise.</summary>
    public static Tensor EqualTo(this Tensor a, double b) => With(a, b, static (t, s) => t.eq(s));

    /// <summary>Applies <paramref name="op"/> to <paramref name="a"/> and <paramref name="value"/> as a Scalar that lives until the call has returned.</summary>
    private static Tensor With(Tensor a, double value, Func<Tensor, Scalar, Tensor> op)
    {
        using Scalar s = value.ToScalar();
        return op(a, s);
    }
}
