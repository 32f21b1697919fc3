namespace MlRounding.Trainers.Tests.Qat;

/// <summary>
/// The input screen of wide tables (<see cref="InputScreening"/>): its tests against closed forms and hand-computed cases,
/// and the trainer's choice between the screened and the full network on the validation rows.
/// </summary>
[TestClass]
public sealed class InputScreeningTests
{
    [TestMethod]
    public void FTail_MatchesTheClosedFormsOfTwoNumeratorDegrees()
    {
        // P(F(2, d) >= f) = (1 + 2f/d)^(-d/2); for d = 2 that is 1 / (1 + f).
        foreach (double d in new[] { 2.0, 6.0, 40.0 })
        {
            foreach (double f in new[] { 0.0, 0.3, 1.0, 4.5, 27.0, 300.0 })
            {
                Assert.AreEqual(Math.Pow(1 + (2 * f / d), -d / 2), InputScreening.FTail(f, 2, d), 1e-12, $"F(2, {d}) at {f}");
            }
        }

        Assert.AreEqual(1.0, InputScreening.FTail(double.NaN, 2, 6));
        Assert.AreEqual(1.0, InputScreening.FTail(1, 0, 6), "no degree of freedom");
    }

    [TestMethod]
    public void PValues_OfHandComputedTables()
    {
        // Three classes of three rows: x = 1,2,3 | 4,5,6 | 7,8,9. Class means 2, 5, 8 about 5: between 54 on 2 degrees,
        // within 6 on 6 degrees, F = 27, p = (1 + 2·27/6)^-3 = 0.001.
        var anova = new QatData(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, new float[] { 0, 0, 0, 1, 1, 1, 2, 2, 2 }, 1);
        Assert.AreEqual(0.001, InputScreening.PValue(anova, 0, QatTask.MulticlassClassification, 3), 1e-12);

        // Regression, x = 1..4, y = 1, 3, 2, 4: r² = 16/25, F = r²·2/(1 - r²) = 32/9 on (1, 2) degrees; the t test with 2
        // degrees gives p = 1 - sqrt(F / (2 + F)) = 1 - 0.8 = 0.2.
        var regression = new QatData(new float[] { 1, 2, 3, 4 }, new float[] { 1, 3, 2, 4 }, 1);
        Assert.AreEqual(0.2, InputScreening.PValue(regression, 0, QatTask.Regression, 0), 1e-12);

        // An input that separates the classes exactly (no spread within them) passes at any rate; a constant one never does.
        var separating = new QatData(new float[] { 3, 7, 3, 7, 3, 7 }, new float[] { 0, 1, 0, 1, 0, 1 }, 1);
        Assert.AreEqual(0.0, InputScreening.PValue(separating, 0, QatTask.BinaryClassification, 2));
        var constant = new QatData(new float[] { 5, 5, 5, 5 }, new float[] { 0, 1, 0, 1 }, 1);
        Assert.AreEqual(1.0, InputScreening.PValue(constant, 0, QatTask.BinaryClassification, 2));
        Assert.AreEqual(1.0, InputScreening.PValue(constant, 0, QatTask.Regression, 0));
    }

