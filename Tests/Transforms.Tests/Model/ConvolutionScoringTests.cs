namespace MlRounding.Tests.Model;

/// <summary>
/// The scorer's convolution blocks against a hand-computed case and against a second implementation written from the
/// documented arithmetic (direct loops, exact integer sums, pooling after the codes rather than before): equal bits on
/// every instruction set this machine has, with per-channel input grids and zero points, and through the float path.
/// </summary>
[TestClass]
public sealed class ConvolutionScoringTests
{
    private static IEnumerable<IntegerKernels.Isa> Available() =>
        Enum.GetValues<IntegerKernels.Isa>().Where(i => i <= IntegerKernels.Best);

    [TestMethod]
    public void HandComputed_OneFilter_SamePadding_MaxPool()
    {
        // A 1x2x2 image of input codes (grid scale 1, zero point 0, step 1): [[1, 2], [3, 4]]. One 3x3 filter of codes
        // all 1 except the centre 2, step 1, bias 0.5: at every position of a 2x2 image the patch holds the whole image
        // (zero padding elsewhere), so y = 1 + 2 + 3 + 4 + (centre value) + 0.5: 11.5, 12.5, 13.5, 14.5. ReLU, activation
        // codes with step 2: round(y / 2) = 6, 6, 7, 7 (half away from zero: 5.75 → 6, 6.25 → 6, 6.75 → 7, 7.25 → 7);
        // 2x2 max pooling: 7. The dense layer (code 3, step 0.25, bias -1) gives 7 · 3 · (0.25 · 2) - 1 = 9.5.
        var grid = new AffineGrid(8, QuantizationRange.FromBits(8, signed: false), new[] { 1.0 }, new[] { 0L });
        var filters = new QuantizedLayer(9, 1, 4, new[] { 1, 1, 1, 1, 2, 1, 1, 1, 1 }, new[] { 1f }, new[] { 0.5f }, activationBits: 8, activationStep: 2);
        var block = new QuantizedConvolution(new ImageShape(1, 2, 2), 3, filters);
        var dense = new QuantizedLayer(1, 1, 4, new[] { 3 }, new[] { 0.25f }, new[] { -1f });
        var model = new QuantizedMlp(QatTask.Regression, 1, new[] { block }, new[] { dense }, grid, 1);
        Assert.AreEqual(4, model.FeatureCount);
        Assert.AreEqual(9.5f, model.Forward(new[] { 1f, 2, 3, 4 })[0]);
    }

