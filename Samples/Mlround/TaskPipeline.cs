using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>The ML.NET pipeline of a task on a table (featurization, then the quantization-aware trainer), its metrics and size.</summary>
internal static class TaskPipeline
{
    public const string LabelKey = "LabelKey";

    /// <summary>The most quantile bins per feature of the normalization in front of the network (one 8-bit input code each).</summary>
    public const int MaximumBins = 256;

    /// <summary>
    /// Up to this many numeric features the automatic normalization is quantile bins; above it, min-max. Bins store up
    /// to 255 bounds per feature in the model and its ONNX file (784 pixels: about 800 KB, ten times a 4-bit network),
    /// and wide tables of like columns (pixels) gain nothing from them.
    /// </summary>
    public const int MaximumBinnedFeatures = 256;

    /// <summary>
    /// The most feature values the quantile bins are fitted on: ML.NET's <c>NormalizeBinning</c> holds every value it
    /// fits on (about 16 bytes each, measured), so the rows it reads are capped at this many values over the features: a
    /// table of up to this many values (e.g. 100,000 rows of 40 features) is binned on all of its rows, a streamed
    /// 20,000,000-row table of 16 features on its first 250,000.
    /// </summary>
    public const long MaximumBinnedValues = 4_000_000;

    /// <summary>The normalization in front of the network that <paramref name="choice"/> ("auto", "bins", "min-max") means for <paramref name="schema"/>.</summary>
    /// <summary>Fails naming --normalize unless <paramref name="choice"/> is one of its values (before the table is read).</summary>
    public static void CheckNormalize(string choice)
    {
        if (choice is not ("auto" or "bins" or "min-max"))
        {
            throw new ArgumentOutOfRangeException("normalize", $"--normalize: '{choice}' is not auto, bins or min-max.");
        }
    }

    public static bool UsesBins(string choice, TableSchema schema)
    {
        CheckNormalize(choice);
        return choice == "bins" || (choice == "auto" && schema.NumericFeatures.Length <= MaximumBinnedFeatures);
    }

    /// <summary>
    /// The pipeline of a task on a table: missing numbers replaced by the training mean (with a missing-value indicator
    /// for the columns that had gaps in training), categoricals one-hot encoded (an unseen value encodes as none of the
    /// known ones), free text featurized when asked for, all concatenated into Features; then the label mapping and
    /// the trainer. With <paramref name="bins"/> each feature is normalized by its quantile bins in front of the network
    /// (<c>NormalizeBinning</c>, up to <see cref="MaximumBins"/>): a skewed column such as rainfall, whose rare large
    /// values would squeeze the common ones into a few codes of a min-max range, keeps its thresholds apart (measured
    /// on Seattle weather: float accuracy 0.661 with min-max, 0.781 with bins; docs/benchmarks.md). Without, a quantized
    /// network quantizes each feature over its own training range (its input grid), and only a float input gets
    /// <c>NormalizeMinMax</c>.
    /// </summary>
    public static IEstimator<ITransformer> Build(MLContext ml, QatTask task, QatOptions options, TableSchema schema, bool bins)
    {
        IEstimator<ITransformer> chain = Featurize(ml, schema, image: options.ImageShape is not null);
        options.FeatureColumnName = "Features";
        if (bins)
        {
            int width = schema.NumericFeatures.Length + schema.MissingIndicators.Length + schema.CategoricalFeatures.Length; // one-hot adds at least one slot each
            chain = chain.Append(ml.Transforms.NormalizeBinning("Features", maximumExampleCount: MaximumBinnedValues / Math.Max(1, width), maximumBinCount: MaximumBins));
        }
        else if (options.Mode == QatMode.Float || options.InputBits == 32)
        {
            chain = chain.Append(ml.Transforms.NormalizeMinMax("Features"));
        }

        switch (task)
        {
            case QatTask.MulticlassClassification:
                options.LabelColumnName = LabelKey;
                return chain.Append(MapLabel(ml, schema)).Append(ml.MulticlassClassification.Trainers.QuantizationAware(options));
            case QatTask.BinaryClassification:
                options.LabelColumnName = nameof(TableRow.BinaryLabel);
                return chain.Append(ml.BinaryClassification.Trainers.QuantizationAware(options));
            default:
                options.LabelColumnName = nameof(TableRow.Label);
                return chain.Append(ml.Regression.Trainers.QuantizationAware(options));
        }
    }

    /// <summary>The peer of <c>mlround compare</c>: ML.NET's LightGbm with its defaults on the same featurization.</summary>
    public static IEstimator<ITransformer> LightGbm(MLContext ml, QatTask task, TableSchema schema)
    {
        IEstimator<ITransformer> chain = Featurize(ml, schema);
        return task switch
        {
            QatTask.MulticlassClassification => chain.Append(MapLabel(ml, schema)).Append(ml.MulticlassClassification.Trainers.LightGbm(LabelKey, "Features")),
            QatTask.BinaryClassification => chain.Append(ml.BinaryClassification.Trainers.LightGbm(nameof(TableRow.BinaryLabel), "Features")),
            _ => chain.Append(ml.Regression.Trainers.LightGbm(nameof(TableRow.Label), "Features")),
        };
    }

    private static IEstimator<ITransformer> MapLabel(MLContext ml, TableSchema schema) =>
        ml.Transforms.Conversion.MapValueToKey(LabelKey, schema.TextLabel ? nameof(TableRow.LabelText) : nameof(TableRow.Label));

