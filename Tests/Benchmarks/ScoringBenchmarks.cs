using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlRounding.Trainers;
using MlRounding.Onnx;

namespace MlRounding.Benchmarks;

/// <summary>
/// Scoring the 1,437 digits training rows with the trained W4A8 MLP (64-128-64-10, the default hidden layers, the default
/// 8-bit input grid): our plain C# scorer against ONNX Runtime on
/// the exported file (one row per call, and all rows in one call), and against the float network of the same shape
/// scored by the same C# code; same process. Rows/s = 1,437 / mean.
/// </summary>
[Config(typeof(BenchmarkConfigs.Kernels))]
public class ScoringBenchmarks
{
    private float[][] _rows = null!;
    private QuantizedMlp _quantized = null!;
    private QuantizedMlp _float = null!;
    private InferenceSession _session = null!;
    private float[] _output = new float[10];
    private float[] _batch = Array.Empty<float>();
    private float[] _outputs = Array.Empty<float>();

    [GlobalSetup]
    public void Setup()
    {
        QatData train = TrainingBenchmarks.LoadDigitsTrain();
        _rows = Enumerable.Range(0, train.Count).Select(i => train.Features.AsSpan(i * 64, 64).ToArray()).ToArray();
        // The trainer's defaults: an 8-bit input grid per feature (the whole path integer), as QuantizationAware fits it.
        var (lows, highs) = InputGrid.Ranges(train.Features, 64);
        var grid = InputGrid.Fit(8, lows, highs);
        _quantized = QatTraining.Train(train, 10, new QatOptions { WeightBits = 4, ActivationBits = 8, MaxEpoch = 5, NumberOfThreads = 2 }, inputGrid: grid);
        _float = QatTraining.Train(train, 10, new QatOptions { Mode = QatMode.Float, WeightBits = 32, ActivationBits = 32, MaxEpoch = 5, NumberOfThreads = 2 });
        using var stream = new MemoryStream();
        Google.Protobuf.MessageExtensions.WriteTo(OnnxNetwork.BuildNetwork(_quantized), stream);
        _session = new InferenceSession(stream.ToArray(), new SessionOptions { IntraOpNumThreads = 1 });
        _batch = _rows.SelectMany(r => r).ToArray();
        _outputs = new float[_rows.Length * 10];
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark(Baseline = true, Description = "C# scorer, W4A8, row by row")]
    public float CSharpQuantized() => RowByRow(_quantized);

    [Benchmark(Description = "C# scorer, W4A8, ForwardBatch (all rows, all cores)")]
    public float CSharpBatch()
    {
        _quantized.ForwardBatch(_batch, _outputs);
        return _outputs[0];
    }

    [Benchmark(Description = "C# scorer, float network (peer), row by row")]
    public float CSharpFloat() => RowByRow(_float);

    private float RowByRow(QuantizedMlp network)
    {
        float sum = 0;
        foreach (float[] row in _rows)
        {
            network.Forward(row, _output);
            sum += _output[0];
        }

        return sum;
    }

    [Benchmark(Description = "ONNX Runtime, exported W4A8, row by row")]
    public float OnnxRuntimeRowByRow()
    {
        float sum = 0;
        foreach (float[] row in _rows)
        {
            using var results = _session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(row, new[] { 1, 64 })) });
            sum += results[0].AsTensor<float>()[0, 0];
        }

        return sum;
    }

    [Benchmark(Description = "ONNX Runtime, exported W4A8, all rows in one call")]
    public float OnnxRuntimeBatch()
    {
        var input = new DenseTensor<float>(_rows.SelectMany(r => r).ToArray(), new[] { _rows.Length, 64 });
        using var results = _session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", input) });
        return results[0].AsTensor<float>()[0, 0];
    }
}
