using System.Reflection;
using Microsoft.ML;
using MlRounding.Tests.Shared;
using static MlRounding.Tests.Shared.BridgeRules;

namespace MlRounding.Tests.Bridge;

[TestClass]
public sealed class BridgeContainmentTests
{
    [TestMethod]
    public void OutsideTheBridgeFolder_OnlyPublicMlNetApiIsUsed()
    {
        var offenders = BridgeRules.Offenders(typeof(RoundingTransformer).Assembly);
        Assert.IsEmpty(offenders, "ML.NET internals used outside Transforms/Bridge:\n" + string.Join("\n", offenders));
    }

    [TestMethod]
    public void DocsBridge_ListsEveryMlNetInternalTheBridgeUses() => AssertDocumented(typeof(RoundingTransformer).Assembly, "MlRounding.Transforms");

    [TestMethod]
    public void ThePrivateFieldsTheOnnxExportReads_StillExist()
    {
        // No public API gives a fitted one-hot encoding's steps or a missing-value replacement's values; the bridge reads
        // these two private fields (TransformerInternals). An ML.NET update that renames or retypes one fails here, by name.
        const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
        FieldInfo? steps = typeof(Microsoft.ML.Transforms.OneHotEncodingTransformer).GetField("_transformer", Private);
        Assert.IsNotNull(steps, "OneHotEncodingTransformer._transformer is gone");
        Assert.IsTrue(typeof(IEnumerable<ITransformer>).IsAssignableFrom(steps.FieldType), $"OneHotEncodingTransformer._transformer is now {steps.FieldType}");
        FieldInfo? values = typeof(Microsoft.ML.Transforms.MissingValueReplacingTransformer).GetField("_repValues", Private);
        Assert.IsNotNull(values, "MissingValueReplacingTransformer._repValues is gone");
        Assert.AreEqual(typeof(object[]), values.FieldType, "MissingValueReplacingTransformer._repValues changed type");
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
