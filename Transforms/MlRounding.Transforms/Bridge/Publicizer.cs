// Build-time only: compiled by MSBuild's RoslynCodeTaskFactory (see MlNetBridge.targets), never into the library.
// Makes every type and member of the Microsoft.ML.* namespaces of an assembly public (protected virtual members
// protected) and writes the copy to a
// folder; the copies replace the real assemblies as compile-time references only (the real ones still ship and run,
// and [IgnoresAccessChecksTo] makes the runtime accept our access).
using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Mono.Cecil;

namespace MlRounding.Bridge.Build
{
    /// <summary>MSBuild task: publicizes the given assemblies into <see cref="OutputDirectory"/>.</summary>
    public sealed class MlRoundingPublicize : Task
    {
        /// <summary>The reference assemblies to publicize.</summary>
        [Required]
        public ITaskItem[] Assemblies { get; set; } = new ITaskItem[0];

        /// <summary>Folder of the publicized copies.</summary>
        [Required]
        public string OutputDirectory { get; set; } = string.Empty;

        /// <summary>The publicized copies, with the metadata of the originals.</summary>
        [Output]
        public ITaskItem[] Publicized { get; set; } = new ITaskItem[0];

        /// <summary>Publicizes each assembly whose copy is missing or older than the original.</summary>
        public override bool Execute()
        {
            Directory.CreateDirectory(OutputDirectory);
            var result = new List<ITaskItem>();
            foreach (ITaskItem item in Assemblies)
            {
                string source = item.GetMetadata("FullPath");
                string target = Path.Combine(OutputDirectory, Path.GetFileName(source));
                if (!File.Exists(target) || File.GetLastWriteTimeUtc(target) < File.GetLastWriteTimeUtc(source))
                {
                    var resolver = new DefaultAssemblyResolver();
                    resolver.AddSearchDirectory(Path.GetDirectoryName(source));
                    using (var assembly = AssemblyDefinition.ReadAssembly(source, new ReaderParameters { AssemblyResolver = resolver }))
                    {
                        foreach (TypeDefinition type in assembly.MainModule.Types)
                        {
                            Publicize(type);
                        }

                        string temp = target + ".tmp";
                        assembly.Write(temp);
                        File.Copy(temp, target, true);
                        File.Delete(temp);
                    }

                    Log.LogMessage(MessageImportance.Normal, "MlRounding bridge: publicized " + source);
                }

                var copy = new TaskItem(target);
                item.CopyMetadataTo(copy);
                result.Add(copy);
            }

            Publicized = result.ToArray();
            return !Log.HasLoggedErrors;
        }

        // Only ML.NET's own namespaces: internal polyfills in System.* namespaces would otherwise clash with the BCL's.
        private static void Publicize(TypeDefinition type)
        {
            string ns = type.DeclaringType != null ? RootNamespace(type) : type.Namespace;
            if (!ns.StartsWith("Microsoft.ML", StringComparison.Ordinal))
            {
                return;
            }

            if (type.IsNested)
            {
                type.IsNestedPublic = true;
            }
            else
            {
                type.IsPublic = true;
            }

            foreach (MethodDefinition method in type.Methods)
            {
                // A protected or private protected virtual member becomes protected, not public: our overrides of it
                // (SaveCore, ...) are then protected too and stay out of our public API. Everything else becomes public.
                if (method.IsVirtual && (method.IsFamily || method.IsFamilyAndAssembly || method.IsFamilyOrAssembly))
                {
                    method.IsFamily = true;
                }
                else
                {
                    method.IsPublic = true;
                }
            }

            foreach (FieldDefinition field in type.Fields)
            {
                field.IsPublic = true;
            }

            foreach (TypeDefinition nested in type.NestedTypes)
            {
                Publicize(nested);
            }
        }

        private static string RootNamespace(TypeDefinition type)
        {
            while (type.DeclaringType != null)
            {
                type = type.DeclaringType;
            }

            return type.Namespace;
        }
    }
}
