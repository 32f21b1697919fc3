namespace MlRounding.Tests.Model;

/// <summary>
/// The scorer's kernels against independent references: every instruction set this machine has gives the exact integer
/// sums (and the same scores, bit for bit); the float64 dot product follows its documented order on every vector width;
/// the batch entry point equals row-by-row scoring.
/// </summary>
[TestClass]
public sealed class ScorerKernelTests
{
    private static IEnumerable<IntegerKernels.Isa> Available() =>
        Enum.GetValues<IntegerKernels.Isa>().Where(i => i <= IntegerKernels.Best);

    [TestMethod]
    [DataRow(1, 1, 1)]
    [DataRow(2, 31, 5)]
    [DataRow(4, 32, 4)]
    [DataRow(6, 33, 9)]
    [DataRow(7, 100, 7)]
    [DataRow(8, 784, 130)]
    [DataRow(8, 1000, 3)]
    public void IntegerDot_EveryInstructionSet_IsTheExactSum(int bits, int inputs, int outputs)
    {
        var random = new Random(bits * 1000 + inputs);
        long max = bits == 1 ? 1 : (1L << (bits - 1)) - 1;
        int[] codes = Enumerable.Range(0, inputs * outputs).Select(_ => bits == 1 ? (random.Next(2) * 2 - 1) : random.Next((int)-max, (int)max + 1)).ToArray();
        var layer = new QuantizedLayer(inputs, outputs, bits, codes, new[] { 1f }, new float[outputs]);
        var packed = new PackedLayer(layer);
        byte[] x = new byte[packed.Stride];
        for (int k = 0; k < inputs; k++)
        {
            x[k] = (byte)(random.Next(4) == 0 ? 255 : random.Next(256)); // the extremes often
        }

        long[] expected = Enumerable.Range(0, outputs).Select(j => Enumerable.Range(0, inputs).Sum(k => (long)x[k] * codes[j * inputs + k])).ToArray();
        foreach (var isa in Available())
        {
            using var forced = IntegerKernels.Force(isa);
            var acc = new int[outputs];
            IntegerKernels.Dot(x, packed, acc);
            CollectionAssert.AreEqual(expected, acc.Select(a => (long)a).ToArray(), $"{isa}, {bits}-bit codes, {inputs} inputs");
        }
    }

    [TestMethod]
    public void Scores_EveryInstructionSet_SameBits_AndEqualTheDocumentedArithmetic()
    {
        var random = new Random(7);
        foreach (var (weightBits, inputBits, zero) in new[] { (4, 8, 0L), (8, 8, 37L), (2, 4, 3L), (1, 8, 0L), (7, 6, 0L) })
        {
            QuantizedMlp model = RandomNetwork(random, 50, new[] { 40, 20 }, 5, weightBits, inputBits, zero);
            float[][] rows = Enumerable.Range(0, 60).Select(_ => Enumerable.Range(0, 50).Select(_ => (float)(random.NextDouble() * 3 - 1)).ToArray()).ToArray();
            float[][] expected = rows.Select(r => Reference(model, r)).ToArray();
            foreach (var isa in Available())
            {
                using var forced = IntegerKernels.Force(isa);
                for (int i = 0; i < rows.Length; i++)
                {
                    CollectionAssert.AreEqual(Bits(expected[i]), Bits(model.Forward(rows[i])), $"{isa}, W{weightBits} input {inputBits} bits z={zero}, row {i}");
                }
            }
        }
    }

