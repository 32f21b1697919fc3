using System.Globalization;

namespace MlRounding.Trainers.Tests;

/// <summary>
/// The bundled digits data (1,797 rows, 64 pixel counts 0..16, label 0..9) with the project's fixed split: rows whose
/// index is a multiple of 5 are the test set (360 rows), the others train (1,437 rows). Features are divided by 16.
/// </summary>
internal static class Digits
{
    private static readonly Lazy<(QatData Train, QatData Test)> Split = new(Load);

    public static QatData Train => Split.Value.Train;

    public static QatData Test => Split.Value.Test;

    private static (QatData, QatData) Load()
    {
        string[] lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"));
        var train = (Features: new List<float>(), Labels: new List<float>());
        var test = (Features: new List<float>(), Labels: new List<float>());
        for (int i = 1; i < lines.Length; i++)
        {
            float[] values = lines[i].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var target = (i - 1) % 5 == 0 ? test : train;
            target.Features.AddRange(values[..64].Select(v => v / 16f));
            target.Labels.Add(values[64]);
        }

        return (new QatData(train.Features.ToArray(), train.Labels.ToArray(), 64), new QatData(test.Features.ToArray(), test.Labels.ToArray(), 64));
    }

    /// <summary>
    /// The trained network's fake-quantized float pass (what its gradients see, in evaluation mode) and the deployed
    /// scorer's scores, on every row of <paramref name="data"/>.
    /// </summary>
    public static (float[] Network, float[] Scorer) BothScores(QatNetwork network, QuantizedMlp model, QatData data)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var noGrad = TorchSharp.torch.no_grad();
        float[] torchScores = network.call(TorchSharp.torch.tensor(data.Features).reshape(data.Count, data.FeatureCount)).data<float>().ToArray();
        float[] ours = Enumerable.Range(0, data.Count).SelectMany(i => model.Forward(data.Features.AsSpan(i * data.FeatureCount, data.FeatureCount))).ToArray();
        return (torchScores, ours);
    }

    /// <summary>
    /// Asserts that the network's fake-quantized float pass tracks the deployed integer scorer: the same predicted class on
    /// every row (or the argmax of the single score's sign), a largest score difference relative to max(1, |score|)
    /// of at most <paramref name="bound"/>, and at least 98 % of the rows within 1e-5. They differ only by float
    /// rounding of the same arithmetic, which can move an activation that sits on a rounding tie by one code: the few
    /// rows where that happens carry the largest difference, every other row agrees to float rounding.
    /// </summary>
    /// <returns>The largest relative difference seen.</returns>
    public static double AssertTracks(QatNetwork network, QuantizedMlp model, QatData data, double bound, string what)
    {
        int close = 0;
        var (torchScores, ours) = BothScores(network, model, data);
        int outputs = ours.Length / data.Count;
        double worst = 0;
        for (int i = 0; i < data.Count; i++)
        {
            float[] a = ours.AsSpan(i * outputs, outputs).ToArray(), b = torchScores.AsSpan(i * outputs, outputs).ToArray();
            Assert.AreEqual(Array.IndexOf(b, b.Max()), Array.IndexOf(a, a.Max()), $"{what}: row {i} predicts the same class");
            double row = a.Zip(b).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1, Math.Abs(p.Second)));
            worst = Math.Max(worst, row);
            close += row <= 1e-5 ? 1 : 0;
        }

        Console.WriteLine($"{what}: largest relative score difference {worst:R}, {close} of {data.Count} rows within 1e-5");
        Assert.IsLessThanOrEqualTo(bound, worst, what);
        Assert.IsGreaterThanOrEqualTo(0.98 * data.Count, (double)close, $"{what}: rows that agree to float rounding");
        return worst;
    }

    public static double Accuracy(QuantizedMlp model, QatData data)
    {
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            float[] scores = model.Forward(data.Features.AsSpan(i * data.FeatureCount, data.FeatureCount));
            int predicted = Array.IndexOf(scores, scores.Max());
            correct += predicted == (int)data.Labels[i] ? 1 : 0;
        }

        return (double)correct / data.Count;
    }
}
