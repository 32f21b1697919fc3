using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Benchmarks;

/// <summary>
/// 1M rows of a 64-float vector column (cached in memory), consumed through a cursor on the output column: our
/// Round, RoundToStep and Quantize beside ML.NET's NormalizeMinMax and an Expression computing the same rounding.
/// </summary>
[Config(typeof(BenchmarkConfigs.Passes))]
public class TransformBenchmarks
{
    private const int Rows = 1_000_000;
    private IDataView _data = null!;
    private ITransformer _normalize = null!, _expression = null!, _round = null!, _roundToStep = null!, _quantize = null!, _passThrough = null!;

    public sealed class Row
    {
        [VectorType(64)]
        public float[] X { get; set; } = new float[64];
    }

    [GlobalSetup]
    public void Setup()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(1);
        IEnumerable<Row> Generate()
        {
            for (int i = 0; i < Rows; i++)
            {
                var x = new float[64];
                for (int j = 0; j < 64; j++)
                {
                    x[j] = (float)((random.NextDouble() - 0.5) * 200);
                }

                yield return new Row { X = x };
            }
        }

        _data = ml.Data.Cache(ml.Data.LoadFromEnumerable(Generate()));
        Consume(_data, "X"); // fill the cache
        _passThrough = ml.Transforms.CopyColumns("Out", "X").Fit(_data);
        _normalize = ml.Transforms.NormalizeMinMax("Out", "X").Fit(_data);
        _expression = ml.Transforms.Expression("Out", "x => round(x * 100) / 100", "X").Fit(_data);
        _round = ml.Transforms.Round("Out", "X", decimals: 2).Fit(_data);
        _roundToStep = ml.Transforms.RoundToStep("Out", "X", step: 0.25).Fit(_data);
        _quantize = ml.Transforms.Quantize("Out", "X", bits: 8).Fit(_data);
    }

    private static float Consume(IDataView data, string column)
    {
        var col = data.Schema[column];
        using var cursor = data.GetRowCursor(new[] { col });
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> value = default;
        float sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            sum += value.GetValues()[0];
        }

        return sum;
    }

    [Benchmark(Description = "CopyColumns (floor: reading the cached data)")]
    public float CopyColumns() => Consume(_passThrough.Transform(_data), "Out");

    [Benchmark(Baseline = true, Description = "NormalizeMinMax (peer)")]
    public float NormalizeMinMax() => Consume(_normalize.Transform(_data), "Out");

    [Benchmark(Description = "Expression round(x * 100) / 100 (peer)")]
    public float Expression() => Consume(_expression.Transform(_data), "Out");

    [Benchmark(Description = "MlRounding Round(decimals: 2)")]
    public float Round() => Consume(_round.Transform(_data), "Out");

    [Benchmark(Description = "MlRounding RoundToStep(0.25)")]
    public float RoundToStep() => Consume(_roundToStep.Transform(_data), "Out");

    [Benchmark(Description = "MlRounding Quantize(bits: 8)")]
    public float Quantize() => Consume(_quantize.Transform(_data), "Out");
}