    [TestMethod]
    [DataRow(4, 0L, 3)]
    [DataRow(8, 37L, 3)]
    [DataRow(2, 5L, 5)]
    [DataRow(1, 0L, 1)]
    [DataRow(4, 0L, 3, 12)] // activation codes wider than a byte: the blocks' ints path and the scalar codes after pooling
    [DataRow(4, 3L, 3, 8, 1)] // no pooling
    public void Scores_EveryInstructionSet_EqualTheDirectLoops_BitForBit(int weightBits, long zero, int kernel, int activationBits = 8, int pool = 2)
    {
        var random = new Random(weightBits * 100 + kernel);
        QuantizedMlp model = RandomCnn(random, new ImageShape(3, 9, 8), new[] { 5, 7 }, kernel, weightBits, zero, activationBits, pool);
        float[][] rows = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, model.FeatureCount).Select(_ => (float)(random.NextDouble() * 3 - 1)).ToArray()).ToArray();
        float[][] expected = rows.Select(r => Reference(model, r)).ToArray();
        foreach (var isa in Available())
        {
            using var forced = IntegerKernels.Force(isa);
            for (int i = 0; i < rows.Length; i++)
            {
                CollectionAssert.AreEqual(Bits(expected[i]), Bits(model.Forward(rows[i])), $"{isa}, W{weightBits} z={zero} k={kernel}, row {i}");
            }
        }
    }

    [TestMethod]
    public void FloatNetwork_EqualsFloat64DirectLoops_WithinFloat32Rounding()
    {
        // Float weights and activations: the scorer sums in float64 and rounds once per output; the reference does the same
        // sums in another order, so they agree to float32 rounding, not bit for bit.
        var random = new Random(5);
        var shape = new ImageShape(2, 6, 6);
        var c1 = new QuantizedConvolution(shape, 3, new QuantizedLayer(18, 4, RandomFloats(random, 72), RandomFloats(random, 4)));
        var c2 = new QuantizedConvolution(c1.Output, 3, new QuantizedLayer(36, 3, RandomFloats(random, 108), RandomFloats(random, 3)), poolSize: 1);
        var dense = new QuantizedLayer(c2.Output.Size, 2, RandomFloats(random, c2.Output.Size * 2), RandomFloats(random, 2));
        var model = new QuantizedMlp(QatTask.MulticlassClassification, 2, new[] { c1, c2 }, new[] { dense });
        float[] x = RandomFloats(random, shape.Size);
        double[] map = x.Select(v => (double)v).ToArray();
        foreach (var block in model.Convolutions)
        {
            map = FloatBlock(block, map);
        }

        float[] expected = Enumerable.Range(0, 2).Select(j => (float)(Enumerable.Range(0, dense.Inputs).Sum(k => (double)dense.FloatWeights[j * dense.Inputs + k] * (float)map[k]) + dense.Bias[j])).ToArray();
        float[] actual = model.Forward(x);
        for (int j = 0; j < 2; j++)
        {
            Assert.AreEqual(expected[j], actual[j], 1e-5 * Math.Max(1, Math.Abs(expected[j])), $"output {j}");
        }
    }

    [TestMethod]
    public void ForwardBatch_EqualsRowByRow()
    {
        var random = new Random(8);
        QuantizedMlp model = RandomCnn(random, new ImageShape(1, 8, 8), new[] { 4 }, 3, 4, 0);
        int rows = 1100, d = model.FeatureCount, o = model.OutputCount;
        float[] features = Enumerable.Range(0, rows * d).Select(_ => (float)random.NextDouble()).ToArray();
        float[] expected = Enumerable.Range(0, rows).SelectMany(i => model.Forward(features.AsSpan(i * d, d))).ToArray();
        float[] actual = new float[rows * o];
        model.ForwardBatch(features, actual, 2);
        CollectionAssert.AreEqual(Bits(expected), Bits(actual));
    }

    [TestMethod]
    public void RowWithNaN_ScoresNaN()
    {
        QuantizedMlp model = RandomCnn(new Random(1), new ImageShape(1, 4, 4), new[] { 2 }, 3, 4, 0);
        float[] x = new float[16];
        x[5] = float.NaN;
        Assert.IsTrue(model.Forward(x).All(float.IsNaN));
    }

    [TestMethod]
    public void BadShapes_NameTheArgument()
    {
        var shape = new ImageShape(2, 4, 4);
        var filters = new QuantizedLayer(18, 3, 4, new int[54], new[] { 1f }, new float[3], 8, 1);
        Assert.AreEqual("kernelSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantizedConvolution(shape, 2, filters)).ParamName);
        Assert.AreEqual("filters", Assert.ThrowsExactly<ArgumentException>(() => new QuantizedConvolution(shape, 5, filters)).ParamName);
        Assert.AreEqual("poolSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new QuantizedConvolution(shape, 3, filters, 3)).ParamName);
        Assert.AreEqual("width", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageShape(4096, 4096, 2)).ParamName);
        var block = new QuantizedConvolution(shape, 3, filters);
        var dense = new QuantizedLayer(13, 1, new float[13], new float[1]);
        var e = Assert.ThrowsExactly<ArgumentException>(() => new QuantizedMlp(QatTask.Regression, 1, new[] { block }, new[] { dense }));
        StringAssert.Contains(e.Message, "3x2x2 = 12 values");
        var chained = new QuantizedConvolution(new ImageShape(3, 4, 4), 3, new QuantizedLayer(27, 1, new float[27], new float[1]));
        e = Assert.ThrowsExactly<ArgumentException>(() => new QuantizedMlp(QatTask.Regression, 1, new[] { block, chained }, new[] { dense }));
        StringAssert.Contains(e.Message, "block 1 takes 3x4x4 but block 0 gives 3x2x2");
        var perPixel = new AffineGrid(8, QuantizationRange.FromBits(8, signed: false), Enumerable.Range(1, 32).Select(i => (double)i).ToArray(), new long[32]);
        var fits = new QuantizedLayer(12, 1, new float[12], new float[1]);
        e = Assert.ThrowsExactly<ArgumentException>(() => new QuantizedMlp(QatTask.Regression, 1, new[] { block }, new[] { fits }, perPixel, 1));
        Assert.AreEqual("inputGrid", e.ParamName);
    }

    /// <summary>
    /// A CNN with random codes: blocks of <paramref name="channels"/> with <paramref name="activationBits"/>-bit activations and
    /// <paramref name="pool"/> x <paramref name="pool"/> max pooling, a dense hidden layer of 6 and 3
    /// outputs; a per-channel 8-bit input grid with scales 1.5/255, 2.5/255, ... and zero points <paramref name="zero"/>, zero + 1, ... (or all 0).
    /// </summary>
    internal static QuantizedMlp RandomCnn(Random random, ImageShape shape, int[] channels, int kernel, int weightBits, long zero, int activationBits = 8, int pool = 2)
    {
        var blocks = new List<QuantizedConvolution>();
        ImageShape input = shape;
        foreach (int c in channels)
        {
            var block = new QuantizedConvolution(input, kernel, RandomLayer(random, input.Channels * kernel * kernel, c, weightBits, activationBits), pool);
            blocks.Add(block);
            input = block.Output;
        }

        var layers = new[] { RandomLayer(random, input.Size, 6, weightBits, 8), RandomLayer(random, 6, 3, weightBits, 32) };
        double[] scales = Enumerable.Range(0, shape.Size).Select(k => (1.5 + k / (shape.Height * shape.Width)) / 255).ToArray();
        long[] zeros = Enumerable.Range(0, shape.Size).Select(k => zero == 0 ? 0 : zero + k / (shape.Height * shape.Width)).ToArray(); // per channel
        var grid = new AffineGrid(8, QuantizationRange.FromBits(8, signed: false), scales, zeros);
        return new QuantizedMlp(QatTask.MulticlassClassification, 3, blocks, layers, grid, 1f / 255);
    }

    private static QuantizedLayer RandomLayer(Random random, int inputs, int outputs, int weightBits, int activationBits)
    {
        long max = weightBits == 1 ? 1 : (1L << (weightBits - 1)) - 1;
        int[] codes = Enumerable.Range(0, inputs * outputs).Select(_ => weightBits == 1 ? random.Next(2) * 2 - 1 : random.Next((int)-max, (int)max + 1)).ToArray();
        float[] steps = Enumerable.Range(0, outputs).Select(_ => (float)(random.NextDouble() * 0.05 + 0.01)).ToArray();
        float[] bias = Enumerable.Range(0, outputs).Select(_ => (float)(random.NextDouble() - 0.3)).ToArray();
        return new QuantizedLayer(inputs, outputs, weightBits, codes, steps, bias, activationBits, activationBits == 32 ? 1 : (float)(random.NextDouble() * 0.02 + 0.01));
    }

    /// <summary>
    /// The documented arithmetic in direct loops: input codes q - z per feature; per output channel and position the exact
    /// sum over the patch (q - z outside the image is 0), y = (float)acc · (weight step · code step) + bias, the ReLU'd
    /// activation code at every position, then the maximum code of each pooling window (the scorer pools first); the dense
    /// layers as <see cref="ScorerKernelTests"/>' reference.
    /// </summary>
    private static float[] Reference(QuantizedMlp model, float[] x)
    {
        var grid = model.InputGrid!;
        long[] codes = x.Select((v, k) => (long)Math.Clamp(MathF.Round(v * (1f / (float)grid.Scales[k])) + grid.ZeroPoints[k], grid.Range.Min, grid.Range.Max) - grid.ZeroPoints[k]).ToArray();
        float step = model.InputStep;
        foreach (var block in model.Convolutions)
        {
            codes = IntegerBlock(block, codes, step);
            step = block.Filters.ActivationStep;
        }

        float[] y = Array.Empty<float>();
        for (int l = 0; l < model.Layers.Count; l++)
        {
            QuantizedLayer layer = model.Layers[l];
            y = Enumerable.Range(0, layer.Outputs).Select(j => (float)Enumerable.Range(0, layer.Inputs).Sum(k => codes[k] * (long)layer.WeightCodes[j * layer.Inputs + k]) * (Step(layer, j) * step) + layer.Bias[j]).ToArray();
            if (l + 1 < model.Layers.Count)
            {
                codes = y.Select(v => Code(v, layer)).ToArray();
                step = layer.ActivationStep;
            }
        }

        return y;
    }

    private static long[] IntegerBlock(QuantizedConvolution block, long[] input, float codeStep)
    {
        ImageShape i = block.Input, o = block.Output;
        QuantizedLayer f = block.Filters;
        int k = block.KernelSize, p = block.PoolSize;
        var full = new long[f.Outputs, i.Height, i.Width];
        for (int c = 0; c < f.Outputs; c++)
        {
            for (int y = 0; y < i.Height; y++)
            {
                for (int x = 0; x < i.Width; x++)
                {
                    long acc = 0;
                    for (int ci = 0; ci < i.Channels; ci++)
                    {
                        for (int dy = 0; dy < k; dy++)
                        {
                            for (int dx = 0; dx < k; dx++)
                            {
                                int yy = y + dy - k / 2, xx = x + dx - k / 2;
                                long v = yy < 0 || yy >= i.Height || xx < 0 || xx >= i.Width ? 0 : input[(ci * i.Height + yy) * i.Width + xx];
                                acc += v * f.WeightCodes[c * f.Inputs + (ci * k + dy) * k + dx];
                            }
                        }
                    }

                    full[c, y, x] = Code((float)acc * (Step(f, c) * codeStep) + f.Bias[c], f);
                }
            }
        }

        var output = new long[o.Size];
        for (int c = 0; c < o.Channels; c++)
        {
            for (int y = 0; y < o.Height; y++)
            {
                for (int x = 0; x < o.Width; x++)
                {
                    long m = long.MinValue;
                    for (int d = 0; d < p * p; d++)
                    {
                        m = Math.Max(m, full[c, y * p + d / p, x * p + d % p]);
                    }

                    output[(c * o.Height + y) * o.Width + x] = m;
                }
            }
        }

        return output;
    }

    private static double[] FloatBlock(QuantizedConvolution block, double[] input)
    {
        ImageShape i = block.Input, o = block.Output;
        QuantizedLayer f = block.Filters;
        int k = block.KernelSize, p = block.PoolSize;
        var output = Enumerable.Repeat(double.NegativeInfinity, o.Size).ToArray();
        for (int c = 0; c < f.Outputs; c++)
        {
            for (int y = 0; y < o.Height * p; y++)
            {
                for (int x = 0; x < o.Width * p; x++)
                {
                    double acc = 0;
                    for (int t = 0; t < f.Inputs; t++)
                    {
                        int ci = t / (k * k), yy = y + (t % (k * k)) / k - k / 2, xx = x + t % k - k / 2;
                        acc += yy < 0 || yy >= i.Height || xx < 0 || xx >= i.Width ? 0 : input[(ci * i.Height + yy) * i.Width + xx] * f.FloatWeights[c * f.Inputs + t];
                    }

                    int at = (c * o.Height + y / p) * o.Width + x / p;
                    output[at] = Math.Max(output[at], Math.Max(acc + f.Bias[c], 0));
                }
            }
        }

        return output;
    }

    private static long Code(float y, QuantizedLayer layer) => (long)Math.Clamp(MathF.Round(Math.Max(y, 0) / layer.ActivationStep, MidpointRounding.AwayFromZero), 0, layer.ActivationMax);

    private static float Step(QuantizedLayer layer, int j) => layer.WeightSteps.Length == 1 ? layer.WeightSteps[0] : layer.WeightSteps[j];

    private static float[] RandomFloats(Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
