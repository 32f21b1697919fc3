using MlRounding.Tests.Shared;

namespace MlRounding.Trainers.Tests.Bridge;

[TestClass]
public sealed class TrainersContainmentTests
{
    [TestMethod]
    public void TheTrainersAssembly_UsesOnlyPublicMlNetApi()
    {
        var offenders = BridgeRules.Offenders(typeof(QuantizationAwareCatalog).Assembly);
        Assert.IsEmpty(offenders, "ML.NET internals used outside Transforms/Bridge:\n" + string.Join("\n", offenders));
    }

    [TestMethod]
    public void DocsBridge_ListsEveryMlNetInternalTheTrainerBridgeUses()
    {
        var used = BridgeRules.InternalsUsed(typeof(QuantizationAwareCatalog).Assembly);
        var listed = BridgeRules.DocumentedInternals("MlRounding.Trainers");
        CollectionAssert.AreEqual(used.ToList(), listed.ToList(), "docs/bridge.md, MlRounding.Trainers: missing " + string.Join(", ", used.Except(listed)) + "; listed but unused " + string.Join(", ", listed.Except(used)));
    }
}
