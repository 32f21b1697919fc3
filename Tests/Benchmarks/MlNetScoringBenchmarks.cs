using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlRounding.Benchmarks;

/// <summary>
/// Scoring the 10,000 Fashion-MNIST test rows with the model `mlround train` builds on 784 inputs (NormalizeMinMax, then
/// the default QuantizationAware network, W4A8 and W8A8; see <see cref="MlNetScoring"/>), in one process: through
/// ML.NET (<c>Transform</c> over cached data, one cursor; <c>PredictionEngine</c> row by row), through the batch entry
/// point <see cref="QuantizedMlp.ForwardBatch"/>, and through ONNX Runtime on the model's own ONNX export (the whole
/// pipeline, and the network alone) in one call and row by row. Rows/s = rows / mean. Needs Fashion-MNIST
/// (apt-get install dataset-fashion-mnist).
/// </summary>
[Config(typeof(BenchmarkConfigs.Scoring))]
public class MlNetScoringBenchmarks : MlNetScoringBase
{
    /// <summary>Gets or sets the weight bits of the trained network.</summary>
    [Params(4, 8)]
    public int WeightBits { get; set; }

    /// <summary>Gets or sets the input bits of the trained network: 8 (the default: integer first layer) or 32 (float input).</summary>
    [Params(8, 32)]
    public int InputBits { get; set; }

    private protected override MlNetScoring Build() => MlNetScoring.Build(WeightBits, InputBits);
}

/// <summary>
/// The same measurements on the convolutional network `mlround train --image 28x28 --weight-bits 4` writes (the default
/// architecture, W4A8, 8-bit input grid per channel), beside ONNX Runtime on its own export. Needs Fashion-MNIST.
/// </summary>
[Config(typeof(BenchmarkConfigs.Scoring))]
public class CnnScoringBenchmarks : MlNetScoringBase
{
    private protected override MlNetScoring Build() => MlNetScoring.Build(4, 8, image: true);
}

/// <summary>The scoring measurements shared by the dense and the convolutional network (see <see cref="MlNetScoringBenchmarks"/>).</summary>
public abstract class MlNetScoringBase
{
    private MlNetScoring _s = null!;
    private PredictionEngine<MlNetScoring.FashionRow, Prediction> _engine = null!;
    private InferenceSession _pipeline = null!;
    private InferenceSession _network = null!;
    private float[] _outputs = Array.Empty<float>();
    private float[] _pixels = Array.Empty<float>();

    /// <summary>Rows scored by the row-by-row benchmarks (the first ones of the test set).</summary>
    public const int RowByRowRows = 2000;

    public sealed class Prediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    [GlobalSetup]
    public void Setup()
    {
        _s = Build();
        _engine = _s.Ml.Model.CreatePredictionEngine<MlNetScoring.FashionRow, Prediction>(_s.Model);
        _pipeline = new InferenceSession(_s.OnnxPipeline);
        _network = new InferenceSession(_s.OnnxNetwork);
        _outputs = new float[_s.Count * 10];
        _pixels = _s.Rows.SelectMany(r => r).ToArray();
    }

    /// <summary>The model and data to score.</summary>
    private protected abstract MlNetScoring Build();

    [GlobalCleanup]
    public void Cleanup()
    {
        _engine.Dispose();
        _pipeline.Dispose();
        _network.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ML.NET Transform + one cursor (10,000 rows)")]
    public float MlNetCursor()
    {
        IDataView scored = _s.Model.Transform(_s.Test);
        float sum = 0;
        using var cursor = scored.GetRowCursor(new[] { scored.Schema["Score"] });
        var get = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        VBuffer<float> score = default;
        while (cursor.MoveNext())
        {
            get(ref score);
            sum += score.GetValues()[0];
        }

        return sum;
    }

    [Benchmark(Description = "ML.NET PredictionEngine, row by row (2,000 rows)")]
    public float MlNetPredictionEngine()
    {
        float sum = 0;
        var row = new MlNetScoring.FashionRow();
        var prediction = new Prediction();
        for (int i = 0; i < RowByRowRows; i++)
        {
            row.Features = _s.Rows[i];
            _engine.Predict(row, ref prediction); // the overload that reuses the output object, as a service would
            sum += prediction.Score[0];
        }

        return sum;
    }

    [Benchmark(Description = "QuantizedMlp.ForwardBatch, normalized rows (10,000 rows)")]
    public float ForwardBatch()
    {
        _s.Network.ForwardBatch(_s.Normalized, _outputs);
        return _outputs[0];
    }

    [Benchmark(Description = "QuantizedMlp.Forward row by row, one thread (10,000 rows)")]
    public float ForwardRows()
    {
        for (int i = 0; i < _s.Count; i++)
        {
            _s.Network.Forward(_s.Normalized.AsSpan(i * 784, 784), _outputs.AsSpan(i * 10, 10));
        }

        return _outputs[0];
    }

    [Benchmark(Description = "ONNX Runtime, pipeline export, one call (10,000 rows)")]
    public float OnnxPipelineBatched() => Batched(_pipeline, _pixels);

    [Benchmark(Description = "ONNX Runtime, network export, one call (10,000 rows)")]
    public float OnnxNetworkBatched() => Batched(_network, _s.Normalized);

    [Benchmark(Description = "ONNX Runtime, pipeline export, row by row (2,000 rows)")]
    public float OnnxPipelineRowByRow()
    {
        float sum = 0;
        for (int i = 0; i < RowByRowRows; i++)
        {
            using var results = _pipeline.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(_s.Rows[i], new[] { 1, 784 })) });
            sum += results.First(r => r.Name == "Score").AsTensor<float>()[0, 0];
        }

        return sum;
    }

    private float Batched(InferenceSession session, float[] rows)
    {
        var input = new DenseTensor<float>(rows, new[] { rows.Length / 784, 784 });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", input) });
        return results.First(r => r.Name == "Score").AsTensor<float>()[0, 0];
    }
}
