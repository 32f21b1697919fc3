using System.Runtime.InteropServices;
using MlRounding.Ops;
using static TorchSharp.torch;

namespace MlRounding.Benchmarks;

/// <summary>
/// Reproduces TorchSharp 0.107's Scalar lifetime race (see <c>ScalarArithmetic</c> in MlRounding.Ops): a thread that
/// collects garbage without pause runs beside a loop of small tensor operations, first written with TorchSharp's
/// operators (<c>(a + b - 0.5) * 2.0</c>, whose numbers and addition alpha become Scalars that nothing keeps alive),
/// then with our held scalars (<c>a.Plus(b).Minus(0.5).Times(2.0)</c>). Counts LibTorch errors and results that differ
/// from the value computed before the collecting thread started. docs/reliability.md records a run.
/// </summary>
internal static class ScalarRace
{
    public static void Run(TextWriter output, int operations)
    {
        using var a = rand(37);
        using var b = rand(37);
        float[] expected;
        using (var first = a.Plus(b).Minus(0.5).Times(2.0))
        {
            expected = first.data<float>().ToArray();
        }

        output.WriteLine($"{Environment.ProcessorCount} cores, {operations:N0} operations each, one thread calling GC.Collect() in a loop");
        foreach (bool held in new[] { false, true })
        {
            bool stop = false;
            var collector = new Thread(() =>
            {
                while (!Volatile.Read(ref stop))
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }
            }) { IsBackground = true };
            collector.Start();
            int errors = 0, wrong = 0;
            string? firstError = null;
            for (int done = 0; done < operations; done += 1000)
            {
                using var scope = NewDisposeScope();
                for (int i = 0; i < 1000; i++)
                {
                    try
                    {
                        Tensor result = held ? a.Plus(b).Minus(0.5).Times(2.0) : (a + b - 0.5) * 2.0;
                        if (!result.data<float>().ToArray().AsSpan().SequenceEqual(expected))
                        {
                            wrong++;
                        }
                    }
                    catch (ExternalException e)
                    {
                        errors++;
                        firstError ??= e.Message.Split('\n')[0];
                    }
                }
            }

            Volatile.Write(ref stop, true);
            collector.Join();
            output.WriteLine($"{(held ? "held scalars (MlRounding)" : "TorchSharp operators"),-28} LibTorch errors {errors,5}, wrong results {wrong,5}{(firstError is null ? "" : $" (first: {firstError})")}");
        }
    }
}
