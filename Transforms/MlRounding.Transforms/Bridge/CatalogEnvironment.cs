using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MlRounding.Bridge;

/// <summary>Bridge: the <see cref="IHostEnvironment"/> behind an ML.NET catalog (internal in ML.NET).</summary>
internal static class CatalogEnvironment
{
    public static IHostEnvironment Of(TransformsCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return ((IInternalCatalog)catalog).Environment;
    }
}
