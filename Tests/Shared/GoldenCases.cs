using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.Shared;

/// <summary>
/// The golden model files under Tests/Golden: what each one is, the data it scores (a bundled CSV), and its output
/// columns. Tests/Golden/MakeGolden writes them (with the expected scores); MlRounding.Transforms.Tests loads and scores
/// them with the scoring package alone.
/// </summary>
internal static class GoldenCases
{
    // The first five were written by network format 1 (2026-12-01, before the input grid), the sixth by format 2, the
    // convolutional network by format 3: files of every version must keep loading.

    /// <summary>One golden model.</summary>
    /// <param name="Name">File name without extension: NAME.zip (the model) and NAME.scores.csv (expected outputs).</param>
    /// <param name="DataFile">The bundled CSV it scores (Samples/data).</param>
    /// <param name="Columns">The output columns compared.</param>
    /// <param name="ExactEverywhere">Whether every output is fixed by IEEE arithmetic in an order the code pins (element-wise
    /// rounding, integer dot products, the scorer's fixed-order float64 sums), hence the same bits on every machine;
    /// false where an output goes through exp (probabilities, softmax), whose last bit belongs to the platform's math
    /// library: bit for bit on x64, within a stated bound elsewhere.</param>
    public sealed record Case(string Name, string DataFile, string[] Columns, bool ExactEverywhere);

    public static readonly Case[] All =
    {
        new("transforms", "diabetes.csv", new[] { "Cents", "Quarter", "Slots", "Symmetric", "Codes" }, ExactEverywhere: true),
        new("regression-cents", "diabetes.csv", new[] { "Score" }, ExactEverywhere: true),
        new("binary-w2a8", "breast_cancer.csv", new[] { "Score", "Probability", "PredictedLabel" }, ExactEverywhere: false),
        new("multiclass-w4a8-integer", "digits.csv", new[] { "Score", "PredictedLabel" }, ExactEverywhere: false),
        new("multiclass-w8a8", "digits.csv", new[] { "Score", "PredictedLabel" }, ExactEverywhere: false),
        new("multiclass-w4a8-input8", "digits.csv", new[] { "Score", "PredictedLabel" }, ExactEverywhere: false),
        new("multiclass-cnn-w4a8", "digits.csv", new[] { "Score", "PredictedLabel" }, ExactEverywhere: false),
        new("multiclass-learned-w2a8", "digits.csv", new[] { "Score", "PredictedLabel" }, ExactEverywhere: false),
    };

    /// <summary>The CSV as the pipelines read it: every column but the last is a feature, the last is the label.</summary>
    public static IDataView Load(MLContext ml, string dataFile, string path) => dataFile switch
    {
        "digits.csv" => ml.Data.LoadFromTextFile<DigitRow>(path, hasHeader: true, separatorChar: ','),
        "diabetes.csv" => ml.Data.LoadFromTextFile<DiabetesRow>(path, hasHeader: true, separatorChar: ','),
        "breast_cancer.csv" => ml.Data.LoadFromTextFile<BreastCancerRow>(path, hasHeader: true, separatorChar: ','),
        _ => throw new ArgumentException("unknown data file " + dataFile, nameof(dataFile)),
    };

    /// <summary>
    /// The output columns of every row as text: a float or double as the hexadecimal bits of the value (every slot of a
    /// vector), a key or Boolean as its integer value. One line per row, cells separated by spaces; a header line names
    /// the columns.
    /// </summary>
    public static List<string> Read(IDataView scored, string[] columns)
    {
        var selected = columns.Select(c => scored.Schema[c]).ToArray();
        var lines = new List<string> { string.Join(' ', columns) };
        using var cursor = scored.GetRowCursor(selected);
        var readers = selected.Select(c => Reader(cursor, c)).ToArray();
        while (cursor.MoveNext())
        {
            lines.Add(string.Join(' ', readers.Select(r => r())));
        }

        return lines;
    }

    private static Func<string> Reader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        static string Bits(float v) => BitConverter.SingleToInt32Bits(v).ToString("x8", CultureInfo.InvariantCulture);
        static string Bits64(double v) => BitConverter.DoubleToInt64Bits(v).ToString("x16", CultureInfo.InvariantCulture);
        DataViewType type = column.Type;
        if (type is VectorDataViewType v && v.ItemType == NumberDataViewType.Single)
        {
            var get = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> value = default;
            return () => { get(ref value); return string.Join(',', value.DenseValues().Select(Bits)); };
        }

        if (type is VectorDataViewType d && d.ItemType == NumberDataViewType.Double)
        {
            var get = cursor.GetGetter<VBuffer<double>>(column);
            VBuffer<double> value = default;
            return () => { get(ref value); return string.Join(',', value.DenseValues().Select(Bits64)); };
        }

        if (type == NumberDataViewType.Single)
        {
            var get = cursor.GetGetter<float>(column);
            float value = 0;
            return () => { get(ref value); return Bits(value); };
        }

        if (type == BooleanDataViewType.Instance)
        {
            var get = cursor.GetGetter<bool>(column);
            bool value = false;
            return () => { get(ref value); return value ? "1" : "0"; };
        }

        if (type is KeyDataViewType)
        {
            var get = cursor.GetGetter<uint>(column);
            uint value = 0;
            return () => { get(ref value); return value.ToString(CultureInfo.InvariantCulture); };
        }

        throw new NotSupportedException($"column '{column.Name}' of type {type}");
    }

    public sealed class DigitRow
    {
        [LoadColumn(0, 63), VectorType(64)]
        public float[] Pixels { get; set; } = Array.Empty<float>();

        [LoadColumn(64)]
        public float Label { get; set; }
    }

    public sealed class DiabetesRow
    {
        [LoadColumn(0, 9), VectorType(10)]
        public float[] Features { get; set; } = Array.Empty<float>();

        [LoadColumn(10)]
        public float Progression { get; set; }
    }

    public sealed class BreastCancerRow
    {
        [LoadColumn(0, 29), VectorType(30)]
        public float[] Features { get; set; } = Array.Empty<float>();

        [LoadColumn(30)]
        public bool Benign { get; set; }
    }
}
