using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MlRounding.Bridge;
using DataType = Onnx.TensorProto.Types.DataType;

namespace MlRounding.Onnx;

/// <summary>
/// One exporter per step type, in a table that <see cref="OnnxExport"/> walks: the first row whose type the step is an
/// instance of exports it. An exporter binds the step's output columns (<see cref="OnnxPipeline"/>) and returns true
/// when the graph is complete (a predictor: steps after it, e.g. MapKeyToValue of PredictedLabel, are not exported).
/// </summary>
internal static class OnnxStepExporters
{
    /// <summary>Exports <paramref name="step"/>, which maps <paramref name="before"/> to <paramref name="after"/>; returns true when the graph is complete.</summary>
    internal delegate bool Exporter(OnnxPipeline pipeline, ITransformer step, DataViewSchema before, DataViewSchema after);

    /// <summary>The step types ONNX export supports, each with its exporter.</summary>
    public static readonly IReadOnlyList<(Type Step, Exporter Export)> All = new (Type, Exporter)[]
    {
        (typeof(RoundingTransformer), (p, s, _, _) => Rounding(p, (RoundingTransformer)s)),
        (typeof(NormalizingTransformer), (p, s, _, _) => Normalizer(p, (NormalizingTransformer)s)),
        (typeof(ColumnConcatenatingTransformer), (p, s, _, _) => Concatenation(p, (ColumnConcatenatingTransformer)s)),
        (typeof(ValueToKeyMappingTransformer), (p, s, _, after) => ValueToKey(p, (ValueToKeyMappingTransformer)s, after)),
        (typeof(KeyToVectorMappingTransformer), (p, s, before, _) => KeyToVector(p, (KeyToVectorMappingTransformer)s, before)),
        (typeof(MissingValueReplacingTransformer), (p, s, before, after) => MissingValues(p, (MissingValueReplacingTransformer)s, before, after)),
        (typeof(MissingValueImputingTransformer), (p, s, _, _) => Imputation(p, (MissingValueImputingTransformer)s)),
        (typeof(MissingValueIndicatorTransformer), (p, s, _, _) => MissingIndicators(p, (MissingValueIndicatorTransformer)s)),
        (typeof(TypeConvertingTransformer), (p, s, _, _) => Conversion(p, (TypeConvertingTransformer)s)),
        (typeof(KeyToValueMappingTransformer), (_, _, _, _) => false), // maps a predicted key back to its value after the predictor: see the PredictedLabelValue output
        (typeof(ISingleFeaturePredictionTransformer<QatRegressionModelParameters>), (p, s, _, after) => Predictor<QatRegressionModelParameters>(p, s, after, m => m.Network)),
        (typeof(ISingleFeaturePredictionTransformer<QatBinaryModelParameters>), (p, s, _, after) => Predictor<QatBinaryModelParameters>(p, s, after, m => m.Network)),
        (typeof(ISingleFeaturePredictionTransformer<QatMulticlassModelParameters>), (p, s, _, after) => Predictor<QatMulticlassModelParameters>(p, s, after, m => m.Network)),
    };

    /// <summary>The refusal of a step no row of <see cref="All"/> exports, naming the step (by its catalog name where known) and the columns it writes.</summary>
    public static NotSupportedException Unsupported(ITransformer step, DataViewSchema before, DataViewSchema after)
    {
        Type type = step.GetType();
        string name = type.DeclaringType is { } outer ? $"{outer.Name}.{type.Name}" : type.Name;
        string known = name.StartsWith("TextFeaturizingEstimator", StringComparison.Ordinal) ? "FeaturizeText (" + name + ")" : name;
        string[] written = after.Where(c => !c.IsHidden && (before.GetColumnOrNull(c.Name) is not { } old || old.Index != c.Index)).Select(c => $"'{c.Name}'").ToArray();
        string columns = written.Length == 0 ? string.Empty : $" (writing {string.Join(", ", written)})";
        return Unsupported(known + columns);
    }

    private static NotSupportedException Unsupported(string step) => new($"{step} cannot be exported to ONNX by MlRounding; supported: Round, RoundToStep, Quantize, affine normalizers, Concatenate, ReplaceMissingValues, ImputeMissingValues and IndicateMissingValues on Single columns, ConvertType to Single, MapValueToKey, MapKeyToVector and OneHotEncoding (indicator or bag), and the QuantizationAware trainers.");

    private static bool Rounding(OnnxPipeline p, RoundingTransformer rounding)
    {
        foreach (RoundingColumn c in rounding.Columns)
        {
            var x = p.Bound(c.InputColumnName);
            p.Produce(c.OutputColumnName, () =>
            {
                OnnxColumn input = OnnxFeaturizers.Floats(x.Value, c.InputColumnName);
                return input with { Tensor = OnnxGrids.Round(p.Graph, input.Tensor, c.Grid, input.Width) };
            });
            if (c.CodesColumnName is { } codes && c.Grid is AffineGrid affine)
            {
                p.Produce(codes, () =>
                {
                    OnnxColumn input = OnnxFeaturizers.Floats(x.Value, c.InputColumnName);
                    return input with { Tensor = OnnxGrids.Codes(p.Graph, input.Tensor, affine, input.Width) };
                });
            }
        }

        return false;
    }

