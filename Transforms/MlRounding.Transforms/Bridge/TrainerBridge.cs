using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MlRounding.Bridge;

/// <summary>
/// Bridge for MlRounding's trainers: the environment behind a trainers catalog, the prediction transformers ML.NET's
/// own trainers return (their constructors are internal), <c>TrainerInfo</c>, log messages and schema-shape columns.
/// Compiled into MlRounding.Trainers only (linked by its project), so that assembly's other code uses ML.NET's public
/// API only.
/// </summary>
internal static class TrainerBridge
{
    /// <summary>The environment behind an ML.NET catalog (e.g. <c>mlContext.Regression.Trainers</c>).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <returns>The environment.</returns>
    public static IHostEnvironment EnvironmentOf(object catalog) =>
        (catalog ?? throw new ArgumentNullException(nameof(catalog))) is IInternalCatalog c
            ? c.Environment
            : throw new ArgumentException($"{catalog.GetType().Name} is not an ML.NET catalog.", nameof(catalog));

    /// <summary>ML.NET's regression prediction transformer (Score column).</summary>
    /// <typeparam name="TModel">The model parameters.</typeparam>
    /// <param name="env">The environment.</param>
    /// <param name="model">The model.</param>
    /// <param name="trainSchema">The training data's schema.</param>
    /// <param name="featureColumn">The features column.</param>
    /// <returns>The transformer.</returns>
    public static RegressionPredictionTransformer<TModel> Regression<TModel>(IHostEnvironment env, TModel model, DataViewSchema trainSchema, string featureColumn)
        where TModel : ScalarScoringModelParameters =>
        new(env, model, trainSchema, featureColumn);

    /// <summary>ML.NET's binary prediction transformer (Score, Probability, PredictedLabel; label true where Score &gt; 0).</summary>
    /// <typeparam name="TModel">The model parameters.</typeparam>
    /// <param name="env">The environment.</param>
    /// <param name="model">The model.</param>
    /// <param name="trainSchema">The training data's schema.</param>
    /// <param name="featureColumn">The features column.</param>
    /// <returns>The transformer.</returns>
    public static BinaryPredictionTransformer<TModel> Binary<TModel>(IHostEnvironment env, TModel model, DataViewSchema trainSchema, string featureColumn)
        where TModel : BinaryScoringModelParameters =>
        new(env, model, trainSchema, featureColumn, 0f, DefaultColumnNames.Score);

    /// <summary>ML.NET's multiclass prediction transformer (Score vector, PredictedLabel key).</summary>
    /// <typeparam name="TModel">The model parameters.</typeparam>
    /// <param name="env">The environment.</param>
    /// <param name="model">The model.</param>
    /// <param name="trainSchema">The training data's schema.</param>
    /// <param name="featureColumn">The features column.</param>
    /// <param name="labelColumn">The label column (a key), whose values name the score slots and predicted labels.</param>
    /// <returns>The transformer.</returns>
    public static MulticlassPredictionTransformer<TModel> Multiclass<TModel>(IHostEnvironment env, TModel model, DataViewSchema trainSchema, string featureColumn, string labelColumn)
        where TModel : VectorScoringModelParameters =>
        new(env, model, trainSchema, featureColumn, labelColumn, DefaultColumnNames.Score, DefaultColumnNames.PredictedLabel);

    /// <summary>
    /// The prediction transformer <paramref name="predictor"/> with <paramref name="network"/> in place of its network: the
    /// same kind of transformer and model parameters, the same training schema, features column and (multiclass) label
    /// column, which ML.NET keeps private. Null when <paramref name="predictor"/> is not one of MlRounding's.
    /// </summary>
    /// <param name="env">The environment.</param>
    /// <param name="predictor">A prediction transformer.</param>
    /// <param name="network">The network of the same task.</param>
    /// <returns>The new transformer, or null.</returns>
    public static ITransformer? WithNetwork(IHostEnvironment env, ITransformer predictor, QuantizedMlp network) => predictor switch
    {
        RegressionPredictionTransformer<QatRegressionModelParameters> r => Regression(env, new QatRegressionModelParameters(env, network), r.TrainSchema, r.FeatureColumnName),
        BinaryPredictionTransformer<QatBinaryModelParameters> b => Binary(env, new QatBinaryModelParameters(env, network), b.TrainSchema, b.FeatureColumnName),
        MulticlassPredictionTransformer<QatMulticlassModelParameters> m => Multiclass(env, new QatMulticlassModelParameters(env, network), m.TrainSchema, m.FeatureColumnName, m._trainLabelColumn),
        _ => null,
    };

