using System.Globalization;
using System.Text;

namespace MlRounding.Benchmarks;

/// <summary>
/// A generated table for the larger-than-memory benchmark of <c>mlround train --stream</c>: 16 numeric features (seeded
/// normal noise, three decimals) and a 3-class label from a fixed linear rule of the first 8 plus noise, so a network
/// has something to learn; any number of rows, written in order to a temporary name and moved into place.
/// </summary>
internal static class SyntheticTable
{
    public const int Features = 16;

    public static void Write(string path, long rows)
    {
        var random = new Random(20261205);
        string temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary, append: false, new UTF8Encoding(false), 1 << 20))
        {
            writer.WriteLine(string.Join(',', Enumerable.Range(0, Features).Select(i => "x" + i)) + ",Label");
            var line = new StringBuilder();
            var x = new double[Features];
            for (long r = 0; r < rows; r++)
            {
                line.Clear();
                for (int i = 0; i < Features; i++)
                {
                    x[i] = Normal(random);
                    line.Append(x[i].ToString("F3", CultureInfo.InvariantCulture)).Append(',');
                }

                double score = x[0] + (0.8 * x[1]) - (0.6 * x[2]) + (0.5 * x[3] * x[4]) - (0.4 * x[5]) + (0.3 * x[6]) - (0.2 * x[7]) + (0.5 * Normal(random));
                writer.WriteLine(line.Append(score < -0.5 ? '0' : score < 0.5 ? '1' : '2'));
            }
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
