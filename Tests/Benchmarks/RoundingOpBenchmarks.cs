using BenchmarkDotNet.Attributes;
using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Benchmarks;

/// <summary>
/// Forward + backward of straight-through round and fake quantization on float32 tensors, beside LibTorch's own
/// fake-quant kernel, the composite straight-through idiom and a plain clone, all in the same process.
/// Each invocation computes y = op(x) and dx = autograd.grad(y, x, g), then frees both.
/// </summary>
[MemoryDiagnoser(false)]
[Config(typeof(BenchmarkConfigs.Kernels))]
public class RoundingOpBenchmarks
{
    private Tensor _x = null!;
    private Tensor _g = null!;

    [Params(4096, 16_777_216)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _x = (randn(N, generator: new Generator(1)) * 3).requires_grad_(true);
        _g = ones(N);
        LibTorchReference.FakeQuantize(_x.detach(), 0.05, 0, -128, 127).Dispose(); // compile the script once
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _g.Dispose();
    }

    private void ForwardBackward(Func<Tensor, Tensor> op)
    {
        using var scope = NewDisposeScope();
        Tensor y = op(_x);
        autograd.grad(new[] { y }, new[] { _x }, new[] { _g });
    }

    [Benchmark(Baseline = true, Description = "clone (peer)")]
    public void Clone() => ForwardBackward(x => x.clone());

    [Benchmark(Description = "LibTorch fake_quantize_per_tensor_affine (peer)")]
    public void LibTorchFakeQuantize() => ForwardBackward(x => LibTorchReference.FakeQuantize(x, 0.05, 0, -128, 127));

    [Benchmark(Description = "x + (round(x) - x).detach() (peer)")]
    public void CompositeStraightThrough() => ForwardBackward(x => x + (x.round() - x).detach());

    [Benchmark(Description = "MlRounding StraightThrough")]
    public void StraightThrough() => ForwardBackward(Rounding.StraightThrough);

    [Benchmark(Description = "MlRounding FakeQuantize")]
    public void FakeQuantize() => ForwardBackward(x => Rounding.FakeQuantize(x, 0.05, 0, -128, 127));
}
