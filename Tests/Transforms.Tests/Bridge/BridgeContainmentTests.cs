using System.Reflection;
using Microsoft.ML;

namespace MlRounding.Tests.Bridge;

[TestClass]
public sealed class BridgeContainmentTests
{
    private static bool IsMlNet(Type? type) => type?.Assembly.GetName().Name?.StartsWith("Microsoft.ML", StringComparison.Ordinal) == true;

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    private static bool InBridge(Type user) => Outermost(user).Namespace == "MlRounding.Bridge"
        || Outermost(user).Namespace == "System.Runtime.CompilerServices";

    private static bool IsPublicApi(MemberInfo member) => member switch
    {
        Type t => (t.IsGenericParameter || t.IsVisible) && (!t.IsGenericType || t.GetGenericArguments().All(a => !IsMlNet(a) || IsPublicApi(a)))
                  && (!t.HasElementType || IsPublicApi(t.GetElementType()!)),
        MethodBase m => (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly) && IsPublicApi(m.DeclaringType!),
        FieldInfo f => (f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly) && IsPublicApi(f.DeclaringType!),
        PropertyInfo p => IsPublicApi(p.DeclaringType!),
        _ => true,
    };

    [TestMethod]
    public void OutsideTheBridgeFolder_OnlyPublicMlNetApiIsUsed()
    {
        var offenders = IlMemberScanner.Scan(typeof(RoundingTransformer).Assembly)
            .Where(u => !InBridge(u.User))
            .Where(u => IsMlNet(u.Member as Type ?? u.Member.DeclaringType) && !IsPublicApi(u.Member))
            .Select(u => $"{u.User.FullName} ({u.Where}) uses {u.Member.DeclaringType?.FullName}.{u.Member.Name}")
            .Distinct()
            .ToList();
        Assert.IsEmpty(offenders, "ML.NET internals used outside Transforms/Bridge:\n" + string.Join("\n", offenders));
    }

    [TestMethod]
    public void TheBridge_UsesInternals_AndEveryOneResolvesInTheLoadedMlNet()
    {
        // ResolveMember throws for members missing from the ML.NET assemblies actually loaded: an update of ML.NET that
        // removes or changes an internal the bridge relies on fails here, by name, before any save/load test.
        var uses = IlMemberScanner.Scan(typeof(RoundingTransformer).Assembly)
            .Where(u => InBridge(u.User) && IsMlNet(u.Member as Type ?? u.Member.DeclaringType))
            .ToList();
        Assert.IsTrue(uses.Any(u => !IsPublicApi(u.Member)), "the bridge is where internals are used");
        // ML.NET keeps its assembly version at 1.0.0.0; the package version is in the informational version.
        string version = typeof(MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        StringAssert.StartsWith(version, "5.0.", $"the bridge is built and tested for ML.NET 5.0.x; loaded {version}");
    }
}
