using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.MasterData;
using Xunit;

namespace Btmc.Supply.Tests.MasterData;

public sealed class MasterDataStoreTests
{
    private const string Type = "urn:epcglobal:epcis:vtype:BusinessLocation";
    private static readonly Caller Owner = new("site-a", PartnerRoles.Partner, ["4012345"], []);
    private static readonly Caller Grantee = new("rival-b", PartnerRoles.Partner, ["4098765"], ["4012345"]);

    private static CapturedMasterData Element(string id, string sst, params string[] children) =>
        new("/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/0", new MasterDataElement(Type, id, [new MasterDataAttribute("urn:epcglobal:cbv:mda#sst", sst)], children));

    [Fact]
    public async Task StoreAsync_SameElementAgain_WritesNothingNewVersionReplaces()
    {
        await using var harness = await SupplyHarness.StartAsync();
        var store = harness.Backend.MasterData;

        Assert.Equal(1, await store.StoreAsync(Owner, [Element("urn:epc:id:sgln:4012345.00001.0", "201")]));
        Assert.Equal(0, await store.StoreAsync(Owner, [Element("urn:epc:id:sgln:4012345.00001.0", "201")]));
        Assert.Equal(1, await store.StoreAsync(Owner, [Element("urn:epc:id:sgln:4012345.00001.0", "202")]));

        var own = Assert.Single(await store.OwnAsync(Owner));
        Assert.Equal("202", Assert.Single(own.Attributes).Value);
    }

    [Fact]
    public void Forbidden_GlnOfAGrantedButNotOwnedPrefix_NamesTheId()
    {
        var problems = MasterDataStore.Forbidden(Grantee, [Element("urn:epc:id:sgln:4012345.00001.0", "201"), Element("urn:example:rival:zone", "1")]);

        var problem = Assert.Single(problems);
        Assert.Equal("/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/0/id", problem.Pointer);
        Assert.Empty(MasterDataStore.Forbidden(Owner, [Element("urn:epc:id:sgln:4012345.00001.0", "201")]));
    }

    [Fact]
    public async Task ViewForAsync_SharedGs1AndOwnPrivateOnly()
    {
        await using var harness = await SupplyHarness.StartAsync();
        var store = harness.Backend.MasterData;
        await store.StoreAsync(Owner, [Element("urn:epc:id:sgln:4012345.00001.0", "201"), Element("urn:example:zone/1?a#b", "7")]);

        Assert.Equal(2, (await store.ViewForAsync(Owner)).Count);
        Assert.Equal(1, (await store.ViewForAsync(Grantee)).Count);
    }

    [Fact]
    public void RowKeyOf_ForbiddenCharacters_PercentEncodedAndDistinct()
    {
        Assert.Equal("urn:example:zone%2F1%3Fa%23b", MasterDataStore.RowKeyOf("urn:example:zone/1?a#b"));
        Assert.NotEqual(MasterDataStore.RowKeyOf("urn:example:a%2Fb"), MasterDataStore.RowKeyOf("urn:example:a/b"));
        Assert.Equal(MasterDataStore.RowKeyOf("urn:epc:id:sgln:4012345.00001.0"), MasterDataStore.RowKeyOf("https://id.gs1.org/414/4012345000016"));
    }
}
