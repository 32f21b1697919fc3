using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Trainers;

namespace MlRounding.Samples;

/// <summary>
/// Sample: the question MlRounding started from. A regression must output prices in whole cents (or coarser price
/// points). Two ways: put the rounding into the model as an output rounding layer and train through it (its
/// straight-through gradient), or train without it and round the predictions afterwards with a <c>Round</c> step.
/// The bundled diabetes target (disease progression, 25..346) is read as a price in dollars.
/// </summary>
public static class PricesToCentsSample
{
    /// <summary>One patient: ten baseline variables and the target, read as a price.</summary>
    public sealed class Row
    {
        /// <summary>Gets or sets the ten baseline variables.</summary>
        [LoadColumn(0, 9), VectorType(10)] public float[] Baseline { get; set; } = Array.Empty<float>();

        /// <summary>Gets or sets the price in dollars.</summary>
        [LoadColumn(10)] public float Price { get; set; }
    }

    /// <summary>The outcome on the held-out rows for one grid and one approach.</summary>
    /// <param name="Grid">The price grid, e.g. "cents".</param>
    /// <param name="Approach">"trained through" or "rounded after".</param>
    /// <param name="Rmse">Root mean squared error in dollars.</param>
    /// <param name="OnGrid">Whether every prediction lies on the grid.</param>
    /// <param name="Predictions">The predictions for the held-out rows.</param>
    public sealed record Result(string Grid, string Approach, double Rmse, bool OnGrid, float[] Predictions);

    /// <summary>Loads the data; every 5th row is held out.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <returns>Training and test rows.</returns>
    public static (IDataView Train, IDataView Test) LoadData(MLContext ml)
    {
        IDataView all = ml.Data.LoadFromTextFile<Row>(Path.Combine(AppContext.BaseDirectory, "data", "diabetes.csv"), hasHeader: true, separatorChar: ',');
        var rows = ml.Data.CreateEnumerable<Row>(all, reuseRowObject: false).ToList();
        return (ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 != 0)), ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 == 0)));
    }

    /// <summary>Trains both ways for whole cents, whole dollars and $10 price points.</summary>
    /// <param name="maxEpoch">Epochs per model.</param>
    /// <returns>Two results per grid.</returns>
    public static IReadOnlyList<Result> Run(int maxEpoch = 150)
    {
        var ml = new MLContext(seed: 1);
        var (train, test) = LoadData(ml);
        var grids = new (string Name, RoundingGrid Grid, Func<IEstimator<ITransformer>> After)[]
        {
            ("cents", new DecimalGrid(2), () => ml.Transforms.Round("Score", decimals: 2)),
            ("dollars", new DecimalGrid(0), () => ml.Transforms.Round("Score", decimals: 0)),
            ("$10 points", new StepGrid(10), () => ml.Transforms.RoundToStep("Score", step: 10)),
        };

        // The model without any output rounding is trained once; rounding after training is a pipeline step on Score.
        ITransformer plain = Pipeline(ml, Options(maxEpoch)).Fit(train);
        var results = new List<Result>();
        foreach (var (name, grid, after) in grids)
        {
            QatOptions through = Options(maxEpoch);
            through.RoundingLayers.Add(new QatRoundingLayer { Grid = grid, Position = through.HiddenLayers.Length + 1 });
            results.Add(Measure(ml, name, "trained through", grid, Pipeline(ml, through).Fit(train), test));
            results.Add(Measure(ml, name, "rounded after", grid, plain.Append(after().Fit(plain.Transform(train))), test));
        }

        return results;
    }

    private static QatOptions Options(int maxEpoch) => new()
    {
        LabelColumnName = nameof(Row.Price), FeatureColumnName = "Features", Mode = QatMode.Float, HiddenLayers = new[] { 32 },
        MaxEpoch = maxEpoch, LearningRate = 0.003, Seed = 1, NumberOfThreads = 1,
    };

    private static IEstimator<ITransformer> Pipeline(MLContext ml, QatOptions options) =>
        ml.Transforms.NormalizeMeanVariance("Features", nameof(Row.Baseline)).Append(ml.Regression.Trainers.QuantizationAware(options));

    private static Result Measure(MLContext ml, string gridName, string approach, RoundingGrid grid, ITransformer model, IDataView test)
    {
        IDataView scored = model.Transform(test);
        double rmse = ml.Regression.Evaluate(scored, nameof(Row.Price)).RootMeanSquaredError;
        float[] predictions = scored.GetColumn<float>("Score").ToArray();
        return new Result(gridName, approach, rmse, predictions.All(s => grid.Round(s) == s), predictions);
    }
}
