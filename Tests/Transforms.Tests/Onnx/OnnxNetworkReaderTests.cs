using System.Globalization;
using Google.Protobuf;
using Microsoft.ML;
using MlRounding.Onnx;
using Onnx;
using static MlRounding.Onnx.OnnxGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace MlRounding.Transforms.Tests.Onnx;

/// <summary>
/// Float ONNX networks read into MlRounding models: files PyTorch 1.13's <c>torch.onnx.export</c> wrote
/// (Onnx/PyTorch/make.py) against PyTorch's own outputs, graphs built node by node in PyTorch's MatMul + Add layout,
/// MlRounding's own float export read back bit for bit, and refusals (unsupported operations, wrong widths, old opsets,
/// damaged files) as documented exceptions naming the node.
/// </summary>
[TestClass]
public sealed class OnnxNetworkReaderTests
{
    private static string PyTorch(string name) => Path.Combine(AppContext.BaseDirectory, "Onnx", "PyTorch", name);

    private static QuantizedMlp Network(ITransformer model) => model switch
    {
        ISingleFeaturePredictionTransformer<QatMulticlassModelParameters> m => m.Model.Network,
        ISingleFeaturePredictionTransformer<QatBinaryModelParameters> b => b.Model.Network,
        ISingleFeaturePredictionTransformer<QatRegressionModelParameters> r => r.Model.Network,
        _ => throw new AssertFailedException(model.GetType().Name),
    };

    [TestMethod]
    [DataRow("mlp-multiclass", QatTask.MulticlassClassification, 4)]
    [DataRow("mlp-regression-opset17", QatTask.Regression, 5)]
    [DataRow("cnn-multiclass", QatTask.MulticlassClassification, 64)]
    [DataRow("mlp-binary-sigmoid", QatTask.BinaryClassification, 3)]
    public void PyTorchExport_ScoresAsPyTorch(string name, QatTask task, int inputs)
    {
        QuantizedMlp network = Network(new MLContext().Model.LoadOnnxNetwork(PyTorch(name + ".onnx")));
        Assert.AreEqual(task, network.Task);
        Assert.AreEqual(inputs, network.FeatureCount);
        Assert.IsTrue(network.Convolutions.Select(c => c.Filters).Concat(network.Layers).All(l => l.HasFloatWeights && l.ActivationBits == 32));
        foreach (string line in File.ReadAllLines(PyTorch(name + ".csv")))
        {
            float[] values = line.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            float[] outputs = network.Forward(values.AsSpan(0, inputs));
            float[] expected = values[inputs..];
            if (task == QatTask.BinaryClassification)
            {
                outputs = outputs.Select(z => 1f / (1f + MathF.Exp(-z))).ToArray(); // PyTorch's Sequential ends with its Sigmoid
            }

            Assert.HasCount(expected.Length, outputs);
            for (int k = 0; k < outputs.Length; k++)
            {
                Assert.AreEqual(expected[k], outputs[k], 1e-5 + (1e-5 * Math.Abs(expected[k])), $"{name}: output {k}");
            }
        }
    }

    [TestMethod]
    public void PyTorchCnn_KeepsItsBlocks()
    {
        QuantizedMlp network = Network(new MLContext().Model.LoadOnnxNetwork(PyTorch("cnn-multiclass.onnx")));
        Assert.AreEqual(new ImageShape(1, 8, 8), network.InputShape);
        CollectionAssert.AreEqual(new[] { 4, 6 }, network.Convolutions.Select(c => c.Filters.Outputs).ToArray());
        Assert.IsTrue(network.Convolutions.All(c => c.KernelSize == 3 && c.PoolSize == 2));
        CollectionAssert.AreEqual(new[] { 24, 8 }, network.Layers.Select(l => l.Inputs).ToArray());
    }

    [TestMethod]
    public void UnsupportedOperation_IsRefused_NamingTheNodeAndItsOperation()
    {
        var e = Assert.ThrowsExactly<NotSupportedException>(() => new MLContext().Model.LoadOnnxNetwork(PyTorch("mlp-tanh.onnx")));
        StringAssert.Contains(e.Message, "node '/1/Tanh' (Tanh)");
    }

    /// <summary>A graph as PyTorch lays out Linear layers as MatMul + Add (weights stored transposed, (in, out)): input [N, 3].</summary>
    private static ModelProto MatMulGraph(int opset = 13, float[]? firstWeights = null, long firstOutputs = 2)
    {
        var graph = new GraphProto { Name = "torch_jit" };
        graph.Input.Add(Value("onnx::MatMul_0", 3));
        graph.Output.Add(Value("output", 1));
        void Initializer(string name, float[] values, params long[] dims)
        {
            var t = new TensorProto { Name = name, DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray()) };
            t.Dims.AddRange(dims);
            graph.Initializer.Add(t);
        }

        Initializer("onnx::MatMul_10", firstWeights ?? new[] { 1f, -1f, 0.5f, 2f, -0.25f, 1f }, 3, firstOutputs);
        Initializer("0.bias", new[] { 0.1f, -0.2f }, 2);
        Initializer("onnx::MatMul_11", new[] { 1.5f, -0.5f }, 2, 1);
        Initializer("2.bias", new[] { 0.3f }, 1);
        NodeProto Node(string name, string op, string[] inputs, string output)
        {
            var node = new NodeProto { Name = name, OpType = op };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            return node;
        }

