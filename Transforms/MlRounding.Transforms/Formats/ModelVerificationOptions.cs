namespace MlRounding;

/// <summary>
/// What <see cref="ModelFiles.Verify(Stream, ModelVerificationOptions)"/> and <c>LoadVerified</c> accept besides intact
/// checksums: the assemblies a model file may name as the loaders of its entries.
/// </summary>
public sealed class ModelVerificationOptions
{
    /// <summary>
    /// Gets the simple names of the assemblies whose loaders a model may call; a name ending in <c>*</c> allows every
    /// assembly whose name starts with what precedes it. Default: <c>Microsoft.ML</c> and <c>Microsoft.ML.*</c> (ML.NET's
    /// own assemblies) and <c>MlRounding.Transforms</c> (ours). Add the assemblies of your own custom transforms.
    /// </summary>
    public ISet<string> AllowedLoaderAssemblies { get; } = new HashSet<string>(StringComparer.Ordinal) { "Microsoft.ML", "Microsoft.ML.*", "MlRounding.Transforms" };

    /// <summary>Whether <paramref name="simpleName"/> is allowed by <see cref="AllowedLoaderAssemblies"/>.</summary>
    internal bool Allows(string simpleName) =>
        AllowedLoaderAssemblies.Any(a => a.EndsWith('*') ? simpleName.StartsWith(a[..^1], StringComparison.Ordinal) : simpleName == a);
}
