using System.Text;
using Btmc.Ledger;
using Btmc.Supply.Access;
using Xunit;

namespace Btmc.Supply.Tests.Access;

public sealed class EventAccessTests
{
    private static readonly Caller Fab = new("fab-a", PartnerRoles.Partner, ["4012345"], []);

    private static ReadOnlyMemory<byte> Json(string members) =>
        Encoding.UTF8.GetBytes("{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"action\":\"OBSERVE\"," + members + "}");

    [Theory]
    [InlineData("\"epcList\":[\"urn:epc:id:sgtin:4012345.000010.1\"]")]
    [InlineData("\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.000010.L1\",\"quantity\":2}]")]
    [InlineData("\"parentID\":\"urn:epc:id:sscc:4012345.0000000001\"")]
    [InlineData("\"readPoint\":{\"id\":\"urn:epc:id:sgln:4012345.00001.0\"}")]
    [InlineData("\"bizLocation\":{\"id\":\"urn:epc:id:sgln:4012345.00001.0\"}")]
    [InlineData("\"sourceList\":[{\"type\":\"owning_party\",\"source\":\"urn:epc:id:pgln:4012345.00001\"}]")]
    [InlineData("\"destinationList\":[{\"type\":\"owning_party\",\"destination\":\"urn:epc:id:pgln:4012345.00001\"}]")]
    public void CanSee_EventNamingThePartnersPrefixAnywhere_True(string members) =>
        Assert.True(EventAccess.CanSee(Fab, "osat-b", Json(members)));

    [Fact]
    public void CanSee_CompetitorsEventNamingOtherPrefixes_False() =>
        Assert.False(EventAccess.CanSee(Fab, "osat-b", Json("\"epcList\":[\"urn:epc:id:sgtin:4098765.000020.1\"],\"readPoint\":{\"id\":\"urn:epc:id:sgln:4098765.00001.0\"}")));

    [Fact]
    public void CanSee_OwnCaptureNamingOtherPrefixes_True() =>
        Assert.True(EventAccess.CanSee(Fab, "fab-a", Json("\"epcList\":[\"urn:epc:id:sgtin:4098765.000020.1\"]")));

    [Theory]
    [InlineData(PartnerRoles.Auditor)]
    [InlineData(PartnerRoles.Operator)]
    public void CanSee_AuditorOrOperator_SeesEveryEvent(PartnerRoles role) =>
        Assert.True(EventAccess.CanSee(new Caller("aud", role, [], []), "osat-b", Json("\"epcList\":[\"urn:epc:id:sgtin:4098765.000020.1\"]")));

    [Fact]
    public void CanSee_GrantedPrefixAlone_DoesNotShowTheOwnersEvents() =>
        Assert.False(EventAccess.CanSee(new Caller("osat-b", PartnerRoles.Partner, ["4098765"], ["4012345"]), "fab-a", Json("\"epcList\":[\"urn:epc:id:sgtin:4012345.000010.1\"]")));
}