    /// <summary>The network of one of MlRounding's prediction transformers and its features column, or null.</summary>
    /// <param name="predictor">A transformer.</param>
    /// <returns>The network and features column, or null.</returns>
    public static (QuantizedMlp Network, string FeatureColumn)? NetworkOf(ITransformer predictor) => predictor switch
    {
        RegressionPredictionTransformer<QatRegressionModelParameters> r => (r.Model.Network, r.FeatureColumnName),
        BinaryPredictionTransformer<QatBinaryModelParameters> b => (b.Model.Network, b.FeatureColumnName),
        MulticlassPredictionTransformer<QatMulticlassModelParameters> m => (m.Model.Network, m.FeatureColumnName),
        _ => null,
    };

    /// <summary>A <see cref="TrainerInfo"/> (its constructor is internal in ML.NET).</summary>
    /// <param name="normalization">Whether the trainer benefits from normalized features.</param>
    /// <param name="caching">Whether the trainer benefits from caching.</param>
    /// <returns>The info.</returns>
    public static TrainerInfo Info(bool normalization, bool caching) => new(normalization: normalization, caching: caching);

    /// <summary>Sends a message to ML.NET's log (<c>MLContext.Log</c>) through a channel (the message constructor is internal).</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="kind">Info, warning, error or trace.</param>
    /// <param name="message">The text.</param>
    public static void Log(IChannel channel, ChannelMessageKind kind, string message) =>
        channel.Send(new ChannelMessage(kind, MessageSensitivity.None, message));

    /// <summary>The output columns of a regression trainer with ML.NET's own annotations (Score, marked as a trainer's score).</summary>
    /// <returns>The columns.</returns>
    public static IEnumerable<SchemaShape.Column> RegressionOutputColumns()
    {
        yield return new(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation()));
    }

    /// <summary>The output columns of a calibrated binary trainer with ML.NET's own annotations (Score, Probability, PredictedLabel).</summary>
    /// <returns>The columns.</returns>
    public static IEnumerable<SchemaShape.Column> BinaryOutputColumns()
    {
        yield return new(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation()));
        yield return new(DefaultColumnNames.Probability, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation(true)));
        yield return new(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false, new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation()));
    }

    /// <summary>
    /// The output columns of a multiclass trainer with ML.NET's own annotations: the Score vector named by the label's
    /// key values, and the PredictedLabel key carrying them, so that <c>MapKeyToValue</c> can follow the trainer.
    /// </summary>
    /// <param name="label">The label column's shape.</param>
    /// <returns>The columns.</returns>
    public static IEnumerable<SchemaShape.Column> MulticlassOutputColumns(SchemaShape.Column label)
    {
        var keyValues = label.Annotations?.Where(a => a.Name == AnnotationUtils.Kinds.KeyValues) ?? Enumerable.Empty<SchemaShape.Column>();
        yield return new(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, new SchemaShape(AnnotationUtils.AnnotationsForMulticlassScoreColumn(label)));
        yield return new(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, new SchemaShape(keyValues.Concat(AnnotationUtils.GetTrainerOutputAnnotation())));
    }

    /// <summary>A schema shape from columns.</summary>
    /// <param name="columns">The columns.</param>
    /// <returns>The shape.</returns>
    public static SchemaShape Shape(IEnumerable<SchemaShape.Column> columns) => new(columns);
}
