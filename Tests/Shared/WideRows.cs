using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.Shared;

/// <summary>Rows of a 37-slot vector (wide enough for the SIMD loops and their scalar tails) with special values in every lane.</summary>
internal static class WideRows
{
    public sealed class WideRow
    {
        [VectorType(37)]
        public float[] X { get; set; } = new float[37];
    }

    /// <summary>300 seeded rows: a quarter of the values special (NaN, ±∞, near the float32 limits, subnormal, -0, ties), the rest spread over nine decades.</summary>
    public static (MLContext Ml, IDataView View, List<float[]> Rows) Data()
    {
        var random = new Random(5);
        float[] specials = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3.4e38f, -3.4e38f, 1e-40f, -0f, 0.5f, -0.5f, 2.5f, 0.125f, 0.005f, 12.345f };
        var rows = Enumerable.Range(0, 300).Select(r => Enumerable.Range(0, 37).Select(i =>
            random.Next(4) == 0 ? specials[random.Next(specials.Length)] : (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 6)))).ToArray()).ToList();
        var ml = new MLContext();
        return (ml, ml.Data.LoadFromEnumerable(rows.Select(x => new WideRow { X = x })), rows);
    }
}
