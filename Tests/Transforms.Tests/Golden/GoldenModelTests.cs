using System.Runtime.InteropServices;
using Microsoft.ML;

namespace MlRounding.Tests.Golden;

/// <summary>
/// Model files written by this version (Tests/Golden, made by Tests/Golden/MakeGolden) keep loading and keep scoring as
/// they did: a transforms-only pipeline and a quantization-aware model per task, one with an output rounding layer and
/// one whose whole path is integer. Loaded with the scoring package alone (this project references nothing else).
/// A change that breaks one must bump the format version and document the migration (README, "Model files").
/// </summary>
[TestClass]
public sealed class GoldenModelTests
{
    private static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, name);

    public static IEnumerable<object[]> Cases => GoldenCases.All.Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void GoldenModel_LoadsAndScoresAsWhenItWasWritten(string name)
    {
        var golden = GoldenCases.All.Single(c => c.Name == name);
        var ml = new MLContext();
        ITransformer model = ml.Model.LoadVerified(Path.Combine(Folder("Golden"), name + ".zip"), out _);
        IDataView rows = GoldenCases.Load(ml, golden.DataFile, Path.Combine(Folder("data"), golden.DataFile));
        List<string> actual = GoldenCases.Read(model.Transform(rows), golden.Columns);
        string[] expected = File.ReadAllLines(Path.Combine(Folder("Golden"), name + ".scores.csv"));
        Assert.HasCount(expected.Length, actual, $"{name}: rows");
        bool bitForBit = golden.ExactEverywhere || RuntimeInformation.ProcessArchitecture == Architecture.X64;
        for (int r = 0; r < expected.Length; r++)
        {
            if (bitForBit)
            {
                Assert.AreEqual(expected[r], actual[r], $"{name}: row {r} (bits of every output)");
                continue;
            }

            // Off x64, outputs that go through exp may differ in the last bits of the platform's math library.
            string[] e = expected[r].Split(' '), a = actual[r].Split(' ');
            for (int c = 0; c < e.Length; c++)
            {
                float[] ev = Floats(e[c]), av = Floats(a[c]);
                for (int i = 0; i < ev.Length; i++)
                {
                    Assert.IsLessThanOrEqualTo(1e-6, Math.Abs(ev[i] - av[i]) / Math.Max(1e-30, Math.Abs(ev[i])), $"{name}: row {r} column {c} slot {i}");
                }
            }
        }
    }

    private static float[] Floats(string cell) => cell.Length == 8 || cell.Contains(',')
        ? cell.Split(',').Select(h => BitConverter.Int32BitsToSingle(Convert.ToInt32(h, 16))).ToArray()
        : new[] { float.Parse(cell, System.Globalization.CultureInfo.InvariantCulture) };
}
