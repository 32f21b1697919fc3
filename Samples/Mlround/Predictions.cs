using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>Writes scored rows as CSV: the predicted label (the original label value for multiclass) and the scores.</summary>
internal static class Predictions
{
    private static string R(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A CSV cell: quoted (quotes doubled) when it holds a comma, a quote or a line break.</summary>
    private static string Cell(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    /// <summary>The original label values of the classes, in the order of the scores (text labels, or numbers written round-trip).</summary>
    internal static string[] ClassNames(DataViewSchema.Column key)
    {
        if (key.Annotations.Schema["KeyValues"].Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            VBuffer<ReadOnlyMemory<char>> text = default;
            key.Annotations.GetValue("KeyValues", ref text);
            return text.DenseValues().Select(t => t.ToString()).ToArray();
        }

        VBuffer<float> numbers = default;
        key.Annotations.GetValue("KeyValues", ref numbers);
        return numbers.DenseValues().Select(R).ToArray();
    }

    /// <summary>For each score column predict writes, first to last, the class's index in the model's key order.</summary>
    internal static int[] ScoreColumns(ITransformer model, IDataView rows) => ScoreOrder(ClassNames(model.Transform(rows).Schema[TaskPipeline.LabelKey]));

    /// <summary>The classes' score columns in the order a reader expects: numeric order when every class is a number, else ordinal.</summary>
    internal static int[] ScoreOrder(string[] classes)
    {
        var numbers = classes.Select(c => double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : (double?)null).ToArray();
        var indices = Enumerable.Range(0, classes.Length);
        return numbers.All(n => n.HasValue)
            ? indices.OrderBy(k => numbers[k]!.Value).ToArray()
            : indices.OrderBy(k => classes[k], StringComparer.Ordinal).ToArray();
    }

    /// <summary>The CSV <paramref name="predictions"/> with the <paramref name="kept"/> input columns in front, named <paramref name="names"/> (predict --keep).</summary>
    internal static string WithKept(string predictions, string[] names, string[][] kept)
    {
        if (names.Length == 0)
        {
            return predictions;
        }

        string[] lines = predictions.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            text.Append(string.Join(',', (i == 0 ? names : kept[i - 1]).Select(Cell))).Append(',').Append(lines[i].TrimEnd('\r')).Append('\n');
        }

        return text.ToString();
    }

    public static void Write(IDataView scored, CliModelInfo info, TextWriter writer)
    {
        using var cursor = scored.GetRowCursor(scored.Schema);
        switch (info.QatTask)
        {
            case QatTask.MulticlassClassification:
                WriteClasses(scored, cursor, writer);
                break;
            case QatTask.BinaryClassification:
                WriteBinary(scored, cursor, info, writer);
                break;
            default:
                writer.WriteLine("score");
                var getScore = cursor.GetGetter<float>(scored.Schema["Score"]);
                float sc = 0;
                while (cursor.MoveNext())
                {
                    getScore(ref sc);
                    writer.WriteLine(R(sc));
                }

                break;
        }
    }

    // The predicted class's name, then one score column per class: in numeric order for numbers, else ordinal order.
    private static void WriteClasses(IDataView scored, DataViewRowCursor cursor, TextWriter writer)
    {
        string[] classes = ClassNames(scored.Schema[TaskPipeline.LabelKey]);
        int[] order = ScoreOrder(classes);
        writer.WriteLine("predicted_label," + string.Join(",", order.Select(k => Cell("score_" + classes[k]))));
        var getScore = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        VBuffer<float> s = default;
        var values = new float[classes.Length]; // reused for every row
        while (cursor.MoveNext())
        {
            getScore(ref s);
            s.CopyTo(values);
            writer.Write(Cell(classes[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values)]));
            foreach (int k in order)
            {
                writer.Write(',');
                writer.Write(R(values[k]));
            }

            writer.WriteLine();
        }
    }

    // The predicted label (the class's text for a text label), the probability and the score.
    private static void WriteBinary(IDataView scored, DataViewRowCursor cursor, CliModelInfo info, TextWriter writer)
    {
        writer.WriteLine("predicted_label,probability,score");
        var getScore = cursor.GetGetter<float>(scored.Schema["Score"]);
        var getProbability = cursor.GetGetter<float>(scored.Schema["Probability"]);
        var getLabel = cursor.GetGetter<bool>(scored.Schema["PredictedLabel"]);
        float sc = 0, p = 0;
        bool l = false;
        while (cursor.MoveNext())
        {
            getScore(ref sc);
            getProbability(ref p);
            getLabel(ref l);
            writer.WriteLine($"{(info.Schema?.Classes is [var negative, var positive] ? Cell(l ? positive : negative) : l ? "1" : "0")},{R(p)},{R(sc)}");
        }
    }
}
