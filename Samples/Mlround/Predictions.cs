using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>Writes scored rows as CSV: the predicted label (the original label value for multiclass) and the scores.</summary>
internal static class Predictions
{
    private static string R(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Writes <paramref name="v"/> as <see cref="R"/> does, without a string per value (predict writes millions).</summary>
    private static void WriteR(TextWriter writer, float v)
    {
        Span<char> text = stackalloc char[32];
        writer.Write(v.TryFormat(text, out int n, "R", CultureInfo.InvariantCulture) ? text[..n] : R(v));
    }

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

    /// <summary>
    /// Writes the predictions of <paramref name="scored"/> row by row as CSV, after the cells of the input columns a row
    /// carries in <c>Kept</c> (predict --keep), named <paramref name="kept"/>.
    /// </summary>
    /// <returns>The number of rows written.</returns>
    public static int Write(IDataView scored, CliModelInfo info, TextWriter writer, string[] kept)
    {
        // One cursor, not ML.NET's split one: the rows are read ahead on a thread of their own (ReadAhead), and
        // scoring them on this one measured faster than handing them to two more threads and collecting them again.
        using var cursor = scored.GetRowCursorSet(scored.Schema, 1)[0];
        var row = new Row(scored, cursor, kept, writer);
        switch (info.QatTask)
        {
            case QatTask.MulticlassClassification:
                WriteClasses(scored, cursor, row);
                break;
            case QatTask.BinaryClassification:
                WriteBinary(scored, cursor, info, row);
                break;
            default:
                row.Header("score");
                var getScore = cursor.GetGetter<float>(scored.Schema["Score"]);
                float sc = 0;
                while (cursor.MoveNext())
                {
                    getScore(ref sc);
                    WriteR(row.Start(), sc);
                    writer.WriteLine();
                }

                break;
        }

        return row.Count;
    }

    /// <summary>The start of each output line: the kept cells, if any, and the header's names for them.</summary>
    private sealed class Row
    {
        private readonly string[] _kept;
        private readonly ValueGetter<VBuffer<ReadOnlyMemory<char>>>? _get;
        private readonly TextWriter _writer;
        private VBuffer<ReadOnlyMemory<char>> _cells;

        public Row(IDataView scored, DataViewRowCursor cursor, string[] kept, TextWriter writer)
        {
            (_kept, _writer) = (kept, writer);
            _get = kept.Length == 0 ? null : cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(scored.Schema[nameof(TableRow.Kept)]);
        }

        public int Count { get; private set; }

        public void Header(string predictions) => _writer.WriteLine(string.Concat(_kept.Select(k => Cell(k) + ",")) + predictions);

        public TextWriter Start()
        {
            Count++;
            if (_get is not null)
            {
                _get(ref _cells);
                foreach (var cell in _cells.DenseValues())
                {
                    _writer.Write(Cell(cell.ToString()));
                    _writer.Write(',');
                }
            }

            return _writer;
        }
    }

    // The predicted class's name, then one score column per class: in numeric order for numbers, else ordinal order.
    private static void WriteClasses(IDataView scored, DataViewRowCursor cursor, Row row)
    {
        string[] classes = ClassNames(scored.Schema[TaskPipeline.LabelKey]);
        int[] order = ScoreOrder(classes);
        row.Header("predicted_label," + string.Join(",", order.Select(k => Cell("score_" + classes[k]))));
        var getScore = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        VBuffer<float> s = default;
        var values = new float[classes.Length]; // reused for every row
        while (cursor.MoveNext())
        {
            getScore(ref s);
            s.CopyTo(values);
            TextWriter writer = row.Start();
            writer.Write(Cell(classes[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values)]));
            foreach (int k in order)
            {
                writer.Write(',');
                WriteR(writer, values[k]);
            }

            writer.WriteLine();
        }
    }

    // The predicted label (the class's text for a text label), the probability and the score.
    private static void WriteBinary(IDataView scored, DataViewRowCursor cursor, CliModelInfo info, Row row)
    {
        row.Header("predicted_label,probability,score");
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
            row.Start().WriteLine($"{(info.Schema?.Classes is [var negative, var positive] ? Cell(l ? positive : negative) : l ? "1" : "0")},{R(p)},{R(sc)}");
        }
    }
}
