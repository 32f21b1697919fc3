using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlRounding.Benchmarks;

/// <summary>
/// Where the time of scoring through ML.NET goes (<c>-- scoring-profile [weight bits]</c>): the same 10,000 rows and model
/// as <see cref="MlNetScoringBenchmarks"/>, timed stage by stage (median of 9 passes after 2 warm-ups): ML.NET's cursor
/// over the cached data alone, with the key mapping and the normalizer, with the predictor; the network alone; its
/// first layer's integer kernel; the input quantization; and ONNX Runtime on the exports for scale.
/// </summary>
internal static class ScoringProfile
{
    public static void Run(TextWriter output, int weightBits, int inputBits)
    {
        var s = MlNetScoring.Build(weightBits, inputBits);
        int n = s.Count;
        var chain = (TransformerChain<ITransformer>)(object)new TransformerChain<ITransformer>(((IEnumerable<ITransformer>)s.Model).ToArray());
        ITransformer normalizer = new TransformerChain<ITransformer>(chain.Take(chain.Count() - 1).ToArray());
        output.WriteLine($"Fashion-MNIST test rows: {n}; network {string.Join("-", s.Network.Layers.Select(l => l.Inputs).Append(s.Network.OutputCount))}, W{weightBits}A8, input grid: {(s.Network.InputGrid is null ? "none (float input)" : $"{s.Network.InputGrid.Bits} bits")}; integer kernels: {IntegerKernels.Best}");
        output.WriteLine($"{"stage",-58} {"ms",10} {"rows/s",12}");
        void Row(string what, Action body)
        {
            for (int i = 0; i < 2; i++)
            {
                body();
            }

            var times = Enumerable.Range(0, 9).Select(_ => { var w = Stopwatch.StartNew(); body(); return w.Elapsed.TotalMilliseconds; }).OrderBy(t => t).ToArray();
            double median = times[times.Length / 2];
            output.WriteLine($"{what,-58} {median,10:F2} {n / (median / 1000),12:N0}");
        }

        Row("cursor over the cached data, reading Features", () => Drain(s.Test, "Features"));
        Row($"+ {string.Join(" + ", chain.Take(chain.Count() - 1).Select(t => t.GetType().Name.Replace("Transformer", string.Empty)))}, reading Features", () => Drain(normalizer.Transform(s.Test), "Features"));
        Row("+ the predictor, reading Score (the whole model)", () => Drain(s.Model.Transform(s.Test), "Score"));
        IDataView normalizedData = s.Ml.Data.Cache(normalizer.Transform(s.Test));
        Drain(normalizedData, "Features");
        ITransformer predictor = chain.Last();
        Row("the predictor alone, on the cached rows it takes, reading Score", () => Drain(predictor.Transform(normalizedData), "Score"));
        var outputs = new float[n * 10];
        Row("network alone: Forward row by row, one thread", () =>
        {
            for (int i = 0; i < n; i++)
            {
                s.Network.Forward(s.Normalized.AsSpan(i * 784, 784), outputs.AsSpan(i * 10, 10));
            }
        });
        Row("network alone: ForwardBatch, all cores", () => s.Network.ForwardBatch(s.Normalized, outputs));
        if (s.Network.InputGrid is { } grid)
        {
            var rounder = grid.CreateRounder<float>(codes: true);
            var codes = new float[784];
            Row("  input quantization (784 values per row)", () =>
            {
                for (int i = 0; i < n; i++)
                {
                    rounder.Dense(s.Normalized.AsSpan(i * 784, 784), codes);
                }
            });
            var packed = new PackedLayer(s.Network.Layers[0]);
            var x = new byte[packed.Stride];
            var acc = new int[packed.Rows];
            new Random(1).NextBytes(x.AsSpan(0, 784));
            Row($"  first layer's integer kernel ({IntegerKernels.Best}, {packed.Rows} x {packed.Inputs})", () =>
            {
                for (int i = 0; i < n; i++)
                {
                    IntegerKernels.Dot(x, packed, acc);
                }
            });
        }

        using var pipeline = new InferenceSession(s.OnnxPipeline);
        float[] pixels = s.Rows.SelectMany(r => r).ToArray();
        Row("ONNX Runtime, pipeline export, one call", () =>
        {
            using var r = pipeline.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(pixels, new[] { n, 784 })) });
        });
    }

    private static void Drain(IDataView data, string column)
    {
        var col = data.Schema[column];
        using var cursor = data.GetRowCursor(new[] { col });
        var get = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            get(ref value);
        }
    }
}
