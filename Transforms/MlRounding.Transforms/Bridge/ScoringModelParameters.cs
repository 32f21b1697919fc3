using System.ComponentModel;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace MlRounding.Bridge;

/// <summary>
/// Bridge base of a model whose score is one float per row (regression). Derived classes (in this assembly), ordinary
/// public-API code, implement the scoring and the payload; this class wires them into ML.NET's predictor
/// interfaces (<c>IValueMapper</c>, <c>IPredictorProducing&lt;float&gt;</c>) and model files.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public abstract class ScalarScoringModelParameters : ModelParametersBase<float>, IValueMapper
{
    private protected ScalarScoringModelParameters(IHostEnvironment env, string name) : base(env, name)
    {
    }

    /// <summary>Gets the number of input features.</summary>
    public abstract int FeatureCount { get; }

    /// <summary>Gets the kind of prediction (regression).</summary>
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    DataViewType IValueMapper.InputType => new VectorDataViewType(NumberDataViewType.Single, FeatureCount);

    DataViewType IValueMapper.OutputType => NumberDataViewType.Single;

    /// <summary>The score of one row.</summary>
    private protected abstract float Score(ReadOnlySpan<float> features);

    /// <summary>The model's kind and its own versioned payload, as model files store them.</summary>
    private protected abstract (string Tag, byte[] Payload) SavePayload();

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>() => PredictorBridge.ScalarMapper<TIn, TOut>(this, FeatureCount, Score);

    /// <summary>Saves the model into an ML.NET model file.</summary>
    /// <param name="ctx">ML.NET's save context.</param>
    protected override void SaveCore(ModelSaveContext ctx) => PredictorBridge.Save(ctx, PredictorBridge.ScalarLoader, SavePayload());
}

/// <summary>
/// Bridge base of a binary classifier: a score (logit) and a probability per row (<c>IValueMapperDist</c>), so that
/// ML.NET's binary scorer emits Score, Probability and PredictedLabel.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public abstract class BinaryScoringModelParameters : ModelParametersBase<float>, IValueMapperDist, IDistPredictorProducing<float, float>
{
    private protected BinaryScoringModelParameters(IHostEnvironment env, string name) : base(env, name)
    {
    }

    /// <summary>Gets the number of input features.</summary>
    public abstract int FeatureCount { get; }

    /// <summary>Gets the kind of prediction (binary classification).</summary>
    protected override PredictionKind PredictionKind => PredictionKind.BinaryClassification;

    DataViewType IValueMapper.InputType => new VectorDataViewType(NumberDataViewType.Single, FeatureCount);

    DataViewType IValueMapper.OutputType => NumberDataViewType.Single;

    DataViewType IValueMapperDist.DistType => NumberDataViewType.Single;

    /// <summary>The score (logit) of one row.</summary>
    private protected abstract float Score(ReadOnlySpan<float> features);

    /// <summary>The probability of the positive class for a score.</summary>
    private protected abstract float Probability(float score);

    /// <summary>The model's kind and its own versioned payload, as model files store them.</summary>
    private protected abstract (string Tag, byte[] Payload) SavePayload();

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>() => PredictorBridge.ScalarMapper<TIn, TOut>(this, FeatureCount, Score);

    ValueMapper<TIn, TOut, TDist> IValueMapperDist.GetMapper<TIn, TOut, TDist>() => PredictorBridge.DistMapper<TIn, TOut, TDist>(this, FeatureCount, Score, Probability);

    /// <summary>Saves the model into an ML.NET model file.</summary>
    /// <param name="ctx">ML.NET's save context.</param>
    protected override void SaveCore(ModelSaveContext ctx) => PredictorBridge.Save(ctx, PredictorBridge.BinaryLoader, SavePayload());
}

/// <summary>Bridge base of a multiclass classifier: one score per class per row.</summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public abstract class VectorScoringModelParameters : ModelParametersBase<VBuffer<float>>, IValueMapper
{
    private protected VectorScoringModelParameters(IHostEnvironment env, string name) : base(env, name)
    {
    }

    /// <summary>Gets the number of input features.</summary>
    public abstract int FeatureCount { get; }

    /// <summary>Gets the number of classes (the length of the score vector).</summary>
    public abstract int ClassCount { get; }

    /// <summary>Gets the kind of prediction (multiclass classification).</summary>
    protected override PredictionKind PredictionKind => PredictionKind.MulticlassClassification;

    DataViewType IValueMapper.InputType => new VectorDataViewType(NumberDataViewType.Single, FeatureCount);

    DataViewType IValueMapper.OutputType => new VectorDataViewType(NumberDataViewType.Single, ClassCount);

    /// <summary>The class scores of one row, written into <paramref name="scores"/> (<see cref="ClassCount"/> of them).</summary>
    private protected abstract void Score(ReadOnlySpan<float> features, Span<float> scores);

    /// <summary>The model's kind and its own versioned payload, as model files store them.</summary>
    private protected abstract (string Tag, byte[] Payload) SavePayload();

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>() => PredictorBridge.VectorMapper<TIn, TOut>(this, FeatureCount, ClassCount, Score);

    /// <summary>Saves the model into an ML.NET model file.</summary>
    /// <param name="ctx">ML.NET's save context.</param>
    protected override void SaveCore(ModelSaveContext ctx) => PredictorBridge.Save(ctx, PredictorBridge.VectorLoader, SavePayload());
}
