using Microsoft.ML;
using Microsoft.ML.Data;
using MlRounding.Tests.Shared;

namespace MlRounding.Trainers.Tests.MlNet;

/// <summary>The trainers' output schema shapes are ML.NET's own trainers' (names, kinds, types, annotations).</summary>
[TestClass]
public sealed class OutputSchemaTests
{
    private sealed class Row
    {
        [VectorType(3)]
        public float[] Features { get; set; } = new float[3];

        public float Label { get; set; }

        public bool Flag { get; set; }
    }

    private static IDataView Data(MLContext ml) => ml.Data.LoadFromEnumerable(Enumerable.Range(0, 30).Select(i => new Row
    {
        Features = new[] { i % 3, i % 5, i / 10f }, Label = i % 3, Flag = i % 2 == 0,
    }));

    private static string Describe(SchemaShape shape, params string[] names) => string.Join("\n", names.Select(n =>
    {
        var c = shape.SingleOrDefault(c => c.Name == n);
        Assert.AreEqual(n, c.Name, $"output column {n}");
        string annotations = c.Annotations is null ? "" : string.Join(",", c.Annotations.Select(a => $"{a.Name}:{a.ItemType}:{a.Kind}").Order());
        return $"{c.Name} {c.Kind} {c.ItemType} key={c.IsKey} [{annotations}]";
    }));

    [TestMethod]
    public void Regression_SameShapeAsSdca()
    {
        var ml = new MLContext(1);
        var input = Shapes.Of(Data(ml).Schema);
        Assert.AreEqual(
            Describe(ml.Regression.Trainers.Sdca().GetOutputSchema(input), "Score"),
            Describe(ml.Regression.Trainers.QuantizationAware().GetOutputSchema(input), "Score"));
    }

    [TestMethod]
    public void Binary_SameShapeAsCalibratedSdca()
    {
        var ml = new MLContext(1);
        var input = Shapes.Of(Data(ml).Schema);
        string[] columns = { "Score", "Probability", "PredictedLabel" };
        Assert.AreEqual(
            Describe(ml.BinaryClassification.Trainers.SdcaLogisticRegression("Flag").GetOutputSchema(input), columns),
            Describe(ml.BinaryClassification.Trainers.QuantizationAware("Flag").GetOutputSchema(input), columns));
    }

    [TestMethod]
    public void Multiclass_SameShapeAsSdcaMaximumEntropy_AndMapKeyToValueCanFollow()
    {
        var ml = new MLContext(1);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(Data(ml)).Transform(Data(ml));
        var input = Shapes.Of(keyed.Schema);
        string[] columns = { "Score", "PredictedLabel" };
        Assert.AreEqual(
            Describe(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy().GetOutputSchema(input), columns),
            Describe(ml.MulticlassClassification.Trainers.QuantizationAware().GetOutputSchema(input), columns));

        // The user-visible consequence: the usual MapKeyToValue step after the trainer fits (it needs the key values).
        var model = ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 4 }, MaxEpoch = 1 })
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedValue", "PredictedLabel"))
            .Fit(keyed);
        Assert.AreEqual(NumberDataViewType.Single, model.Transform(keyed).Schema["PredictedValue"].Type);
    }
}
