// The ML.NET internals bridge, run-time side: lets this assembly use the internals of Microsoft.ML.Core and
// Microsoft.ML.Data that it was compiled against (see MlNetBridge.targets). The runtime recognises the attribute by
// its full name; the class is declared here because the BCL does not ship it.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Transforms")]

namespace System.Runtime.CompilerServices
{
    /// <summary>Tells the runtime to skip access checks from this assembly into the named one.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute : Attribute
    {
        /// <summary>Creates the attribute.</summary>
        /// <param name="assemblyName">Simple name of the assembly whose internals are used.</param>
        public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

        /// <summary>Gets the simple name of the assembly whose internals are used.</summary>
        public string AssemblyName { get; }
    }
}
