using System.Reflection;

namespace MlRounding.Tests.Shared;

/// <summary>What counts as ML.NET's public API, and what is bridge code, for the containment tests.</summary>
internal static class BridgeRules
{
    public static bool IsMlNet(Type? type) => type?.Assembly.GetName().Name?.StartsWith("Microsoft.ML", StringComparison.Ordinal) == true;

    public static Type Outermost(Type type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    public static bool InBridge(Type user) => Outermost(user).Namespace == "MlRounding.Bridge"
        || Outermost(user).Namespace == "System.Runtime.CompilerServices";

    public static bool IsPublicApi(MemberInfo member) => member switch
    {
        Type t => (t.IsGenericParameter || t.IsVisible) && (!t.IsGenericType || t.GetGenericArguments().All(a => !IsMlNet(a) || IsPublicApi(a)))
                  && (!t.HasElementType || IsPublicApi(t.GetElementType()!)),
        MethodBase m => (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly) && IsPublicApi(m.DeclaringType!),
        FieldInfo f => (f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly) && IsPublicApi(f.DeclaringType!),
        PropertyInfo p => IsPublicApi(p.DeclaringType!),
        _ => true,
    };

    /// <summary>Uses of non-public ML.NET members by code outside the bridge. Interfaces a type only inherits from a bridge base class are allowed.</summary>
    public static List<string> Offenders(Assembly assembly) => IlMemberScanner.Scan(assembly)
        .Where(u => !InBridge(u.User))
        .Where(u => !(u.Where == "interface" && u.User.BaseType is { } b && InheritedFromBridge(b, (Type)u.Member)))
        .Where(u => IsMlNet(u.Member as Type ?? u.Member.DeclaringType) && !IsPublicApi(u.Member))
        .Select(u => $"{u.User.FullName} ({u.Where}) uses {u.Member.DeclaringType?.FullName}.{u.Member.Name}")
        .Distinct()
        .ToList();

    /// <summary>
    /// Every ML.NET member outside its public API that the bridge code of <paramref name="assembly"/> uses, as
    /// "Type.Member" (the type without its namespace; a type used as a whole is listed by its name alone), sorted.
    /// </summary>
    public static SortedSet<string> InternalsUsed(Assembly assembly) => new(IlMemberScanner.Scan(assembly)
        .Where(u => InBridge(u.User) && IsMlNet(u.Member as Type ?? u.Member.DeclaringType) && !IsPublicApi(u.Member))
        .Select(u => u.Member is Type t ? Name(t) : $"{Name(u.Member.DeclaringType!)}.{(u.Member is ConstructorInfo ? "ctor" : u.Member.Name)}"), StringComparer.Ordinal);

    /// <summary>Fails unless docs/bridge.md's list for <paramref name="assemblyName"/> is exactly <see cref="InternalsUsed"/> of <paramref name="assembly"/>, naming what is missing or extra.</summary>
    public static void AssertDocumented(Assembly assembly, string assemblyName)
    {
        var used = InternalsUsed(assembly);
        var listed = DocumentedInternals(assemblyName);
        CollectionAssert.AreEqual(used.ToList(), listed.ToList(), $"docs/bridge.md, {assemblyName}: missing " + string.Join(", ", used.Except(listed)) + "; listed but unused " + string.Join(", ", listed.Except(used)));
    }

    /// <summary>The entries of docs/bridge.md's list of internals for <paramref name="assemblyName"/>: lines "- `Type.Member`" under the heading naming it.</summary>
    public static SortedSet<string> DocumentedInternals(string assemblyName)
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "MlRounding.sln")))
        {
            root = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(root)) ?? throw new InvalidOperationException("MlRounding.sln not found");
        }

        var listed = new SortedSet<string>(StringComparer.Ordinal);
        bool inSection = false;
        foreach (string line in File.ReadLines(Path.Combine(root, "docs", "bridge.md")))
        {
            if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                inSection = line.Contains(assemblyName, StringComparison.Ordinal);
            }
            else if (inSection && line.StartsWith("- `", StringComparison.Ordinal))
            {
                listed.Add(line[3..line.IndexOf('`', 3)]);
            }
        }

        return listed;
    }

    private static string Name(Type type)
    {
        string name = type.IsGenericType ? type.Name[..type.Name.IndexOf('`')] : type.Name;
        return type.DeclaringType is { } outer ? Name(outer) + "." + name : name;
    }

    private static bool InheritedFromBridge(Type baseType, Type iface)
    {
        for (Type? t = baseType; t is not null; t = t.BaseType)
        {
            if (InBridge(t) && t.GetInterfaces().Contains(iface))
            {
                return true;
            }
        }

        return false;
    }
}
