using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>The ML.NET pipeline of a task (normalization, then the quantization-aware trainer), its metrics and size.</summary>
internal static class TaskPipeline
{
    public const string LabelKey = "LabelKey";

    public static IDataView ToDataView(MLContext ml, List<Comparison.Row> rows)
    {
        var schema = SchemaDefinition.Create(typeof(Comparison.Row));
        schema[nameof(Comparison.Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Features.Length);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    public static IEstimator<ITransformer> Build(MLContext ml, QatTask task, QatOptions options)
    {
        options.FeatureColumnName = "Features";
        switch (task)
        {
            case QatTask.MulticlassClassification:
                options.LabelColumnName = LabelKey;
                return ml.Transforms.Conversion.MapValueToKey(LabelKey, nameof(Comparison.Row.Label))
                    .Append(ml.Transforms.NormalizeMinMax("Features"))
                    .Append(ml.MulticlassClassification.Trainers.QuantizationAware(options));
            case QatTask.BinaryClassification:
                options.LabelColumnName = nameof(Comparison.Row.BinaryLabel);
                return ml.Transforms.NormalizeMinMax("Features").Append(ml.BinaryClassification.Trainers.QuantizationAware(options));
            default:
                options.LabelColumnName = nameof(Comparison.Row.Label);
                return ml.Transforms.NormalizeMinMax("Features").Append(ml.Regression.Trainers.QuantizationAware(options));
        }
    }

    public static Dictionary<string, double> Evaluate(MLContext ml, QatTask task, ITransformer model, IDataView data)
    {
        IDataView scored = model.Transform(data);
        switch (task)
        {
            case QatTask.MulticlassClassification:
                var m = ml.MulticlassClassification.Evaluate(scored, LabelKey);
                return new() { ["accuracy"] = m.MicroAccuracy, ["macro_accuracy"] = m.MacroAccuracy };
            case QatTask.BinaryClassification:
                var b = ml.BinaryClassification.Evaluate(scored, nameof(Comparison.Row.BinaryLabel));
                return new() { ["accuracy"] = b.Accuracy, ["auc"] = b.AreaUnderRocCurve };
            default:
                var r = ml.Regression.Evaluate(scored, nameof(Comparison.Row.Label));
                return new() { ["rmse"] = r.RootMeanSquaredError, ["r2"] = r.RSquared };
        }
    }

    /// <summary>The parameter bytes of the trained network inside <paramref name="model"/>.</summary>
    public static long ModelBytes(ITransformer model) => Network(model)?.ParameterBytes ?? 0;

    public static QuantizedMlp? Network(ITransformer model)
    {
        foreach (ITransformer step in model is IEnumerable<ITransformer> chain ? chain.Reverse() : new[] { model })
        {
            switch (step)
            {
                case IPredictionTransformer<QatMulticlassModelParameters> mc: return mc.Model.Network;
                case IPredictionTransformer<QatBinaryModelParameters> bc: return bc.Model.Network;
                case IPredictionTransformer<QatRegressionModelParameters> rg: return rg.Model.Network;
                case IEnumerable<ITransformer> inner when Network(step) is { } n: return n;
            }
        }

        return null;
    }
}
