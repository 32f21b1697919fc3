using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers.Tests.MlNet;

/// <summary>The float MLP against ML.NET's built-in multiclass trainers on the same digits split.</summary>
[TestClass, TestCategory(TestLanes.Slow)]
public sealed class BuiltInPeerTests
{
    [TestMethod]
    public void FloatMlp_WithinOnePointOfTheBestBuiltInMulticlassTrainer()
    {
        var ml = new MLContext(seed: 1);
        var all = ml.Data.LoadFromTextFile<TrainerPipelineTests.Digit>(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), hasHeader: true, separatorChar: ',');
        var rows = ml.Data.CreateEnumerable<TrainerPipelineTests.Digit>(all, reuseRowObject: false).ToList();
        var train = ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 != 0));
        var test = ml.Data.LoadFromEnumerable(rows.Where((_, i) => i % 5 == 0));
        var featurize = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.Concatenate("Features", "Pixels")).Append(ml.Transforms.NormalizeMinMax("Features"));
        var peers = new Dictionary<string, IEstimator<ITransformer>>
        {
            ["LbfgsMaximumEntropy"] = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(),
            ["SdcaMaximumEntropy"] = ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(),
            ["NaiveBayes"] = ml.MulticlassClassification.Trainers.NaiveBayes(),
        };
        double Accuracy(IEstimator<ITransformer> trainer) => ml.MulticlassClassification.Evaluate(featurize.Append(trainer).Fit(train).Transform(test)).MicroAccuracy;
        var results = peers.ToDictionary(p => p.Key, p => Accuracy(p.Value));
        double mlp = Accuracy(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { Mode = QatMode.Float, WeightBits = 32, ActivationBits = 32, NumberOfThreads = 1 }));
        string table = string.Join(", ", results.Select(r => $"{r.Key} {r.Value:P2}")) + $", float MLP {mlp:P2}";
        Console.WriteLine(table);
        Assert.IsGreaterThanOrEqualTo(results.Values.Max() - 0.01, mlp, table);
    }
}
