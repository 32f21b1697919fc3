using Microsoft.ML;

namespace MlRounding.Tests.Shared;

/// <summary>Schema shapes for estimator tests.</summary>
internal static class Shapes
{
    /// <summary>ML.NET's SchemaShape.Create(DataViewSchema), internal in ML.NET 5, called by reflection.</summary>
    public static SchemaShape Of(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!
            .Invoke(null, new object[] { schema })!;
}