    /// <summary>
    /// The featurization of a table into the vector column Features: missing numbers replaced by the training mean
    /// (with a missing-value indicator for the columns that had gaps in training), categoricals one-hot encoded (an
    /// unseen value encodes as none of the known ones), free text featurized when asked for.
    /// </summary>
    /// <remarks>An image's features are its values in column order alone: no indicators (they would add slots).</remarks>
    public static IEstimator<ITransformer> Featurize(MLContext ml, TableSchema schema, bool image = false)
    {
        var parts = new List<string>();
        IEstimator<ITransformer>? chain = null;
        if (schema.NumericFeatures.Length > 0)
        {
            chain = Then(chain, ml.Transforms.ImputeMissingValues("NumericFilled", nameof(TableRow.Numeric)));
            parts.Add("NumericFilled");
        }

        if (schema.MissingIndicators.Length > 0 && !image)
        {
            chain = Then(chain, ml.Transforms.IndicateMissingValues("GappyMissing", nameof(TableRow.Gappy)));
            chain = Then(chain, ml.Transforms.Conversion.ConvertType("GappyIndicators", "GappyMissing", DataKind.Single));
            parts.Add("GappyIndicators");
        }

        if (schema.CategoricalFeatures.Length > 0)
        {
            chain = Then(chain, ml.Transforms.Categorical.OneHotEncoding("CategoricalOneHot", nameof(TableRow.Categorical)));
            parts.Add("CategoricalOneHot");
        }

        if (schema.TextFeatures.Length > 0)
        {
            chain = Then(chain, ml.Transforms.Text.FeaturizeText("TextFeatures", nameof(TableRow.Text)));
            parts.Add("TextFeatures");
        }

        if (parts.Count == 0)
        {
            throw new FormatException($"no column is left to learn from: every column other than the label '{schema.Label}' is ignored (see --show-columns; --categorical or --text can use text columns).");
        }

        return Then(chain, ml.Transforms.Concatenate("Features", parts.ToArray()));
    }

    private static IEstimator<ITransformer> Then(IEstimator<ITransformer>? first, IEstimator<ITransformer>? next) =>
        first is null ? next! : next is null ? first : first.Append(next);

    /// <summary>
    /// The held-out metrics of <paramref name="model"/> on <paramref name="data"/>. Multiclass: rows whose label was never
    /// seen in training count as wrong (ML.NET's evaluator leaves them out: their key is missing), each such label as a
    /// class of recall 0 in the macro accuracy, and <paramref name="unseen"/> says how many rows they are.
    /// </summary>
    public static Dictionary<string, double> Evaluate(MLContext ml, QatTask task, ITransformer model, IDataView data, bool textLabel, out int unseen)
    {
        IDataView scored = model.Transform(data);
        unseen = 0;
        switch (task)
        {
            case QatTask.MulticlassClassification:
                var m = ml.MulticlassClassification.Evaluate(scored, LabelKey);
                var coverage = LabelCoverage(scored, textLabel);
                unseen = coverage.UnseenRows;
                double seenShare = coverage.Rows == 0 ? 1 : (coverage.Rows - coverage.UnseenRows) / (double)coverage.Rows;
                double classShare = coverage.SeenClasses + coverage.UnseenClasses == 0 ? 1 : coverage.SeenClasses / (double)(coverage.SeenClasses + coverage.UnseenClasses);
                return new() { ["accuracy"] = m.MicroAccuracy * seenShare, ["macro_accuracy"] = m.MacroAccuracy * classShare };
            case QatTask.BinaryClassification:
                var b = ml.BinaryClassification.Evaluate(scored, nameof(TableRow.BinaryLabel));
                return new() { ["accuracy"] = b.Accuracy, ["auc"] = b.AreaUnderRocCurve };
            default:
                var r = ml.Regression.Evaluate(scored, nameof(TableRow.Label));
                return new() { ["rmse"] = r.RootMeanSquaredError, ["r2"] = r.RSquared };
        }
    }

    /// <summary>The test rows, those whose label key is missing (a label not seen in training), and the distinct labels of each kind.</summary>
    private static (int Rows, int UnseenRows, int SeenClasses, int UnseenClasses) LabelCoverage(IDataView scored, bool textLabel)
    {
        var key = scored.Schema[LabelKey];
        var raw = scored.Schema[textLabel ? nameof(TableRow.LabelText) : nameof(TableRow.Label)];
        using var cursor = scored.GetRowCursor(new[] { key, raw });
        var getKey = cursor.GetGetter<uint>(key);
        Func<string> getRaw = raw.Type is TextDataViewType ? Text(cursor.GetGetter<ReadOnlyMemory<char>>(raw)) : Number(cursor.GetGetter<float>(raw));
        var (seen, unseenLabels) = (new HashSet<uint>(), new HashSet<string>(StringComparer.Ordinal));
        int rows = 0, unseenRows = 0;
        uint k = 0;
        while (cursor.MoveNext())
        {
            rows++;
            getKey(ref k);
            if (k == 0)
            {
                unseenRows++;
                unseenLabels.Add(getRaw());
            }
            else
            {
                seen.Add(k);
            }
        }

        return (rows, unseenRows, seen.Count, unseenLabels.Count);
    }

    private static Func<string> Text(ValueGetter<ReadOnlyMemory<char>> get) => () =>
    {
        ReadOnlyMemory<char> v = default;
        get(ref v);
        return v.ToString();
    };

    private static Func<string> Number(ValueGetter<float> get) => () =>
    {
        float v = 0;
        get(ref v);
        return v.ToString(System.Globalization.CultureInfo.InvariantCulture);
    };

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
