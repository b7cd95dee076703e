using System.Text.Json;
using Xunit;

namespace Btmc.Epcis.Tests;

public sealed class EventTermsTests
{
    private static EventTerms Of(string json)
    {
        using var document = JsonDocument.Parse(json);
        return EventTerms.Of(document.RootElement);
    }

    [Fact]
    public void Of_CommissioningObjectEvent_MarksInstancesCommissionedButNotClasses()
    {
        var terms = Of("""
            {"type":"ObjectEvent","eventTime":"2026-11-22T10:00:00Z","action":"ADD","bizStep":"urn:epcglobal:cbv:bizstep:commissioning",
             "epcList":["urn:epc:id:sgtin:0614141.107346.1"],"quantityList":[{"epcClass":"urn:epc:class:lgtin:0614141.107346.L1","quantity":5}]}
            """);

        Assert.Equal("commissioning", terms.BizStep);
        var instance = Assert.Single(terms.Epcs, e => e.Epc == "https://id.gs1.org/01/10614141073464/21/1");
        Assert.Equal(EpcRoles.Epc | EpcRoles.Commissioned, instance.Roles);
        var lot = Assert.Single(terms.Epcs, e => (e.Roles & EpcRoles.Quantity) != 0);
        Assert.Equal(EpcRoles.Epc | EpcRoles.Quantity, lot.Roles);
    }

    [Fact]
    public void Of_TransformationEvent_GivesInputsAndOutputsInCanonicalSpelling()
    {
        var terms = Of("""
            {"type":"TransformationEvent","eventTime":"2026-11-22T10:00:00+02:00","inputEPCList":["urn:epc:id:sgtin:0614141.107346.1"],
             "outputEPCList":["https://id.gs1.org/01/10614141073464/21/2"],"eventID":"urn:uuid:7"}
            """);

        Assert.Equal(new DateTimeOffset(2026, 11, 22, 8, 0, 0, TimeSpan.Zero), terms.EventTime.ToUniversalTime());
        Assert.Equal("urn:uuid:7", terms.OwnEventId);
        Assert.Null(terms.Action);
        Assert.Contains(new EpcTerm("https://id.gs1.org/01/10614141073464/21/1", EpcRoles.Input), terms.Epcs);
        Assert.Contains(new EpcTerm("https://id.gs1.org/01/10614141073464/21/2", EpcRoles.Output), terms.Epcs);
    }

    [Theory]
    [InlineData("""[]""", true)]
    [InlineData("""["urn:epc:id:sgtin:0614141.107346.1"]""", false)]
    public void Of_AggregationDelete_MarksTheParentAllChildrenOnlyWithoutChildren(string children, bool all)
    {
        var terms = Of($$"""{"type":"AggregationEvent","eventTime":"2026-11-22T10:00:00Z","action":"DELETE","parentID":"urn:epc:id:sscc:0614141.1234567890","childEPCs":{{children}}}""");

        var parent = Assert.Single(terms.Epcs, e => (e.Roles & EpcRoles.Parent) != 0);
        Assert.Equal(all, (parent.Roles & EpcRoles.AllChildren) != 0);
        Assert.Equal(parent.Epc, terms.Parent);
    }

    [Theory]
    [InlineData("shipping", "shipping")]
    [InlineData("https://ref.gs1.org/cbv/BizStep-shipping", "shipping")]
    [InlineData("urn:epcglobal:cbv:bizstep:shipping", "shipping")]
    [InlineData("cbv:BizStep-shipping", "shipping")]
    [InlineData("https://example.com/steps/polish", "https://example.com/steps/polish")]
    public void CbvWord_AnySpelling_GivesTheBareWord(string value, string expected)
    {
        Assert.Equal(expected, EventTerms.CbvWord(value, "BizStep", "bizstep"));
    }

    [Fact]
    public void Of_ErrorDeclaration_IsFlagged()
    {
        var terms = Of("""{"type":"ObjectEvent","eventTime":"2026-11-22T10:00:00Z","action":"OBSERVE","epcList":[],"errorDeclaration":{"declarationTime":"2026-11-23T10:00:00Z"}}""");

        Assert.True(terms.IsErrorDeclaration);
        Assert.Empty(terms.Epcs);
    }

    [Fact]
    public void Of_GS1SourceDestinationExample_GivesPartiesAndBusinessTransactionsAsBareCbvWords()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Btmc.Testing.SharedTestData.PathOf("epcis-examples", "Example-Type-sourceOrDestination,measurement,bizTransaction.jsonld")));
        var evt = document.RootElement.GetProperty("epcisBody").GetProperty("eventList")[0];

        var terms = EventTerms.Of(evt);

        Assert.Equal(
            [new EventParty(true, "possessing_party", "urn:epc:id:pgln:4000001.00012"), new EventParty(false, "possessing_party", "urn:epc:id:pgln:4012345.00000")],
            terms.Parties);
        Assert.Equal(
            [new EventBizTransaction("inv", "urn:epcglobal:cbv:bt:4023333000000:54545"), new EventBizTransaction("po", "http://transaction.acme.com/po/12345678"),
             new EventBizTransaction("desadv", "urn:epcglobal:cbv:bt:0614141073467:1152")],
            terms.BizTransactions);
    }

    [Fact]
    public void Of_PartyAndTransactionTypesInEverySpelling_SameBareWord()
    {
        var terms = Of("""
            {"type":"ObjectEvent","eventTime":"2026-11-22T10:00:00Z","action":"OBSERVE","epcList":[],
             "sourceList":[{"type":"urn:epcglobal:cbv:sdt:owning_party","source":"urn:epc:id:pgln:4012345.00000"}],
             "destinationList":[{"type":"https://ref.gs1.org/cbv/SDT-owning_party","destination":"urn:epc:id:pgln:4098765.00000"},{"type":"cbv:SDT-location","destination":"urn:epc:id:sgln:4098765.00001.0"}],
             "bizTransactionList":[{"type":"urn:epcglobal:cbv:btt:po","bizTransaction":"urn:btmc:trade:order:m:PO-1"},{"bizTransaction":"urn:example:untyped"}]}
            """);

        Assert.Equal(["owning_party", "owning_party", "location"], terms.Parties.Select(p => p.Type));
        Assert.Equal([true, false, false], terms.Parties.Select(p => p.IsSource));
        Assert.Equal([("po", "urn:btmc:trade:order:m:PO-1"), (string.Empty, "urn:example:untyped")], terms.BizTransactions.Select(b => (b.Type, b.Id)));
        Assert.Empty(Of("""{"type":"ObjectEvent","eventTime":"2026-11-22T10:00:00Z","action":"OBSERVE","epcList":[]}""").Parties);
    }

    [Fact]
    public void Of_ReadPointAndBizLocation_InCanonicalSpellingOrAbsent()
    {
        var terms = Of("""
            {"type":"ObjectEvent","eventTime":"2026-11-22T10:00:00Z","action":"OBSERVE","epcList":[],
             "readPoint":{"id":"urn:epc:id:sgln:4012345.00001.0"},"bizLocation":{"id":"urn:example:store"}}
            """);

        Assert.Equal("https://id.gs1.org/414/4012345000016", terms.ReadPoint);
        Assert.Equal("urn:example:store", terms.BizLocation);
        var bare = Of("""{"type":"ObjectEvent","eventTime":"2026-11-22T10:00:00Z","action":"OBSERVE","epcList":[],"readPoint":{}}""");
        Assert.Null(bare.ReadPoint);
        Assert.Null(bare.BizLocation);
    }
}
