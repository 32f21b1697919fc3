using Microsoft.ML.Data;

namespace MlRounding.Tests.Shared;

/// <summary>Rows with every supported input shape, and an unsupported (text) column.</summary>
public sealed class TestRow
{
    public float F { get; set; }

    public double D { get; set; }

    [VectorType(4)]
    public float[] FV { get; set; } = new float[4];

    [VectorType(3)]
    public double[] DV { get; set; } = new double[3];

    public float[] VarF { get; set; } = Array.Empty<float>();

    public string Text { get; set; } = string.Empty;

    public int I { get; set; }

    /// <summary>Deterministic rows covering ties, negatives, NaN, infinities, huge and tiny values.</summary>
    public static List<TestRow> Make(int count, int seed = 1)
    {
        var random = new Random(seed);
        float[] specials = { 0.5f, -2.5f, 1.005f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3e38f, 1e-30f, -0f, 12.345f };
        var rows = new List<TestRow>();
        for (int i = 0; i < count; i++)
        {
            float Next() => i < specials.Length && random.Next(3) == 0 ? specials[random.Next(specials.Length)] : (float)((random.NextDouble() - 0.5) * 40);
            rows.Add(new TestRow
            {
                F = i < specials.Length ? specials[i] : Next(),
                D = i < specials.Length ? specials[i] : (random.NextDouble() - 0.5) * 400,
                FV = new[] { Next(), Next(), Next(), Next() },
                DV = new[] { (random.NextDouble() - 0.5) * 10, random.NextDouble() * 1000, -random.NextDouble() },
                VarF = Enumerable.Range(0, 1 + i % 5).Select(_ => Next()).ToArray(),
                Text = "t" + i,
                I = i,
            });
        }

        return rows;
    }
}
