using System.Diagnostics;
using MlRounding.Trainers;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Benchmarks;

internal sealed class IdentityFunction : autograd.SingleTensorFunction<IdentityFunction>
{
    public override string Name => "Identity";
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).alias();
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => new() { grad_output };
}

internal static class MicroProfile
{
    public static void Run(TextWriter output)
    {
        set_num_threads(2);
        using var p = nn.Parameter(randn(64, 128));
        using var logStep = nn.Parameter(full(1, -3f));
        void Time(string name, Func<Tensor, Tensor> f)
        {
            for (int round = 0; round < 2; round++)
            {
                const int n = 5000;
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < n; i++)
                {
                    using var scope = NewDisposeScope();
                    f(p).sum().backward();
                }
                sw.Stop();
                if (round == 1) output.WriteLine($"{name,-30} {sw.Elapsed.TotalMilliseconds * 1000 / n,7:F1} µs");
            }
        }

        void Plain(string name, Action f)
        {
            for (int round = 0; round < 2; round++)
            {
                const int n = 20000;
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < n; i++)
                {
                    using var scope = NewDisposeScope();
                    f();
                }
                sw.Stop();
                if (round == 1) output.WriteLine($"{name,-30} {sw.Elapsed.TotalMilliseconds * 1000 / n,7:F2} µs");
            }
        }

        using var ls = nn.Parameter(zeros(128));
        Plain("Steps(128)", () => LsqQuantizeFunction.Steps(ls));
        Plain("dtype", () => _ = p.dtype);
        Plain("is_contiguous", () => _ = p.is_contiguous());
        Plain("shape", () => _ = p.shape);
        Plain("bytes", () => _ = p.bytes.Length);
        Plain("empty_like", () => empty_like(p));
        Plain("t()", () => p.t());
        Plain("mm 64x128 * 128x64", () => p.t().mm(p));
        Plain("training", () => _ = ((nn.Module)null!) is null);
        Time("sum only", x => x);
        Time("relu", x => nn.functional.relu(x));
        Time("mul scalar", x => x * 2);
        Time("identity custom fn", x => IdentityFunction.apply(x));
        Time("lsq custom fn", x => LsqQuantizeFunction.apply(x, logStep, 0.01, 0L, 255L));
        Time("ste detach trick", x => x + (x.round() - x).detach());
    }
}
