using System.Diagnostics;
using MlRounding.Trainers;
using static TorchSharp.torch;

namespace MlRounding.Benchmarks;

/// <summary>
/// The fixed costs that decide how the trainer is built (<c>-- overhead</c>): a TorchSharp custom autograd function's
/// round trip against native ops, the LSQ quantizer as one function, and single TorchSharp calls. Microseconds per call,
/// on a 64 x 128 float32 tensor, after a warm-up round.
/// </summary>
internal static class OverheadProfile
{
    public static void Run(TextWriter output)
    {
        set_num_threads(2);
        using var p = nn.Parameter(randn(64, 128));
        using var logStep = nn.Parameter(full(1, -3f));
        using var logSteps = nn.Parameter(zeros(128));

        // Forward and backward of f, through a sum to a scalar; "sum only" is the floor to subtract.
        void Graph(string name, Func<Tensor, Tensor> f) => Report(output, name, 5000, () => f(p).sum().backward());
        void Call(string name, Action f) => Report(output, name, 20000, f);

        Graph("sum only (fwd+bwd)", x => x);
        Graph("relu (fwd+bwd)", x => nn.functional.relu(x));
        Graph("identity custom function (fwd+bwd)", x => IdentityFunction.apply(x));
        Graph("LSQ custom function (fwd+bwd)", x => LsqQuantizeFunction.apply(x, logStep, 0.01, 0L, 255L));
        Call("LsqQuantizeFunction.Steps, 128 steps", () => LsqQuantizeFunction.Steps(logSteps));
        Call("Tensor.shape", () => _ = p.shape);
        Call("empty_like", () => empty_like(p));
        Call("mm 128x64 by 64x128", () => p.t().mm(p));
    }

    private static void Report(TextWriter output, string name, int calls, Action body)
    {
        double perCall = 0;
        for (int round = 0; round < 2; round++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < calls; i++)
            {
                using var scope = NewDisposeScope();
                body();
            }

            perCall = clock.Elapsed.TotalMilliseconds * 1000 / calls;
        }

        output.WriteLine($"{name,-40} {perCall,8:F2} µs");
    }

    /// <summary>A custom autograd function that does nothing: the cost of the mechanism itself.</summary>
    private sealed class IdentityFunction : autograd.SingleTensorFunction<IdentityFunction>
    {
        public override string Name => "Identity";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).alias();

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => new() { grad_output };
    }
}