    [TestMethod]
    public void FloatDot_EveryVectorWidth_SameBits_WithinTheSummationBoundOfTheExactSum()
    {
        // Independent reference: the exact sum (integers scaled by a common power of two), and the bound of any order of
        // n - 1 float64 additions, (n - 1) u Σ|a b|.
        var random = new Random(3);
        foreach (int n in new[] { 0, 1, 3, 4, 5, 8, 63, 784 })
        {
            double[] a = Enumerable.Range(0, n).Select(_ => (double)(float)(random.NextDouble() * 2e3 - 1e3)).ToArray();
            double[] b = Enumerable.Range(0, n).Select(_ => (double)random.Next(-127, 128)).ToArray();
            System.Numerics.BigInteger exact = Enumerable.Range(0, n).Aggregate(System.Numerics.BigInteger.Zero, (sum, k) => sum + (Scaled(a[k]) * (long)b[k]));
            double magnitude = Enumerable.Range(0, n).Sum(k => Math.Abs(a[k] * b[k]));
            double bound = Math.Max(0, n - 1) * Math.Pow(2, -53) * magnitude;
            long? bits = null;
            foreach (int width in new[] { 256, 128, 0 })
            {
                double dot = ScoringKernels.Dot(a, b, width);
                Assert.IsLessThanOrEqualTo(bound, Math.Abs((double)(Scaled(dot) - exact)) * Math.Pow(2, -ScaleBits), $"n={n}, {width}-bit vectors: within the summation bound");
                bits ??= BitConverter.DoubleToInt64Bits(dot);
                Assert.AreEqual(bits, BitConverter.DoubleToInt64Bits(dot), $"n={n}, {width}-bit vectors: the same bits as 256-bit vectors");
            }
        }
    }

    private const int ScaleBits = 200;

