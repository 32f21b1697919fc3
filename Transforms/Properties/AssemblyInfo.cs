using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("MlRounding.Transforms.Tests")]
[assembly: InternalsVisibleTo("MlRounding.Benchmarks")]
