using static TorchSharp.torch;

namespace MlRounding.Ops;

/// <summary>The tensor argument check of every op (the scalar checks are shared with the transforms: <see cref="Check"/>).</summary>
internal static class TensorCheck
{
    public static void Floating(Tensor x, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.dtype != ScalarType.Float32 && x.dtype != ScalarType.Float64)
        {
            throw new ArgumentException($"Expected a float32 or float64 tensor, got {x.dtype}.", name);
        }
    }
}