        graph.Node.Add(Node("/0/MatMul", "MatMul", new[] { "onnx::MatMul_0", "onnx::MatMul_10" }, "/0/MatMul_output_0"));
        graph.Node.Add(Node("/0/Add", "Add", new[] { "/0/MatMul_output_0", "0.bias" }, "/0/Add_output_0"));
        graph.Node.Add(Node("/1/Relu", "Relu", new[] { "/0/Add_output_0" }, "/1/Relu_output_0"));
        graph.Node.Add(Node("/2/MatMul", "MatMul", new[] { "/1/Relu_output_0", "onnx::MatMul_11" }, "/2/MatMul_output_0"));
        graph.Node.Add(Node("/2/Add", "Add", new[] { "/2/MatMul_output_0", "2.bias" }, "output"));
        var model = new ModelProto { IrVersion = 8, ProducerName = "pytorch", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = opset });
        return model;
    }

    private static ValueInfoProto Value(string name, long width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } };
    }

    private static ITransformer Load(ModelProto model, QatTask? task = null) => Load(model.ToByteArray(), task);

    private static ITransformer Load(byte[] bytes, QatTask? task = null)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-onnx-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, bytes);
        try
        {
            return new MLContext().Model.LoadOnnxNetwork(path, new OnnxNetworkOptions { Task = task });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void MatMulAddLayout_HandBuilt_ScoresAsComputedByHand()
    {
        QuantizedMlp network = Network(Load(MatMulGraph()));
        Assert.AreEqual(QatTask.Regression, network.Task);
        // x = (1, 2, -1): hidden = relu(x W + b) with W = [[1, -1], [0.5, 2], [-0.25, 1]] = relu((2.25, 2) + (0.1, -0.2)) = (2.35, 1.8);
        // output = 2.35 · 1.5 + 1.8 · -0.5 + 0.3 = 2.925.
        Assert.AreEqual(2.925f, network.Forward(new[] { 1f, 2f, -1f })[0], 1e-6f);
    }

    [TestMethod]
    public void OwnFloatExport_ReadsBackBitForBit()
    {
        var random = new Random(5);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var dense = new QuantizedMlp(QatTask.MulticlassClassification, 4, new[] { new QuantizedLayer(6, 5, R(30), R(5)), new QuantizedLayer(5, 4, R(20), R(4)) });
        var block = new QuantizedConvolution(new ImageShape(2, 6, 6), 3, new QuantizedLayer(18, 3, R(54), R(3)));
        var cnn = new QuantizedMlp(QatTask.Regression, 1, new[] { block }, new[] { new QuantizedLayer(27, 4, R(108), R(4)), new QuantizedLayer(4, 1, R(4), R(1)) }, outputScale: 2.5f, outputShift: -1f);
        foreach (QuantizedMlp network in new[] { dense, cnn })
        {
            var g = new OnnxGraph();
            g.Input("Features", DataType.Float, network.FeatureCount);
            OnnxNetwork.Emit(g, "Features", network, new OnnxExportOptions { NetworkLayout = OnnxNetworkLayout.PerChannelQdq });
            QuantizedMlp read = Network(Load(g.Model("test")));
            Assert.AreEqual(network.Task, read.Task);
            Assert.AreEqual(network.OutputScale, read.OutputScale);
            Assert.AreEqual(network.OutputShift, read.OutputShift);
            for (int row = 0; row < 20; row++)
            {
                float[] x = R(network.FeatureCount);
                CollectionAssert.AreEqual(network.Forward(x).Select(BitConverter.SingleToInt32Bits).ToArray(), read.Forward(x).Select(BitConverter.SingleToInt32Bits).ToArray());
            }
        }
    }

    [TestMethod]
    public void WrongWidth_IsRefused_NamingTheNodeAndBothWidths()
    {
        // A first MatMul of 2 x 3 weights on a 3-wide input: its weights take 2 inputs.
        var model = MatMulGraph(firstWeights: new[] { 1f, -1f, 0.5f, 2f, -0.25f, 1f }, firstOutputs: 3);
        model.Graph.Initializer[0].Dims[0] = 2;
        var e = Assert.ThrowsExactly<ModelFormatException>(() => Load(model));
        StringAssert.Contains(e.Message, "node '/0/MatMul' (MatMul) has 2 inputs where the previous value has 3");
    }

    [TestMethod]
    public void OldOpset_IsRefused_NamingIt()
    {
        var e = Assert.ThrowsExactly<ModelFormatException>(() => Load(MatMulGraph(opset: 11)));
        StringAssert.Contains(e.Message, "opset 11");
    }

    [TestMethod]
    public void WeightsOfTheWrongSize_AreRefused_NamingTheNode()
    {
        var model = MatMulGraph();
        model.Graph.Initializer[1].RawData = ByteString.CopyFrom(new byte[5]);
        var e = Assert.ThrowsExactly<ModelFormatException>(() => Load(model));
        StringAssert.Contains(e.Message, "'/0/Add' (Add)");
    }

    [TestMethod]
    public void DamagedFiles_EndInModelFormatException()
    {
        byte[] good = File.ReadAllBytes(PyTorch("cnn-multiclass.onnx"));
        var random = new Random(11);
        int refused = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            byte[] bytes = (byte[])good.Clone();
            if (trial % 2 == 0)
            {
                bytes = bytes[..random.Next(bytes.Length)]; // truncated
            }
            else
            {
                for (int k = 0; k < 4; k++)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }
            }

            try
            {
                Network(Load(bytes));
            }
            catch (Exception e) when (e is ModelFormatException or NotSupportedException)
            {
                refused++;
            }
        }

        Assert.IsGreaterThan(100, refused, "most damaged files are refused (a flipped bit inside a weight still reads)");
    }

    [TestMethod]
    public void NotOnnxAtAll_IsAModelFormatException()
    {
        Assert.ThrowsExactly<ModelFormatException>(() => Load(System.Text.Encoding.UTF8.GetBytes("Label,x\n1,2\n")));
    }
}
