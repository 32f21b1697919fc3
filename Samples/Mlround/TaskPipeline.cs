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

    /// <summary>
    /// The pipeline of a task. A quantized network quantizes each feature over its own training range (its input grid,
    /// <see cref="QatOptions.InputBits"/>), which normalizes it; only a float input (float mode, or input bits 32) needs
    /// <c>NormalizeMinMax</c> in front.
    /// </summary>
    public static IEstimator<ITransformer> Build(MLContext ml, QatTask task, QatOptions options)
    {
        options.FeatureColumnName = "Features";
        IEstimator<ITransformer>? normalizer = options.Mode == QatMode.Float || options.InputBits == 32 ? ml.Transforms.NormalizeMinMax("Features") : null;
        switch (task)
        {
            case QatTask.MulticlassClassification:
                options.LabelColumnName = LabelKey;
                return Then(Then(ml.Transforms.Conversion.MapValueToKey(LabelKey, nameof(Comparison.Row.Label)), normalizer), ml.MulticlassClassification.Trainers.QuantizationAware(options));
            case QatTask.BinaryClassification:
                options.LabelColumnName = nameof(Comparison.Row.BinaryLabel);
                return Then(normalizer, ml.BinaryClassification.Trainers.QuantizationAware(options));
            default:
                options.LabelColumnName = nameof(Comparison.Row.Label);
                return Then(normalizer, ml.Regression.Trainers.QuantizationAware(options));
        }
    }

    private static IEstimator<ITransformer> Then(IEstimator<ITransformer>? first, IEstimator<ITransformer>? next) =>
        first is null ? next! : next is null ? first : first.Append(next);

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
