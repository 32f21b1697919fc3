using static TorchSharp.torch;

namespace MlRounding.Tests.Shared;

/// <summary>
/// LibTorch's own fake-quantization kernels, reached through TorchScript (TorchSharp marks its direct bindings
/// obsolete). Used by the tests as the reference and by the benchmarks as the peer; autograd works through them.
/// </summary>
internal static class LibTorchReference
{
    private const string Script = """
        def fake_quantize(x: Tensor, scale: float, zero_point: int, qmin: int, qmax: int) -> Tensor:
            return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, qmin, qmax)

        def fake_quantize_per_channel(x: Tensor, scale: Tensor, zero_point: Tensor, axis: int, qmin: int, qmax: int) -> Tensor:
            return torch.fake_quantize_per_channel_affine(x, scale, zero_point, axis, qmin, qmax)

        def learnable(x: Tensor, scale: Tensor, zero_point: Tensor, qmin: int, qmax: int, factor: float) -> Tensor:
            return torch._fake_quantize_learnable_per_tensor_affine(x, scale, zero_point, qmin, qmax, factor)

        def learnable_per_channel(x: Tensor, scale: Tensor, zero_point: Tensor, axis: int, qmin: int, qmax: int, factor: float) -> Tensor:
            return torch._fake_quantize_learnable_per_channel_affine(x, scale, zero_point, axis, qmin, qmax, factor)
        """;

    private static readonly Lazy<jit.CompilationUnit> Unit = new(() => jit.compile(Script + "\n"));

    public static Tensor FakeQuantize(Tensor x, double scale, long zeroPoint, long qmin, long qmax) =>
        Unit.Value.invoke<Tensor>("fake_quantize", x, scale, zeroPoint, qmin, qmax);

    public static Tensor FakeQuantizePerChannel(Tensor x, Tensor scale, Tensor zeroPoint, long axis, long qmin, long qmax) =>
        Unit.Value.invoke<Tensor>("fake_quantize_per_channel", x, scale, zeroPoint, axis, qmin, qmax);

    public static Tensor Learnable(Tensor x, Tensor scale, Tensor zeroPoint, long qmin, long qmax, double factor) =>
        Unit.Value.invoke<Tensor>("learnable", x, scale, zeroPoint, qmin, qmax, factor);

    public static Tensor LearnablePerChannel(Tensor x, Tensor scale, Tensor zeroPoint, long axis, long qmin, long qmax, double factor) =>
        Unit.Value.invoke<Tensor>("learnable_per_channel", x, scale, zeroPoint, axis, qmin, qmax, factor);
}
