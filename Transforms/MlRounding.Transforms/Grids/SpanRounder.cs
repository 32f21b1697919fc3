using System.Numerics;

namespace MlRounding;

/// <summary>
/// A grid's rounding specialised for one element type: one virtual call per row, tight loops inside (the grids'
/// generic <c>Apply</c> would be a generic virtual call per element).
/// </summary>
internal abstract class SpanRounder<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rounds one value of slot <paramref name="slot"/>.</summary>
    public abstract T One(T x, int slot);

    /// <summary>Rounds a dense vector: dst[i] = f(src[i]) for slot i.</summary>
    public abstract void Dense(ReadOnlySpan<T> src, Span<T> dst);

    /// <summary>Rounds the explicit values of a sparse vector, each of slot indices[k].</summary>
    public void Sparse(ReadOnlySpan<T> values, ReadOnlySpan<int> indices, Span<T> dst)
    {
        for (int k = 0; k < values.Length; k++)
        {
            dst[k] = One(values[k], indices[k]);
        }
    }
}

/// <summary>A rounder built from a per-element function that ignores the slot.</summary>
internal sealed class UniformRounder<T, TOp> : SpanRounder<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TOp : struct, IElementOp<T>
{
    private readonly TOp _op;

    public UniformRounder(TOp op) => _op = op;

    public override T One(T x, int slot) => _op.Apply(x);

    public override void Dense(ReadOnlySpan<T> src, Span<T> dst)
    {
        TOp op = _op;
        int i = op.Prefix(src, dst);
        for (; i < src.Length; i++)
        {
            dst[i] = op.Apply(src[i]);
        }
    }
}

/// <summary>An element-wise function, as a struct so that loops over it are specialised and inlined.</summary>
internal interface IElementOp<T>
{
    /// <summary>The function on one value.</summary>
    T Apply(T x);

    /// <summary>A SIMD pass over a leading part of <paramref name="src"/> (float32 only); returns how many elements it did.</summary>
    int Prefix(ReadOnlySpan<T> src, Span<T> dst);
}
