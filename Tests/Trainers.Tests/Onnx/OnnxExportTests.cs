using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MlRounding.Onnx;

namespace MlRounding.Trainers.Tests.Onnx;

/// <summary>ONNX Runtime on the exported file reproduces the C# scorer (same labels, scores within 1e-5 relative).</summary>
[TestClass]
public sealed class OnnxExportTests
{
    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    public sealed class Digit
    {
        [LoadColumn(0, 63), VectorType(64)] public float[] Pixels { get; set; } = new float[64];

        [LoadColumn(64)] public float Label { get; set; }
    }

    private static (IDataView Train, IDataView Test, float[][] TestPixels) Digits(MLContext ml)
    {
        var rows = ml.Data.CreateEnumerable<Digit>(ml.Data.LoadFromTextFile<Digit>(DataFile("digits.csv"), hasHeader: true, separatorChar: ','), false).ToList();
        var test = rows.Where((_, i) => i % 5 == 0).ToList();
        return (ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 != 0)), ml.Data.LoadFromEnumerable(test), test.Select(r => r.Pixels).ToArray());
    }

    internal static Dictionary<string, float[]> RunOnnx(byte[] onnx, string input, float[][] rows, params string[] outputs)
    {
        using var session = new InferenceSession(onnx);
        var tensor = new DenseTensor<float>(rows.SelectMany(r => r).ToArray(), new[] { rows.Length, rows[0].Length });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(input, tensor) });
        return outputs.ToDictionary(o => o, o =>
        {
            var value = results.Single(r => r.Name == o);
            return value.Value switch
            {
                Tensor<float> f => f.ToArray(),
                Tensor<long> l => l.ToArray().Select(v => (float)v).ToArray(),
                Tensor<bool> b => b.ToArray().Select(v => v ? 1f : 0f).ToArray(),
                var other => throw new InvalidOperationException(other.GetType().Name),
            };
        });
    }

    internal static void AssertClose(float[] expected, float[] actual, double relative, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (int i = 0; i < expected.Length; i++)
        {
            double scale = Math.Max(Math.Abs(expected[i]), Math.Abs(actual[i]));
            Assert.IsLessThanOrEqualTo(relative * scale, Math.Abs(expected[i] - actual[i]), $"{what}[{i}]: {expected[i]} vs {actual[i]}");
        }
    }

    private static byte[] Export(MLContext ml, ITransformer model, DataViewSchema schema, OnnxNetworkLayout layout = OnnxNetworkLayout.ExactInteger, OnnxWeightStorage storage = OnnxWeightStorage.Packed)
    {
        using var stream = new MemoryStream();
        ml.Model.ExportToOnnx(model, schema, stream, new OnnxExportOptions { NetworkLayout = layout, WeightStorage = storage });
        return stream.ToArray();
    }

    [TestMethod]
    [DataRow(4, 8, OnnxWeightStorage.Packed)]
    [DataRow(8, 8, OnnxWeightStorage.Packed)]
    [DataRow(2, 8, OnnxWeightStorage.Packed)]
    [DataRow(1, 4, OnnxWeightStorage.Packed)]
    [DataRow(3, 8, OnnxWeightStorage.Packed)]
    [DataRow(2, 8, OnnxWeightStorage.Int4)]
    [DataRow(4, 8, OnnxWeightStorage.Int8)]
    [DataRow(1, 8, OnnxWeightStorage.Int8)]
    public void Multiclass_OnnxRuntimeReproducesTheScorer(int weightBits, int activationBits, OnnxWeightStorage storage)
    {
        var ml = new MLContext(seed: 1);
        var (train, test, pixels) = Digits(ml);
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Concatenate("Concatenated", "Pixels"))
            .Append(ml.Transforms.NormalizeMinMax("Features", "Concatenated"))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 64, 32 }, WeightBits = weightBits, ActivationBits = activationBits, MaxEpoch = 8, NumberOfThreads = 1 }))
            .Fit(train);
        byte[] onnx = Export(ml, model, train.Schema, storage: storage);
        var ours = model.Transform(test);
        float[] score = ours.GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        float[] label = ours.GetColumn<uint>("PredictedLabel").Select(k => (float)(k - 1)).ToArray();
        var theirs = RunOnnx(onnx, "Pixels", pixels, "Score", "PredictedLabel");
        CollectionAssert.AreEqual(label, theirs["PredictedLabel"], "same predicted labels");
        AssertClose(score, theirs["Score"], 1e-5, "Score");
    }

    [TestMethod]
    public void WeightStorage_TypesOpsetAndIrFollowTheBits_TheFileShrinks()
    {
        // Per-layer bits 2, 4, 8: INT2, INT4 and INT8 codes in one file (opset 25, IR 13); INT4 storage puts the 2-bit
        // layer in INT4 (opset 21, IR 10); INT8 storage is the older layout (opset 13, IR 8). Each narrower type holds
        // the same codes in fewer bytes, so the files order by size.
        var ml = new MLContext(seed: 1);
        var (train, test, pixels) = Digits(ml);
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 64, 32 }, LayerWeightBits = new[] { 2, 4, 8 }, MaxEpoch = 2, NumberOfThreads = 1 }))
            .Fit(train);
        var expected = new Dictionary<OnnxWeightStorage, (int[] Types, long Opset, long Ir)>
        {
            [OnnxWeightStorage.Packed] = (new[] { 26, 22, 3 }, 25, 13),
            [OnnxWeightStorage.Int4] = (new[] { 22, 22, 3 }, 21, 10),
            [OnnxWeightStorage.Int8] = (new[] { 3, 3, 3 }, 13, 8),
        };
        var sizes = new Dictionary<OnnxWeightStorage, int>();
        float[] reference = RunOnnx(Export(ml, model, train.Schema, storage: OnnxWeightStorage.Int8), "Pixels", pixels, "Score")["Score"];
        foreach (var (storage, (types, opset, ir)) in expected)
        {
            byte[] onnx = Export(ml, model, train.Schema, storage: storage);
            var proto = global::Onnx.ModelProto.Parser.ParseFrom(onnx);
            var codes = proto.Graph.Initializer.Where(t => t.Name.StartsWith("weight_codes", StringComparison.Ordinal)).ToList();
            CollectionAssert.AreEqual(types, codes.Select(t => t.DataType).ToArray(), $"{storage}: weight code types of the three layers");
            int[] elements = { 64 * 64, 32 * 64, 10 * 32 };
            int[] bits = types.Select(t => t == 26 ? 2 : t == 22 ? 4 : 8).ToArray();
            CollectionAssert.AreEqual(elements.Zip(bits, (n, b) => n * b / 8).ToArray(), codes.Select(t => t.RawData.Length).ToArray(), $"{storage}: packed bytes per layer");
            Assert.AreEqual(opset, proto.OpsetImport.Single(o => o.Domain == "").Version, $"{storage}: opset");
            Assert.AreEqual(ir, proto.IrVersion, $"{storage}: IR version");
            CollectionAssert.AreEqual(reference, RunOnnx(onnx, "Pixels", pixels, "Score")["Score"], $"{storage}: the same scores bit for bit as the INT8 layout");
            sizes[storage] = onnx.Length;
        }

        Assert.IsLessThan(sizes[OnnxWeightStorage.Int4], sizes[OnnxWeightStorage.Packed], "INT2 smaller than INT4");
        Assert.IsLessThan(sizes[OnnxWeightStorage.Int8], sizes[OnnxWeightStorage.Int4], "INT4 smaller than INT8");
    }

    private sealed class Patient
    {
        [LoadColumn(0, 9), VectorType(10)] public float[] Baseline { get; set; } = new float[10];

        [LoadColumn(10)] public float Progression { get; set; }
    }

    [TestMethod]
    public void Regression_WithQuantizedInputsAndCentsOnTheOutput_OnnxRuntimeReproducesTheScorer()
    {
        // The features come from a Quantize transform (the network keeps its input grid) and the output is rounded to
        // cents by an extra rounding layer: both export as the same float operations as in C#.
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile<Patient>(DataFile("diabetes.csv"), hasHeader: true, separatorChar: ',');
        var options = new QatOptions { LabelColumnName = "Progression", HiddenLayers = new[] { 16 }, WeightBits = 4, MaxEpoch = 20, NumberOfThreads = 1 };
        options.RoundingLayers.Add(new QatRoundingLayer { Grid = new DecimalGrid(2), Position = 2 });
        var model = ml.Transforms.NormalizeMeanVariance("Normalized", "Baseline")
            .Append(ml.Transforms.Quantize("Features", "Normalized", bits: 6))
            .Append(ml.Regression.Trainers.QuantizationAware(options))
            .Fit(data);
        Assert.IsNotNull(model.LastTransformer.Model.Network.InputGrid, "the input grid is kept");
        float[][] rows = ml.Data.CreateEnumerable<Patient>(data, false).Select(p => p.Baseline).ToArray();
        float[] ours = model.Transform(data).GetColumn<float>("Score").ToArray();
        var theirs = RunOnnx(Export(ml, model, data.Schema), "Baseline", rows, "Score");
        AssertClose(ours, theirs["Score"], 1e-5, "Score");
        Assert.IsTrue(theirs["Score"].All(v => MathF.Round(v * 100) / 100 == v), "ONNX Runtime's scores are cents too");
    }

    [TestMethod]
    public void Binary_OnnxRuntimeReproducesScoreProbabilityAndLabel()
    {
        var ml = new MLContext(seed: 1);
        var table = File.ReadAllLines(DataFile("breast_cancer.csv")).Skip(1)
            .Select(l => l.Split(',').Select(v => v == "true" ? 1f : v == "false" ? 0f : float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var rows = table.Select(r => new Tumour { Features = r[..^1], Benign = r[^1] != 0 }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows, Tumour.Schema(rows[0].Features.Length));
        var model = ml.Transforms.NormalizeMinMax("Scaled", "Features")
            .Append(ml.BinaryClassification.Trainers.QuantizationAware(new QatOptions { LabelColumnName = "Benign", FeatureColumnName = "Scaled", HiddenLayers = new[] { 16 }, WeightBits = 2, MaxEpoch = 10, NumberOfThreads = 1 }))
            .Fit(data);
        var scored = model.Transform(data);
        var theirs = RunOnnx(Export(ml, model, data.Schema), "Features", rows.Select(r => r.Features).ToArray(), "Score", "Probability", "PredictedLabel");
        AssertClose(scored.GetColumn<float>("Score").ToArray(), theirs["Score"], 1e-5, "Score");
        AssertClose(scored.GetColumn<float>("Probability").ToArray(), theirs["Probability"], 1e-5, "Probability");
        CollectionAssert.AreEqual(scored.GetColumn<bool>("PredictedLabel").Select(b => b ? 1f : 0f).ToArray(), theirs["PredictedLabel"]);
    }

    private sealed class Tumour
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public bool Benign { get; set; }

        public static SchemaDefinition Schema(int size)
        {
            var schema = SchemaDefinition.Create(typeof(Tumour));
            schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
            return schema;
        }
    }

    private sealed class Values
    {
        [VectorType(4)] public float[] X { get; set; } = new float[4];
    }

    [TestMethod]
    public void Transforms_RoundRoundToStepQuantize_SameValuesInOnnxRuntime()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(3);
        var rows = Enumerable.Range(0, 500).Select(i => new Values { X = Enumerable.Range(0, 4).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 4)))).ToArray() }).ToList();
        rows.Add(new Values { X = new[] { 2.5f, -2.5f, 0.125f, -0.375f } });               // ties
        rows.Add(new Values { X = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f } });
        rows.Add(new Values { X = new[] { float.MaxValue, -float.MaxValue, 1e-30f, 3e38f } }); // overflow keeps the value
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Round("Cents", "X", decimals: 2)
            .Append(ml.Transforms.Round("Hundreds", "X", decimals: -2, midpoint: MidpointRounding.AwayFromZero))
            .Append(ml.Transforms.RoundToStep("Quarters", "X", step: 0.25, offset: 0.1, midpoint: MidpointRounding.AwayFromZero))
            .Append(ml.Transforms.Quantize(new QuantizeOptions { OutputColumnName = "Q", InputColumnName = "Cents", Bits = 5, PerSlot = true, CodesColumnName = "Codes" }))
            .Fit(data);
        var theirs = RunOnnx(Export(ml, model, data.Schema), "X", rows.Select(r => r.X).ToArray(), "Cents", "Hundreds", "Quarters", "Q", "Codes");
        var scored = model.Transform(data);
        foreach (string column in theirs.Keys)
        {
            float[] ours = scored.GetColumn<float[]>(column).SelectMany(v => v).ToArray();
            for (int i = 0; i < ours.Length; i++)
            {
                // Equal values (NaN matches NaN); the sign of a zero may differ for away-from-zero rounding.
                Assert.IsTrue(ours[i] == theirs[column][i] || (float.IsNaN(ours[i]) && float.IsNaN(theirs[column][i])),
                    $"{column}[{i}] (input {rows[i / 4].X[i % 4]:R}): {ours[i]:R} vs {theirs[column][i]:R}");
            }
        }
    }

    [TestMethod]
    public void ImputeMissingValues_SameValuesInOnnxRuntime()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(5);
        var rows = Enumerable.Range(0, 300).Select(_ =>
        {
            float a = (float)random.NextDouble() * 10, b = (float)(random.NextDouble() - 0.5);
            var x = new[] { a, (2 * a) + b, (a * b) - 1, (float)random.NextDouble() };
            x[random.Next(4)] = random.Next(4) == 0 ? float.NaN : x[random.Next(4)];
            return new Values { X = x };
        }).ToList();
        rows.Add(new Values { X = new[] { float.NaN, float.NaN, float.NaN, float.NaN } });
        rows.Add(new Values { X = new[] { float.PositiveInfinity, float.NaN, float.NegativeInfinity, 1f } });
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.ImputeMissingValues("Y", "X").Fit(data);
        Assert.IsNotEmpty(model.RegressedSlots, "the case has regressions");
        float[] theirs = RunOnnx(Export(ml, model, data.Schema), "X", rows.Select(r => r.X).ToArray(), "Y")["Y"];
        float[] ours = model.Transform(data).GetColumn<float[]>("Y").SelectMany(v => v).ToArray();
        for (int i = 0; i < ours.Length; i++)
        {
            Assert.IsTrue(ours[i] == theirs[i] || Math.Abs(ours[i] - theirs[i]) <= 1e-5 * Math.Max(1, Math.Abs(ours[i])),
                $"Y[{i}] (input {rows[i / 4].X[i % 4]:R}): {ours[i]:R} vs {theirs[i]:R}");
        }
    }

    [TestMethod]
    public void UnsupportedStep_NotSupportedNamingIt()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new Values() });
        var model = ml.Transforms.Expression("Y", "x => x * 2", "X").Fit(data);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => Export(ml, model, data.Schema));
        StringAssert.StartsWith(e.Message, "ExpressionTransformer (writing 'Y') cannot be exported to ONNX by MlRounding");
    }

    private sealed class Mixed
    {
        [VectorType(4)] public float[] X { get; set; } = new float[4];

        [VectorType(2)] public double[] D { get; set; } = new double[2];
    }

    public static IEnumerable<object[]> RefusedFeaturizations => new[]
    {
        new object[] { "ConvertType to Double", "The conversion of column 'X' to Double cannot be exported to ONNX by MlRounding; it exports conversions to Single." },
        new object[] { "ReplaceMissingValues on Double", "Missing-value replacement of column 'D' (Vector<Double, 2>) cannot be exported to ONNX by MlRounding; it takes columns of Single." },
        // The graph input refuses the column before the key mapping sees it (inputs are Single or text only).
        new object[] { "MapValueToKey on Double", "Input column 'D' is Vector<Double, 2>; ONNX export takes scalars and known-size vectors of Single or text." },
    };

    [TestMethod]
    [DynamicData(nameof(RefusedFeaturizations))]
    public void RefusedFeaturization_NotSupportedNamingTheColumn(string step, string message)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new Mixed { D = new[] { 1.0, double.NaN } } });
        IEstimator<ITransformer> estimator = step switch
        {
            "ConvertType to Double" => ml.Transforms.Conversion.ConvertType("Y", "X", DataKind.Double),
            "ReplaceMissingValues on Double" => ml.Transforms.ReplaceMissingValues("Y", "D"),
            _ => ml.Transforms.Conversion.MapValueToKey("Y", "D"),
        };
        ITransformer model = estimator.Fit(data);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => Export(ml, model, data.Schema), step);
        Assert.AreEqual(message, e.Message, step);
    }

    [TestMethod]
    public void NullArguments_ArgumentNullNamingThem_StreamAndFile()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new Values() });
        var model = ml.Transforms.Round("Y", "X").Fit(data);
        string path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".onnx");
        using var stream = new MemoryStream();
        Assert.AreEqual("model", Assert.ThrowsExactly<ArgumentNullException>(() => ml.Model.ExportToOnnx(null!, data.Schema, path)).ParamName);
        Assert.AreEqual("inputSchema", Assert.ThrowsExactly<ArgumentNullException>(() => ml.Model.ExportToOnnx(model, null!, path)).ParamName);
        Assert.AreEqual("options", Assert.ThrowsExactly<ArgumentNullException>(() => ml.Model.ExportToOnnx(model, data.Schema, stream, null!)).ParamName);
        Assert.AreEqual("model", Assert.ThrowsExactly<ArgumentNullException>(() => ml.Model.ExportToOnnx(null!, data.Schema, stream)).ParamName);
        Assert.IsFalse(File.Exists(path), "nothing written");
        Assert.AreEqual(0, stream.Length, "nothing written");
    }

    private sealed class OnnxScores
    {
        [ColumnName("Score")] public float[] Score { get; set; } = Array.Empty<float>();

        [ColumnName("PredictedLabel")] public long[] PredictedLabel { get; set; } = Array.Empty<long>();
    }

    [TestMethod]
    public void ApplyOnnxModel_ConsumesTheExport_InAPipelineThatSavesAndLoads()
    {
        var ml = new MLContext(seed: 1);
        var (train, test, _) = Digits(ml);
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 32 }, WeightBits = 4, MaxEpoch = 5, NumberOfThreads = 1 }))
            .Fit(train);
        string dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            // ML.NET 5.0.1's OnnxTransformer maps every initializer's element type to an ML.NET type and knows no INT4
            // or INT2 (OnnxTypeParser.GetScalarDataViewType), so it takes the INT8 layout only. When this assertion
            // fails, ML.NET has learned the narrow types: update docs/model-files.md and the README.
            string packed = Path.Combine(dir, "packed.onnx");
            ml.Model.ExportToOnnx(model, train.Schema, packed);
            var refused = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.ApplyOnnxModel(new[] { "Score" }, new[] { "Pixels" }, packed));
            Assert.AreEqual("Unsupported ONNX scalar type: 22", refused.Message, "INT4 (22) is what ML.NET refuses");
            string onnx = Path.Combine(dir, "digits.onnx");
            ml.Model.ExportToOnnx(model, train.Schema, onnx, new OnnxExportOptions { WeightStorage = OnnxWeightStorage.Int8 });
            var onnxPipeline = ml.Transforms.ApplyOnnxModel(new[] { "Score", "PredictedLabel" }, new[] { "Pixels" }, onnx).Fit(test);
            string zip = Path.Combine(dir, "onnx-pipeline.zip");
            ml.Model.Save(onnxPipeline, test.Schema, zip);
            File.Delete(onnx); // ApplyOnnxModel keeps the ONNX bytes inside the saved model
            var loaded = new MLContext().Model.Load(zip, out _);
            var viaOnnx = ml.Data.CreateEnumerable<OnnxScores>(loaded.Transform(test), reuseRowObject: false).ToList();
            var ours = model.Transform(test);
            float[][] scores = ours.GetColumn<float[]>("Score").ToArray();
            uint[] labels = ours.GetColumn<uint>("PredictedLabel").ToArray();
            Assert.HasCount(scores.Length, viaOnnx);
            for (int i = 0; i < scores.Length; i++)
            {
                AssertClose(scores[i], viaOnnx[i].Score, 1e-5, $"row {i} Score");
                Assert.AreEqual(labels[i] - 1, (uint)viaOnnx[i].PredictedLabel.Single(), $"row {i}");
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    [DataRow(4)]
    [DataRow(2)]
    public void PerChannelQdqLayout_TextbookNodes_SameLabelsScoresClose(int weightBits)
    {
        var ml = new MLContext(seed: 1);
        var (train, test, pixels) = Digits(ml);
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 64, 32 }, WeightBits = weightBits, MaxEpoch = 8, NumberOfThreads = 1 }))
            .Fit(train);
        byte[] onnx = Export(ml, model, train.Schema, OnnxNetworkLayout.PerChannelQdq);
        var graph = global::Onnx.ModelProto.Parser.ParseFrom(onnx).Graph;
        var dequantize = graph.Node.Where(n => n.OpType == "DequantizeLinear").ToList();
        Assert.AreEqual(3, dequantize.Count(n => n.Attribute.Any(a => a.Name == "axis" && a.I == 0)), "per-channel weights of the three layers");
        Assert.AreEqual(2, graph.Node.Count(n => n.OpType == "QuantizeLinear"), "the two hidden activation grids");
        var ours = model.Transform(test);
        float[] label = ours.GetColumn<uint>("PredictedLabel").Select(k => (float)(k - 1)).ToArray();
        float[] score = ours.GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        var theirs = RunOnnx(onnx, "Pixels", pixels, "Score", "PredictedLabel");
        int same = label.Zip(theirs["PredictedLabel"]).Count(p => p.First == p.Second);
        Assert.IsGreaterThanOrEqualTo(label.Length - 1, same, "predicted labels (at most one near-tie may differ)");
        Assert.IsLessThan(0.01, score.Zip(theirs["Score"]).Max(p => Math.Abs(p.First - p.Second)), "probabilities within 0.01");
    }
}
