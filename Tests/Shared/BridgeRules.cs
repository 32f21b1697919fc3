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
