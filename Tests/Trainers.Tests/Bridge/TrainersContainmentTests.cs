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
    public void DocsBridge_ListsEveryMlNetInternalTheTrainerBridgeUses() =>
        BridgeRules.AssertDocumented(typeof(QuantizationAwareCatalog).Assembly, "MlRounding.Trainers");
}