    /// <summary>x · 2^200 as an integer: exact for every float64 above 2^-200 in magnitude (and 0), which covers these sums.</summary>
    private static System.Numerics.BigInteger Scaled(double x)
    {
        if (x == 0)
        {
            return System.Numerics.BigInteger.Zero;
        }

        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7FF) - 1075;
        long mantissa = (bits & 0xFFFFFFFFFFFFFL) | (1L << 52);
        var value = new System.Numerics.BigInteger(mantissa) << (exponent + ScaleBits);
        return x < 0 ? -value : value;
    }

    [TestMethod]
    public void ForwardBatch_EqualsRowByRow_OnEveryThreadCount()
    {
        var random = new Random(11);
        foreach (var model in new[] { RandomNetwork(random, 30, new[] { 16 }, 3, 4, 8, 0), RandomNetwork(random, 30, new[] { 16 }, 1, 8, 0, 0) })
        {
            int rows = 1500, d = model.FeatureCount, o = model.OutputCount;
            float[] features = Enumerable.Range(0, rows * d).Select(_ => (float)random.NextDouble()).ToArray();
            features[7] = float.NaN; // a missing value in row 0
            float[] expected = Enumerable.Range(0, rows).SelectMany(i => model.Forward(features.AsSpan(i * d, d))).ToArray();
            foreach (int threads in new[] { 1, 2, -1 })
            {
                float[] actual = new float[rows * o];
                model.ForwardBatch(features, actual, threads);
                CollectionAssert.AreEqual(Bits(expected), Bits(actual), $"{threads} threads");
            }
        }
    }

    [TestMethod]
    public void ForwardBatch_BadLengths_NameTheArgument()
    {
        var model = RandomNetwork(new Random(1), 4, new[] { 3 }, 2, 4, 8, 0);
        Assert.AreEqual("features", Assert.ThrowsExactly<ArgumentException>(() => model.ForwardBatch(new float[7], new float[4])).ParamName);
        Assert.AreEqual("outputs", Assert.ThrowsExactly<ArgumentException>(() => model.ForwardBatch(new float[8], new float[3])).ParamName);
        Assert.AreEqual("maxDegreeOfParallelism", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.ForwardBatch(new float[8], new float[4], 0)).ParamName);
    }

    [TestMethod]
    public void IntegerInput_RowWithNaN_ScoresNaN_InfinitiesClampToTheGrid()
    {
        var model = RandomNetwork(new Random(2), 6, new[] { 5 }, 3, 4, 8, 0);
        float[] scores = model.Forward(new[] { 0.5f, float.NaN, 0, 0, 0, 0 });
        Assert.IsTrue(scores.All(float.IsNaN));
        float[] top = model.Forward(new[] { float.PositiveInfinity, 0, 0, 0, 0, 0 });
        float[] clamped = model.Forward(new[] { (float)(model.InputGrid!.Range.Max * model.InputGrid.Scales[0]), 0, 0, 0, 0, 0 });
        CollectionAssert.AreEqual(Bits(clamped), Bits(top), "+∞ is the grid's largest code");
    }

    [TestMethod]
    public void SumsThatCouldOverflow32Bits_TakeTheExactWidePath()
    {
        // 70,000 inputs of code 255 against weight codes of 127: the sum (about 2.3e9) exceeds int32.
        int n = 70_000;
        var layer = new QuantizedLayer(n, 1, 8, Enumerable.Repeat(127, n).ToArray(), new[] { 1f }, new[] { 0f });
        var grid = new AffineGrid(8, QuantizationRange.FromBits(8, signed: false), new[] { 1.0 }, new[] { 0L });
        var model = new QuantizedMlp(QatTask.Regression, 1, new[] { layer }, inputGrid: grid);
        Assert.IsFalse(new PackedLayer(layer).Fits(255));
        Assert.AreEqual((float)(255L * 127 * n), model.Forward(Enumerable.Repeat(255f, n).ToArray())[0]);
    }

    /// <summary>A network with random codes, steps and biases; an input grid of <paramref name="inputBits"/> bits and zero point <paramref name="zero"/> (0 bits: float input).</summary>
    private static QuantizedMlp RandomNetwork(Random random, int inputs, int[] hidden, int outputs, int weightBits, int inputBits, long zero)
    {
        int[] sizes = new[] { inputs }.Concat(hidden).Append(outputs).ToArray();
        long max = weightBits == 1 ? 1 : (1L << (weightBits - 1)) - 1;
        var layers = new List<QuantizedLayer>();
        for (int l = 0; l + 1 < sizes.Length; l++)
        {
            int n = sizes[l], m = sizes[l + 1];
            int[] codes = Enumerable.Range(0, n * m).Select(_ => weightBits == 1 ? random.Next(2) * 2 - 1 : random.Next((int)-max, (int)max + 1)).ToArray();
            float[] steps = Enumerable.Range(0, m).Select(_ => (float)(random.NextDouble() * 0.05 + 0.001)).ToArray();
            float[] bias = Enumerable.Range(0, m).Select(_ => (float)(random.NextDouble() - 0.3)).ToArray();
            bool hiddenLayer = l + 2 < sizes.Length;
            layers.Add(new QuantizedLayer(n, m, weightBits, codes, steps, bias, hiddenLayer ? 8 : 32, hiddenLayer ? (float)(random.NextDouble() * 0.02 + 0.01) : 1));
        }

        AffineGrid? grid = inputBits == 0 ? null
            : new AffineGrid(inputBits, QuantizationRange.FromBits(inputBits, signed: false), new[] { 2.5 / ((1 << inputBits) - 1) }, new[] { zero });
        QatTask task = outputs == 1 ? QatTask.Regression : QatTask.MulticlassClassification;
        return new QuantizedMlp(task, outputs == 1 ? 1 : outputs, layers, inputGrid: grid);
    }

    /// <summary>
    /// The deployed arithmetic from its documentation, on the public view of the model: input codes
    /// clamp(round(x · (1/s)) + z) in float32, exact integer sums, y = (float)acc · (weight step · code step) + bias,
    /// ReLU, activation codes clamp(round(y / step), 0, max).
    /// </summary>
    private static float[] Reference(QuantizedMlp model, float[] x)
    {
        var grid = model.InputGrid!;
        float s = (float)grid.Scales[0], inverse = 1f / s, z = grid.ZeroPoints[0];
        long[] codes = x.Select(v => (long)Math.Clamp(MathF.Round(v * inverse) + z, grid.Range.Min, grid.Range.Max) - (long)z).ToArray();
        float step = s;
        float[] y = Array.Empty<float>();
        for (int l = 0; l < model.Layers.Count; l++)
        {
            QuantizedLayer layer = model.Layers[l];
            y = new float[layer.Outputs];
            for (int j = 0; j < layer.Outputs; j++)
            {
                long acc = 0;
                for (int k = 0; k < layer.Inputs; k++)
                {
                    acc += codes[k] * layer.WeightCodes[j * layer.Inputs + k];
                }

                float weightStep = layer.WeightSteps.Length == 1 ? layer.WeightSteps[0] : layer.WeightSteps[j];
                y[j] = (float)acc * (weightStep * step) + layer.Bias[j];
            }

            if (l + 1 < model.Layers.Count)
            {
                step = layer.ActivationStep;
                codes = y.Select(v => (long)Math.Clamp(MathF.Round(Math.Max(v, 0) / step), 0, layer.ActivationMax)).ToArray();
            }
        }

        return y;
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
