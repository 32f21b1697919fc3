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
    private static string[] ClassNames(DataViewSchema.Column key)
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

    // The predicted class's name, then one score column per class.
    private static void WriteClasses(IDataView scored, DataViewRowCursor cursor, TextWriter writer)
    {
        string[] classes = ClassNames(scored.Schema[TaskPipeline.LabelKey]);
        writer.WriteLine("predicted_label," + string.Join(",", classes.Select(c => Cell("score_" + c))));
        var getScore = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        VBuffer<float> s = default;
        var values = new float[classes.Length]; // reused for every row
        while (cursor.MoveNext())
        {
            getScore(ref s);
            s.CopyTo(values);
            writer.Write(Cell(classes[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values)]));
            foreach (float v in values)
            {
                writer.Write(',');
                writer.Write(R(v));
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
