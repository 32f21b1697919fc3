namespace MlRounding.Ops;

/// <summary>
/// Differentiable rounding: functions on TorchSharp tensors whose forward pass rounds and whose backward
/// pass returns a chosen surrogate gradient. Every function accepts float32 and float64 tensors of any shape
/// and returns a new tensor of the same type and shape.
/// </summary>
/// <remarks>
/// <para>Midpoint rule: everywhere rounding is half to even (IEEE 754 default, as <c>torch.round</c>,
/// <see cref="MathF.Round(float)"/>, ONNX <c>Round</c> and <c>QuantizeLinear</c>), except where an op takes a
/// <see cref="MidpointRounding"/> argument.</para>
/// <para>Special values: NaN stays NaN and infinities stay infinite (fake quantization clamps infinities to the
/// grid ends); surrogate gradients are zero at NaN and infinite inputs, except the straight-through gradient,
/// which is the identity everywhere.</para>
/// <para>Each op also exists as a module (see <see cref="Layers"/>) whose <c>forward</c> calls the function.</para>
/// </remarks>
public static partial class Rounding
{
    /// <summary>Factories of the rounding modules, one per op.</summary>
    public static partial class Modules
    {
    }
}
