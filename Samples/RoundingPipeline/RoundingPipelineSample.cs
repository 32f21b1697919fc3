using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding;

namespace MlRounding.Samples;

/// <summary>
/// Sample: <c>Round</c>, <c>RoundToStep</c> and <c>Quantize</c> as ordinary ML.NET pipeline steps on the bundled diabetes
/// data, mixed with built-in transforms; the fitted pipeline is saved with <c>mlContext.Model.Save</c> and loaded in a
/// fresh <c>MLContext</c> (or a fresh process) with <c>mlContext.Model.Load</c>, with no registration call.
/// </summary>
public static class RoundingPipelineSample
{
    /// <summary>The diabetes rows: ten baseline variables and the disease progression.</summary>
    public sealed class Patient
    {
        [LoadColumn(0)] public float Age { get; set; }
        [LoadColumn(1)] public float Sex { get; set; }
        [LoadColumn(2)] public float Bmi { get; set; }
        [LoadColumn(3)] public float Bp { get; set; }
        [LoadColumn(4)] public float S1 { get; set; }
        [LoadColumn(5)] public float S2 { get; set; }
        [LoadColumn(6)] public float S3 { get; set; }
        [LoadColumn(7)] public float S4 { get; set; }
        [LoadColumn(8)] public float S5 { get; set; }
        [LoadColumn(9)] public float S6 { get; set; }
        [LoadColumn(10)] public float Progression { get; set; }
    }

    /// <summary>Loads the bundled data set.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <param name="path">The CSV file; default: data/diabetes.csv next to the program.</param>
    /// <returns>The data view.</returns>
    public static IDataView LoadData(MLContext ml, string? path = null) =>
        ml.Data.LoadFromTextFile<Patient>(path ?? Path.Combine(AppContext.BaseDirectory, "data", "diabetes.csv"), hasHeader: true, separatorChar: ',');

    /// <summary>Builds and fits the pipeline: BMI to whole numbers, S5 to steps of 0.1, all features normalized then 4-bit quantized per slot.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <param name="data">The data.</param>
    /// <returns>The fitted pipeline.</returns>
    public static ITransformer Fit(MLContext ml, IDataView data)
    {
        var pipeline = ml.Transforms.Round("BmiRounded", "Bmi", decimals: 0)
            .Append(ml.Transforms.RoundToStep("S5Rounded", "S5", step: 0.1))
            .Append(ml.Transforms.Concatenate("Raw", "Age", "Sex", "BmiRounded", "Bp", "S1", "S2", "S3", "S4", "S5Rounded", "S6"))
            .Append(ml.Transforms.NormalizeMinMax("Normalized", "Raw"))
            .Append(ml.Transforms.Quantize(new QuantizeOptions
            {
                OutputColumnName = "Features", InputColumnName = "Normalized", Bits = 4, PerSlot = true, CodesColumnName = "Codes",
            }));
        return pipeline.Fit(data);
    }

    /// <summary>Writes the first <paramref name="rows"/> rows of the columns as CSV with round-trip numbers.</summary>
    /// <param name="data">The transformed data.</param>
    /// <param name="writer">Where to write.</param>
    /// <param name="rows">How many rows.</param>
    public static void Print(IDataView data, TextWriter writer, int rows = 10)
    {
        string[] columns = { "BmiRounded", "S5Rounded", "Features", "Codes" };
        writer.WriteLine(string.Join(",", columns));
        using var cursor = data.GetRowCursor(columns.Select(c => data.Schema[c]));
        var bmi = cursor.GetGetter<float>(data.Schema["BmiRounded"]);
        var s5 = cursor.GetGetter<float>(data.Schema["S5Rounded"]);
        var features = cursor.GetGetter<VBuffer<float>>(data.Schema["Features"]);
        var codes = cursor.GetGetter<VBuffer<float>>(data.Schema["Codes"]);
        float b = 0, s = 0;
        VBuffer<float> f = default, c = default;
        for (int i = 0; i < rows && cursor.MoveNext(); i++)
        {
            bmi(ref b);
            s5(ref s);
            features(ref f);
            codes(ref c);
            writer.WriteLine(string.Join(",", R(b), R(s), string.Join(" ", f.DenseValues().Select(R)), string.Join(" ", c.DenseValues().Select(R))));
        }
    }

    private static string R(float x) => x.ToString("R", CultureInfo.InvariantCulture);
}
