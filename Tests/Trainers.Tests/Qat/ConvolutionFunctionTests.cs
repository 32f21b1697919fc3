using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Qat;

/// <summary>
/// <see cref="ConvolutionFunction"/>: its output and its gradients for the input, the weights and the bias equal those of
/// an independent formulation (im2col with <c>unfold</c> and a matrix product, differentiated by autograd), with one
/// thread and with two, on the shapes where LibTorch's own <c>conv2d</c> passed its input a wrong gradient and on the
/// default network's second block.
/// </summary>
[TestClass]
public sealed class ConvolutionFunctionTests
{
    [TestMethod]
    [DataRow(64, 4, 6, 4, 3)]
    [DataRow(16, 1, 4, 8, 3)]
    [DataRow(8, 16, 32, 14, 3)]
    [DataRow(4, 3, 5, 9, 5)]
    public void OutputAndGradients_EqualTheUnfoldFormulation(int n, int channels, int outputs, int side, int k)
    {
        Native.TorchSharpNative.EnsureLoaded();
        int threads = get_num_threads();
        try
        {
            foreach (int t in new[] { 1, 2 })
            {
                set_num_threads(t);
                manual_seed(1);
                using var scope = NewDisposeScope();
                Tensor x0 = randn(n, channels, side, side), w0 = randn(outputs, channels, k, k), b0 = randn(outputs), gy = randn(n, outputs, side, side);
                var (y, dx, dw, db) = Run(x0, w0, b0, gy, (x, w, b) => ConvolutionFunction.apply(x, w, b));
                var (ry, rdx, rdw, rdb) = Run(x0, w0, b0, gy, (x, w, b) =>
                    matmul(w.view(outputs, -1), nn.functional.unfold(x, k, padding: k / 2)).view(n, outputs, side, side).add(b.view(1, -1, 1, 1)));
                foreach (var (actual, expected, what) in new[] { (y, ry, "output"), (dx, rdx, "input gradient"), (dw, rdw, "weight gradient"), (db, rdb, "bias gradient") })
                {
                    double scale = expected.abs().max().item<float>();
                    Assert.IsLessThan(1e-5 * scale, (actual - expected).abs().max().item<float>(), $"{what}, {t} thread(s), largest difference against the largest value {scale}");
                }
            }
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    private static (Tensor Y, Tensor Dx, Tensor Dw, Tensor Db) Run(Tensor x0, Tensor w0, Tensor b0, Tensor gy, Func<Tensor, Tensor, Tensor, Tensor> convolve)
    {
        Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
        Tensor y = convolve(x, w, b);
        y.backward(new[] { gy });
        return (y.detach(), x.grad!, w.grad!, b.grad!);
    }
}
