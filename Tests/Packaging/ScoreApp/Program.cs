// Loads a model saved by another application (with mlContext.Model.Load: no registration call) and writes the Score
// vector of every row of the digits CSV as float bits, then lists the assemblies it loaded. Exit code 3 if any assembly
// whose name starts with TorchSharp was loaded.
// Usage: ScoreApp DIGITS.csv MODEL.zip SCORES.txt
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

var ml = new MLContext();
ITransformer model = ml.Model.Load(args[1], out DataViewSchema _);
IDataView data = ml.Data.LoadFromTextFile<Digit>(args[0], hasHeader: true, separatorChar: ',');
IDataView scored = model.Transform(data);
var lines = new List<string>();
using (var cursor = scored.GetRowCursor(new[] { scored.Schema["Score"] }))
{
    var get = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
    VBuffer<float> score = default;
    while (cursor.MoveNext())
    {
        get(ref score);
        lines.Add(string.Join(' ', score.DenseValues().Select(v => BitConverter.SingleToInt32Bits(v).ToString("x8"))));
    }
}

File.WriteAllLines(args[2], lines);
string[] loaded = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? "").OrderBy(n => n).ToArray();
Console.WriteLine($"scored {lines.Count} rows; assemblies loaded: {string.Join(", ", loaded.Where(n => n.StartsWith("MlRounding") || n.StartsWith("Microsoft.ML") || n.StartsWith("Torch")))}");
string[] torch = loaded.Where(n => n.StartsWith("TorchSharp", StringComparison.Ordinal)).ToArray();
if (torch.Length > 0)
{
    Console.Error.WriteLine("loaded TorchSharp assemblies: " + string.Join(", ", torch));
    return 3;
}

return 0;

public sealed class Digit
{
    [LoadColumn(0, 63), VectorType(64)]
    public float[] Pixels { get; set; } = Array.Empty<float>();

    [LoadColumn(64)]
    public float Label { get; set; }
}
