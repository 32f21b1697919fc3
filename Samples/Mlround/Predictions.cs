using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>Writes scored rows as CSV: the predicted label (the original label value for multiclass) and the scores.</summary>
internal static class Predictions
{
    private static string R(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static void Write(IDataView scored, CliModelInfo info, TextWriter writer)
    {
        var score = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor(scored.Schema);
        switch (info.QatTask)
        {
            case QatTask.MulticlassClassification:
            {
                VBuffer<float> keyValues = default;
                scored.Schema[TaskPipeline.LabelKey].Annotations.GetValue("KeyValues", ref keyValues);
                float[] classes = keyValues.DenseValues().ToArray();
                writer.WriteLine("predicted_label," + string.Join(",", classes.Select(c => "score_" + R(c))));
                var getScore = cursor.GetGetter<VBuffer<float>>(score);
                VBuffer<float> s = default;
                var values = new float[classes.Length]; // reused for every row
                while (cursor.MoveNext())
                {
                    getScore(ref s);
                    s.CopyTo(values);
                    writer.Write(R(classes[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values)]));
                    foreach (float v in values)
                    {
                        writer.Write(',');
                        writer.Write(R(v));
                    }

                    writer.WriteLine();
                }

                break;
            }

            case QatTask.BinaryClassification:
            {
                writer.WriteLine("predicted_label,probability,score");
                var getScore = cursor.GetGetter<float>(score);
                var getProbability = cursor.GetGetter<float>(scored.Schema["Probability"]);
                var getLabel = cursor.GetGetter<bool>(scored.Schema["PredictedLabel"]);
                float sc = 0, p = 0;
                bool l = false;
                while (cursor.MoveNext())
                {
                    getScore(ref sc);
                    getProbability(ref p);
                    getLabel(ref l);
                    writer.WriteLine($"{(l ? 1 : 0)},{R(p)},{R(sc)}");
                }

                break;
            }

            default:
            {
                writer.WriteLine("score");
                var getScore = cursor.GetGetter<float>(score);
                float sc = 0;
                while (cursor.MoveNext())
                {
                    getScore(ref sc);
                    writer.WriteLine(R(sc));
                }

                break;
            }
        }
    }
}
