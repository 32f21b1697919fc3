using MlRounding.Tests.Shared;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.MlNet;

/// <summary>
/// Checks an estimator the way ML.NET's TestEstimatorCore does: schema propagation (GetOutputSchema on a shape agrees with
/// the fitted transformer's schema), transform and save/load round trip with bit-identical values, and bad input
/// rejected by both Fit and GetOutputSchema.
/// </summary>
internal static class EstimatorHarness
{
    public static void Check<T>(MLContext ml, IEstimator<T> estimator, IDataView valid, IDataView? invalid = null)
        where T : ITransformer
    {
        // Schema propagation.
        SchemaShape shape = estimator.GetOutputSchema(Shapes.Of(valid.Schema));
        T transformer = estimator.Fit(valid);
        DataViewSchema schema = transformer.GetOutputSchema(valid.Schema);
        IDataView transformed = transformer.Transform(valid);
        Assert.AreEqual(schema.Count, transformed.Schema.Count, "Transform and GetOutputSchema agree on columns");
        foreach (var column in schema.Where(c => !c.IsHidden))
        {
            var expected = shape.LastOrDefault(c => c.Name == column.Name);
            Assert.AreEqual(column.Name, expected.Name, $"shape lacks {column.Name}");
            Assert.AreEqual(expected.ItemType, column.Type is VectorDataViewType v ? v.ItemType : column.Type, column.Name);
            var kind = column.Type is VectorDataViewType vt ? (vt.IsKnownSize ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.VariableVector) : SchemaShape.Column.VectorKind.Scalar;
            Assert.AreEqual(expected.Kind, kind, column.Name);
            foreach (var annotation in column.Annotations.Schema)
            {
                Assert.IsTrue(expected.Annotations.Any(a => a.Name == annotation.Name), $"{column.Name}: shape lacks annotation {annotation.Name}");
            }
        }

        // Save and load: same schema, bit-identical values in every column.
        string path = Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(transformer, valid.Schema, path);
            var fresh = new MLContext(seed: 99);
            ITransformer loaded = fresh.Model.Load(path, out var loadedInputSchema);
            Assert.AreEqual(valid.Schema.Count, loadedInputSchema.Count);
            IDataView reloaded = loaded.Transform(valid);
            foreach (var column in transformed.Schema.Where(c => !c.IsHidden && IsNumeric(c.Type)))
            {
                DataViewReader.AssertIdentical(DataViewReader.Column(transformed, column.Name), DataViewReader.Column(reloaded, column.Name), "after load: " + column.Name);
            }
        }
        finally
        {
            File.Delete(path);
        }

        if (invalid is not null)
        {
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.Fit(invalid));
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shapes.Of(invalid.Schema)));
        }
    }

    private static bool IsNumeric(DataViewType type)
    {
        DataViewType item = type is VectorDataViewType v ? v.ItemType : type;
        return item == NumberDataViewType.Single || item == NumberDataViewType.Double;
    }
}