    [TestMethod]
    public void BenjaminiHochberg_StepsUp()
    {
        // m = 5 at 0.05: sorted 0.01, 0.02, 0.03, 0.04, 0.5 against 0.01, 0.02, ..., 0.05: the first four pass.
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 4 }, InputScreening.BenjaminiHochberg(new[] { 0.01, 0.04, 0.03, 0.5, 0.02 }, 0.05));

        // Step-up: 0.03 fails its own threshold 0.05/3 but the second 0.03 passes 2·0.05/3, which keeps both.
        CollectionAssert.AreEqual(new[] { 0, 1 }, InputScreening.BenjaminiHochberg(new[] { 0.03, 0.03, 0.5 }, 0.05));
        CollectionAssert.AreEqual(Array.Empty<int>(), InputScreening.BenjaminiHochberg(new[] { 0.2, 0.3, 0.5 }, 0.05));
    }

    [TestMethod]
    public void Keep_AppliesOnlyWhenAtMostHalfTheInputsPass()
    {
        QatData wide = Table(rows: 400, inputs: 40, Linear, seed: 1);
        int[]? kept = InputScreening.Keep(wide, QatTask.MulticlassClassification, 2);
        Assert.IsNotNull(kept);
        CollectionAssert.IsSubsetOf(new[] { 0, 1, 2, 3, 4 }, kept, "the informative inputs");
        Assert.IsLessThanOrEqualTo(20, kept.Length);

        // Six inputs, five informative: the screen would keep more than half, so it does not apply.
        Assert.IsNull(InputScreening.Keep(Table(rows: 400, inputs: 6, Linear, seed: 1), QatTask.MulticlassClassification, 2));

        // No input passes (a label that is pure noise): nothing to screen to.
        Assert.IsNull(InputScreening.Keep(Table(rows: 400, inputs: 40, (x, r) => r.NextDouble() < 0.5 ? 1 : 0, seed: 1), QatTask.MulticlassClassification, 2));
    }

    [TestMethod]
    public void WideNoisyTable_TrainsOnTheScreenedInputs_AndScoresEveryInput()
    {
        // 5 informative inputs among 200, 900 training rows: the screened network generalizes better, exports over all 200
        // inputs, and has zero weight codes for every input it did not see.
        QatData train = Table(rows: 800, inputs: 200, Linear, seed: 1), validation = Table(rows: 100, inputs: 200, Linear, seed: 3);
        QatData test = Table(rows: 2000, inputs: 200, Linear, seed: 2);
        int[] kept = InputScreening.Keep(train, QatTask.MulticlassClassification, 2)!;
        QuantizedMlp screened = QatTraining.Train(train, 2, Options(screen: true), validation);
        QuantizedMlp full = QatTraining.Train(train, 2, Options(screen: false), validation);

        Assert.AreEqual(200, screened.FeatureCount);
        QuantizedLayer first = screened.Layers[0];
        var dropped = Enumerable.Range(0, 200).Except(kept).ToArray();
        Assert.IsTrue(dropped.All(j => Enumerable.Range(0, first.Outputs).All(o => first.WeightCodes[(o * 200) + j] == 0)), "zero codes for the inputs not seen");
        Assert.IsTrue(Enumerable.Range(0, first.Outputs).Any(o => first.WeightCodes[o * 200] != 0), "the first informative input is used");
        Assert.IsTrue(dropped.Any(j => Enumerable.Range(0, full.Layers[0].Outputs).Any(o => full.Layers[0].WeightCodes[(o * 200) + j] != 0)), "without the screen every input is used");

        double screenedAccuracy = Digits.Accuracy(screened, test), fullAccuracy = Digits.Accuracy(full, test);
        Assert.IsGreaterThan(fullAccuracy + 0.03, screenedAccuracy, $"screened {screenedAccuracy:F4}, full {fullAccuracy:F4}");
    }

    [TestMethod]
    public void AnInteractionTheScreenCannotSee_KeepsTheFullNetwork()
    {
        // The label is the XOR of the signs of inputs 0 and 1 (neither is associated with it alone); input 2 is a noisy
        // copy of the label, the one input of 12 the screen keeps. The full network learns the XOR and wins on validation; the
        // last progress report is the full network's again.
        QatData train = Table(rows: 900, inputs: 12, Xor, seed: 1);
        var seen = new List<QatProgress>();
        QuantizedMlp model = QatTraining.Train(train, 2, Options(screen: true), progress: new Collect(seen));

        QuantizedLayer first = model.Layers[0];
        Assert.IsTrue(Enumerable.Range(0, first.Outputs).Any(o => first.WeightCodes[o * 12] != 0 && first.WeightCodes[(o * 12) + 1] != 0), "inputs 0 and 1 are used");
        int restart = seen.FindIndex(1, p => p.Epoch == 1);
        Assert.IsGreaterThan(0, restart, "two runs were reported");
        Assert.AreEqual(seen[restart - 1], seen[^1], "the full run's last report, repeated");
        double accuracy = Digits.Accuracy(model, Table(rows: 2000, inputs: 12, Xor, seed: 2));
        Assert.IsGreaterThan(0.75, accuracy, "input 2 alone gives at most Φ(0.5) = 0.69 (its noise has the spread of the label's step)");
    }

    private static QatOptions Options(bool screen) => new() { HiddenLayers = new[] { 32 }, MaxEpoch = 30, WeightBits = 4, NumberOfThreads = 1, ScreenInputs = screen, Task = QatTask.MulticlassClassification };

    /// <summary>Label 1 when x0 + x1 + x2 - x3 - x4 plus noise is positive.</summary>
    private static float Linear(float[] x, Random random) => x[0] + x[1] + x[2] - x[3] - x[4] + (0.5 * Gaussian(random)) > 0 ? 1 : 0;

    /// <summary>Label 1 when x0 and x1 have different signs; x2 is then overwritten by a noisy copy of the label.</summary>
    private static float Xor(float[] x, Random random)
    {
        float label = (x[0] > 0) ^ (x[1] > 0) ? 1 : 0;
        x[2] = (float)(label + Gaussian(random));
        return label;
    }

    /// <summary>Rows of standard normal inputs and a label made from them.</summary>
    private static QatData Table(int rows, int inputs, Func<float[], Random, float> label, int seed)
    {
        var random = new Random(seed);
        var features = new float[rows * inputs];
        var labels = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            var x = Enumerable.Range(0, inputs).Select(_ => (float)Gaussian(random)).ToArray();
            labels[i] = label(x, random);
            x.CopyTo(features, i * inputs);
        }

        return new QatData(features, labels, inputs);
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