    private static bool Normalizer(OnnxPipeline p, NormalizingTransformer normalizer)
    {
        p.ProducePairs(TransformerInternals.NormalizerColumns(normalizer), (i, output, input, x) =>
        {
            object parameters = normalizer.GetNormalizerModelParameters(i);
            return () =>
            {
                OnnxColumn c = OnnxFeaturizers.Floats(x.Value, input);
                return c with { Tensor = OnnxFeaturizers.Normalize(p.Graph, c.Tensor, parameters, output, c.Width) };
            };
        });
        return false;
    }

    private static bool Concatenation(OnnxPipeline p, ColumnConcatenatingTransformer concat)
    {
        foreach (var (output, inputs) in TransformerInternals.ConcatenatedColumns(concat))
        {
            var parts = inputs.Select(p.Bound).ToArray();
            p.Produce(output, () => OnnxFeaturizers.Concatenate(p.Graph, parts.Select((part, i) => OnnxFeaturizers.Floats(part.Value, inputs[i])).ToArray()));
        }

        return false;
    }

    private static bool ValueToKey(OnnxPipeline p, ValueToKeyMappingTransformer keys, DataViewSchema after)
    {
        p.ProducePairs(TransformerInternals.ColumnPairs(keys), (_, output, input, x) =>
        {
            DataViewSchema.Column keyColumn = after[output];
            return () => OnnxFeaturizers.ValueToKey(p.Graph, x.Value, keyColumn, input);
        });
        return false;
    }

    private static bool KeyToVector(OnnxPipeline p, KeyToVectorMappingTransformer vectors, DataViewSchema before)
    {
        var bags = TransformerInternals.KeyToVectorBags(vectors);
        p.ProducePairs(TransformerInternals.ColumnPairs(vectors), (i, _, input, x) =>
        {
            bool bag = bags[i];
            int keyCount = OnnxFeaturizers.KeyCount(before[input]);
            return () => OnnxFeaturizers.KeyToVector(p.Graph, x.Value, keyCount, bag);
        });
        return false;
    }

    private static bool MissingValues(OnnxPipeline p, MissingValueReplacingTransformer replacing, DataViewSchema before, DataViewSchema after)
    {
        p.ProducePairs(TransformerInternals.ColumnPairs(replacing), (i, output, input, x) =>
        {
            int width = OnnxFeaturizers.ValueCount(after[output].Type);
            float[] values = TransformerInternals.ReplacementValues(replacing, i, width)
                ?? throw new NotSupportedException($"Missing-value replacement of column '{input}' ({before[input].Type}) cannot be exported to ONNX by MlRounding; it takes columns of Single.");
            return () => OnnxFeaturizers.ReplaceMissing(p.Graph, OnnxFeaturizers.Floats(x.Value, input), values);
        });
        return false;
    }

    private static bool Imputation(OnnxPipeline p, MissingValueImputingTransformer imputing)
    {
        var x = p.Bound(imputing.InputColumnName);
        p.Produce(imputing.OutputColumnName, () => OnnxFeaturizers.Impute(p.Graph, OnnxFeaturizers.Floats(x.Value, imputing.InputColumnName), imputing.Model));
        return false;
    }

    private static bool MissingIndicators(OnnxPipeline p, MissingValueIndicatorTransformer indicators)
    {
        p.ProducePairs(TransformerInternals.ColumnPairs(indicators), (_, _, input, x) => () =>
        {
            OnnxColumn c = OnnxFeaturizers.Floats(x.Value, input);
            return new OnnxColumn(p.Graph.Node("IsNaN", new[] { c.Tensor }), c.Width, DataType.Bool);
        });
        return false;
    }

    private static bool Conversion(OnnxPipeline p, TypeConvertingTransformer conversion)
    {
        var kinds = TransformerInternals.ConvertedKinds(conversion);
        p.ProducePairs(TransformerInternals.ColumnPairs(conversion), (i, _, input, x) => kinds[i] == DataKind.Single
            ? () => OnnxFeaturizers.ToFloat(p.Graph, x.Value, input)
            : throw new NotSupportedException($"The conversion of column '{input}' to {kinds[i]} cannot be exported to ONNX by MlRounding; it exports conversions to Single."));
        return false;
    }

    private static bool Predictor<TModel>(OnnxPipeline p, ITransformer step, DataViewSchema after, Func<TModel, QuantizedMlp> networkOf)
        where TModel : class
    {
        var predictor = (ISingleFeaturePredictionTransformer<TModel>)step;
        string featureColumn = predictor.FeatureColumnName;
        QuantizedMlp network = networkOf(predictor.Model);
        OnnxColumn features = OnnxFeaturizers.Floats(p.Bound(featureColumn).Value, featureColumn);
        OnnxNetwork.Emit(p.Graph, features.Tensor, network, p.Options);
        if (network.Task == QatTask.MulticlassClassification)
        {
            OnnxFeaturizers.LabelValues(p.Graph, after);
        }

        return true;
    }
}
