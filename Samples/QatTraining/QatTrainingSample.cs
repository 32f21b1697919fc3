using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Samples;

/// <summary>
/// Sample: quantization-aware training of a 4-bit-weight, 8-bit-activation MLP on the bundled digits data inside an
/// ordinary ML.NET pipeline, measured with <c>mlContext.MulticlassClassification.Evaluate</c>, and scored by a model
/// loaded from disk (in a fresh process, LibTorch is never loaded: the scorer is plain C#).
/// </summary>
public static class QatTrainingSample
{
    /// <summary>One 8x8 digit image (pixel intensities 0..16) and its digit.</summary>
    public sealed class Digit
    {
        /// <summary>Gets or sets the 64 pixels.</summary>
        [LoadColumn(0, 63), VectorType(64)] public float[] Pixels { get; set; } = Array.Empty<float>();

        /// <summary>Gets or sets the digit 0..9.</summary>
        [LoadColumn(64)] public float Label { get; set; }
    }

    /// <summary>Loads the bundled digits and splits it: every 5th row is held out (the split README reports).</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <returns>The training and test rows.</returns>
    public static (IDataView Train, IDataView Test) LoadData(MLContext ml)
    {
        IDataView all = ml.Data.LoadFromTextFile<Digit>(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), hasHeader: true, separatorChar: ',');
        var rows = ml.Data.CreateEnumerable<Digit>(all, reuseRowObject: false).ToList();
        return (ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 != 0)), ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 == 0)));
    }

    /// <summary>Builds and fits the pipeline: label to key, pixels scaled to [0, 1], the 4-bit trainer, key back to digit.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <param name="train">The training rows.</param>
    /// <param name="maxEpoch">Epochs.</param>
    /// <param name="log">Where the trainer's epoch lines go, or null.</param>
    /// <returns>The fitted pipeline.</returns>
    public static ITransformer Fit(MLContext ml, IDataView train, int maxEpoch = 30, TextWriter? log = null)
    {
        var options = new QatOptions
        {
            LabelColumnName = "LabelKey",
            FeatureColumnName = "Features",
            WeightBits = 4,
            ActivationBits = 8,
            MaxEpoch = maxEpoch,
            Seed = 1,
            NumberOfThreads = 1,
            Progress = log is null ? null : new Progress<QatProgress>(p => log.WriteLine($"epoch {p.Epoch}: loss {p.TrainingLoss:F4}")),
        };
        var pipeline = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.Transforms.NormalizeMinMax("Features", "Pixels"))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel"));
        return pipeline.Fit(train);
    }

    /// <summary>Evaluates on the test rows with ML.NET's own multiclass evaluator.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <param name="model">The fitted pipeline.</param>
    /// <param name="test">The held-out rows.</param>
    /// <returns>ML.NET's metrics.</returns>
    public static MulticlassClassificationMetrics Evaluate(MLContext ml, ITransformer model, IDataView test) =>
        ml.MulticlassClassification.Evaluate(model.Transform(test), labelColumnName: "LabelKey");

    /// <summary>Writes each test row's predicted digit and scores, round-trip formatted, one row per line.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <param name="model">The fitted or loaded pipeline.</param>
    /// <param name="test">The rows.</param>
    /// <param name="writer">Where to write.</param>
    public static void PrintPredictions(MLContext ml, ITransformer model, IDataView test, TextWriter writer)
    {
        using var engine = ml.Model.CreatePredictionEngine<Digit, Prediction>(model);
        foreach (Digit digit in ml.Data.CreateEnumerable<Digit>(test, reuseRowObject: false))
        {
            Prediction p = engine.Predict(digit);
            writer.WriteLine($"{p.PredictedDigit},{string.Join(" ", p.Score.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))}");
        }
    }

    /// <summary>What the pipeline predicts for one digit.</summary>
    public sealed class Prediction
    {
        /// <summary>Gets or sets the predicted digit.</summary>
        public float PredictedDigit { get; set; }

        /// <summary>Gets or sets the class probabilities.</summary>
        public float[] Score { get; set; } = Array.Empty<float>();
    }
}
