using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Onnx;
using MlRounding.Trainers;

namespace MlRounding.Samples;

/// <summary>
/// Sample: a real-world table by hand. Vega's cars (406 cars; Miles_per_Gallon to predict, missing for 8 of them) has a
/// text column with few values (Origin), a date (Year), missing numbers (Horsepower) and a name per car. The pipeline is
/// the one <c>mlround train</c> infers: rows without a label dropped, missing numbers imputed from the car's other
/// numbers (<c>ImputeMissingValues</c>; no indicator column, as mlround decides for cars, whose missing horsepowers show
/// no association with the miles per gallon), the categorical one-hot encoded (an unseen value encodes as none of the known ones), the year
/// taken from the date, the name left out, every feature normalized by its quantile bins, then a 4-bit
/// quantization-aware network; the fitted pipeline is exported to ONNX as a whole.
/// </summary>
public static class CarsPipelineSample
{
    /// <summary>One car as the CSV holds it (empty cells of numbers read as NaN).</summary>
    public sealed class Car
    {
        /// <summary>Gets or sets the miles per gallon (NaN where missing).</summary>
        [LoadColumn(1)] public float Miles_per_Gallon { get; set; }

        /// <summary>Gets or sets cylinders, displacement, horsepower, weight and acceleration.</summary>
        [LoadColumn(2, 6), VectorType(5)] public float[] Numbers { get; set; } = Array.Empty<float>();

        /// <summary>Gets or sets the model year as a date (1970-01-01).</summary>
        [LoadColumn(7)] public string Year { get; set; } = string.Empty;

        /// <summary>Gets or sets where the car was made (USA, Europe, Japan).</summary>
        [LoadColumn(8)] public string Origin { get; set; } = string.Empty;
    }

    /// <summary>A car as the pipeline reads it: the numbers with the model year appended.</summary>
    public sealed class Row
    {
        /// <summary>Gets or sets the label.</summary>
        public float Miles_per_Gallon { get; set; }

        /// <summary>Gets or sets the five numbers and the year.</summary>
        [VectorType(6)] public float[] Numbers { get; set; } = Array.Empty<float>();

        /// <summary>Gets or sets the origin.</summary>
        public string Origin { get; set; } = string.Empty;
    }

    /// <summary>The outcome of <see cref="Run"/>.</summary>
    /// <param name="TrainRows">Cars trained on.</param>
    /// <param name="TestRows">Cars held out.</param>
    /// <param name="Rmse">Held-out root mean squared error in miles per gallon.</param>
    /// <param name="ModelBytes">The network's parameter bytes.</param>
    /// <param name="Model">The fitted pipeline.</param>
    /// <param name="Schema">The schema of the rows it reads.</param>
    public sealed record Result(int TrainRows, int TestRows, double Rmse, long ModelBytes, ITransformer Model, DataViewSchema Schema);

    /// <summary>Reads the cars: labelled rows only, the year taken from the date.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <returns>The rows.</returns>
    public static List<Row> Load(MLContext ml)
    {
        var loader = ml.Data.CreateTextLoader<Car>(new TextLoader.Options { HasHeader = true, Separators = new[] { ',' }, AllowQuoting = true, MissingRealsAsNaNs = true });
        IDataView cars = loader.Load(Path.Combine(AppContext.BaseDirectory, "data", "cars.csv"));
        return ml.Data.CreateEnumerable<Car>(cars, reuseRowObject: false)
            .Where(c => !float.IsNaN(c.Miles_per_Gallon))
            .Select(c => new Row { Miles_per_Gallon = c.Miles_per_Gallon, Numbers = c.Numbers.Append(float.Parse(c.Year.AsSpan(0, 4), System.Globalization.CultureInfo.InvariantCulture)).ToArray(), Origin = c.Origin })
            .ToList();
    }

    /// <summary>The featurization and the trainer.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <returns>The estimator.</returns>
    public static EstimatorChain<RegressionPredictionTransformer<QatRegressionModelParameters>> Pipeline(MLContext ml) =>
        ml.Transforms.ImputeMissingValues("NumbersFilled", "Numbers")
            .Append(ml.Transforms.Categorical.OneHotEncoding("OriginOneHot", "Origin"))
            .Append(ml.Transforms.Concatenate("Features", "NumbersFilled", "OriginOneHot"))
            .Append(ml.Transforms.NormalizeBinning("Features", maximumBinCount: 256))
            .Append(ml.Regression.Trainers.QuantizationAware(new QatOptions { LabelColumnName = nameof(Row.Miles_per_Gallon), FeatureColumnName = "Features", WeightBits = 4, NumberOfThreads = 2 }));

    /// <summary>Trains on 80 % of the labelled cars, measures the rest, and exports the pipeline to ONNX.</summary>
    /// <param name="onnxPath">Where the ONNX file goes.</param>
    /// <returns>The outcome.</returns>
    public static Result Run(string onnxPath)
    {
        var ml = new MLContext(seed: 1);
        IDataView all = ml.Data.LoadFromEnumerable(Load(ml));
        var split = ml.Data.TrainTestSplit(all, testFraction: 0.2, seed: 1);
        var model = Pipeline(ml).Fit(split.TrainSet);
        var metrics = ml.Regression.Evaluate(model.Transform(split.TestSet), nameof(Row.Miles_per_Gallon));
        ml.Model.ExportToOnnx(model, all.Schema, onnxPath);
        var network = model.LastTransformer.Model.Network;
        return new Result(
            ml.Data.CreateEnumerable<Row>(split.TrainSet, false).Count(),
            ml.Data.CreateEnumerable<Row>(split.TestSet, false).Count(),
            metrics.RootMeanSquaredError,
            network.ParameterBytes,
            model,
            all.Schema);
    }
}
