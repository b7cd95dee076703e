using System.Text.Json;
using Btmc.Epcis.Query;
using Btmc.Testing;
using Xunit;

namespace Btmc.Epcis.Tests.Query;

public sealed class EpcisQueryMatchTests
{
    private const string ObjectEvents = "Example_9.6.1-ObjectEvent.jsonld";
    private const string ObjectEventsWithDigitalLink = "WithDigitalLinkID/Example_9.6.1-ObjectEventWithDigitalLink.jsonld";
    private const string Aggregation = "Example_9.6.3-AggregationEvent.jsonld";
    private const string AggregationWithDigitalLink = "WithDigitalLinkID/Example_9.6.3-AggregationEventWithDigitalLink.jsonld";
    private const string Transformation = "Example_9.6.4-TransformationEvent.jsonld";
    private const string WithErrorDeclaration = "WithErrorDeclaration/Example_9.6.1-ObjectEvent-with-error-declaration.jsonld";

    /// <summary>The events of a GS1 example document.</summary>
    private static JsonElement[] Events(string example)
    {
        var path = SharedTestData.PathOf(["epcis-examples", .. example.Split('/')]);
        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var body = document.RootElement.GetProperty("epcisBody");
        var list = body.TryGetProperty("eventList", out var eventList) ? eventList : body.GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList");
        return list.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    private static JsonElement Event(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static EpcisQuery Query(params (string Name, string Value)[] parameters)
    {
        var result = EpcisQuery.Parse(parameters.Select(p => new KeyValuePair<string, string?>(p.Name, p.Value)));
        Assert.True(result.IsValid, string.Join("; ", result.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
        return Assert.IsType<EpcisQuery>(result.Query);
    }

    /// <summary>Which events of the example match, as a string of 1s and 0s in document order.</summary>
    private static string Matching(string example, params (string Name, string Value)[] parameters)
    {
        var query = Query(parameters);
        return string.Concat(Events(example).Select(e => query.Matches(e) ? '1' : '0'));
    }

    [Fact]
    public void Matches_NoParameters_EveryEvent()
    {
        Assert.Equal("11", Matching(ObjectEvents));
    }

    [Fact]
    public void Matches_NotAnObject_False()
    {
        Assert.False(Query().Matches(Event("[1]")));
    }

    [Theory]
    [InlineData("AggregationEvent", "1")]
    [InlineData("ObjectEvent|AggregationEvent", "1")]
    [InlineData("ObjectEvent", "0")]
    public void Matches_EventType_ComparesType(string types, string expected)
    {
        Assert.Equal(expected, Matching(Aggregation, ("eventType", types)));
    }

    // Example_9.6.1: the first event at 2005-04-03T20:33:31.116-06:00 = 2005-04-04T02:33:31.116Z, the second a day later.
    [Theory]
    [InlineData("GE_eventTime", "2005-04-04T02:33:31.116Z", "11")]
    [InlineData("GE_eventTime", "2005-04-04T02:33:31.117Z", "01")]
    [InlineData("GE_eventTime", "2005-04-03T20:33:31.116-06:00", "11")]
    [InlineData("LT_eventTime", "2005-04-04T02:33:31.116Z", "00")]
    [InlineData("LT_eventTime", "2005-04-04T02:33:31.117Z", "10")]
    [InlineData("LT_eventTime", "2005-04-04T04:33:31.117+02:00", "10")]
    public void Matches_EventTimeBoundaries_GeInclusiveLtExclusive(string name, string value, string expected)
    {
        Assert.Equal(expected, Matching(ObjectEvents, (name, value)));
    }

    [Fact]
    public void Matches_EventTimeWindow_BothBoundsApply()
    {
        Assert.Equal("10", Matching(ObjectEvents, ("GE_eventTime", "2005-04-04T02:33:31.116Z"), ("LT_eventTime", "2005-04-05T02:33:31.116Z")));
    }

    [Fact]
    public void Matches_RecordTimeGivenByRepository_GeInclusiveLtExclusive()
    {
        var evt = Events(ObjectEvents)[0];
        var recorded = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

        Assert.True(Query(("GE_recordTime", "2026-01-01T12:00:00Z")).Matches(evt, recorded));
        Assert.False(Query(("GE_recordTime", "2026-01-01T12:00:00.001Z")).Matches(evt, recorded));
        Assert.False(Query(("LT_recordTime", "2026-01-01T12:00:00Z")).Matches(evt, recorded));
        Assert.True(Query(("LT_recordTime", "2026-01-01T13:00:00.000+01:00")).Matches(evt, recorded.AddTicks(-1)));
    }

    [Fact]
    public void Matches_RecordTimeInEvent_UsedWhenNotGiven()
    {
        var evt = Event("""{ "type": "ObjectEvent", "recordTime": "2026-01-01T12:00:00Z", "eventTime": "2025-01-01T00:00:00Z" }""");

        Assert.True(Query(("GE_recordTime", "2026-01-01T12:00:00Z")).Matches(evt));
        Assert.False(Query(("LT_recordTime", "2026-01-01T12:00:00Z")).Matches(evt));
        Assert.False(Query(("GE_recordTime", "2020-01-01T00:00:00Z")).Matches(Events(ObjectEvents)[0]));
    }

    [Theory]
    [InlineData("OBSERVE", "1")]
    [InlineData("ADD|DELETE", "0")]
    public void Matches_Action_ComparesAction(string actions, string expected)
    {
        Assert.Equal(expected, Matching(Aggregation, ("EQ_action", actions)));
    }

    [Fact]
    public void Matches_ActionOnEventWithoutOne_False()
    {
        Assert.False(Query(("EQ_action", "ADD")).Matches(Event("""{ "type": "TransformationEvent" }""")));
    }

    [Theory]
    [InlineData("shipping", "10")]
    [InlineData("receiving", "01")]
    [InlineData("https://ref.gs1.org/cbv/BizStep-shipping", "10")]
    [InlineData("urn:epcglobal:cbv:bizstep:receiving", "01")]
    [InlineData("cbv:BizStep-shipping|receiving", "11")]
    [InlineData("https://example.org/shipping", "00")]
    public void Matches_BizStepInAnySpelling_MatchesBareWordInEvent(string steps, string expected)
    {
        Assert.Equal(expected, Matching(ObjectEvents, ("EQ_bizStep", steps)));
    }

    [Theory]
    [InlineData("""{ "type": "ObjectEvent", "bizStep": "urn:epcglobal:cbv:bizstep:shipping" }""")]
    [InlineData("""{ "type": "ObjectEvent", "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping" }""")]
    [InlineData("""{ "type": "ObjectEvent", "bizStep": "cbv:BizStep-shipping" }""")]
    public void Matches_BareBizStep_MatchesUriInEvent(string json)
    {
        Assert.True(Query(("EQ_bizStep", "shipping")).Matches(Event(json)));
        Assert.False(Query(("EQ_bizStep", "receiving")).Matches(Event(json)));
    }

    [Fact]
    public void Matches_CustomBizStep_ExactOnly()
    {
        var evt = Event("""{ "type": "ObjectEvent", "bizStep": "https://example.org/steps/picking" }""");

        Assert.True(Query(("EQ_bizStep", "https://example.org/steps/picking")).Matches(evt));
        Assert.False(Query(("EQ_bizStep", "picking")).Matches(evt));
    }

    [Theory]
    [InlineData("in_transit", "10")]
    [InlineData("urn:epcglobal:cbv:disp:in_progress", "01")]
    [InlineData("https://ref.gs1.org/cbv/Disp-in_transit|in_progress", "11")]
    [InlineData("https://ref.gs1.org/cbv/BizStep-in_transit", "00")]
    public void Matches_Disposition_MatchesAnySpelling(string dispositions, string expected)
    {
        Assert.Equal(expected, Matching(ObjectEvents, ("EQ_disposition", dispositions)));
    }

    [Theory]
    [InlineData("urn:epc:id:sgln:0614141.07346.1234", "10")]
    [InlineData("urn:epc:id:sgln:0012345.11111.400", "01")]
    [InlineData("https://id.gs1.org/414/0012345111112/254/400", "01")]
    [InlineData("urn:epc:id:sgln:0012345.11111.0", "00")]
    public void Matches_ReadPoint_MatchesEpcUriOrDigitalLink(string readPoints, string expected)
    {
        Assert.Equal(expected, Matching(ObjectEvents, ("EQ_readPoint", readPoints)));
    }

    [Theory]
    [InlineData("urn:epc:id:sgln:0012345.11111.0", "01")]
    [InlineData("https://id.gs1.org/414/0012345111112", "01")]
    [InlineData("urn:epc:id:sgln:0012345.11111.400", "00")]
    public void Matches_BizLocation_MatchesEpcUriOrDigitalLink(string locations, string expected)
    {
        Assert.Equal(expected, Matching(ObjectEvents, ("EQ_bizLocation", locations)));
    }

    [Theory]
    [InlineData("urn:epc:id:sgtin:0614141.107346.2017", "10")]
    [InlineData("urn:epc:id:sgtin:0614141.107346.2018", "11")]
    [InlineData("https://id.gs1.org/01/10614141073464/21/2017", "10")]
    [InlineData("https://id.gs1.org/gtin/10614141073464/ser/2018", "11")]
    [InlineData("urn:epc:id:sgtin:0614141.107346.2019", "00")]
    [InlineData("urn:epc:idpat:sgtin:0614141.107346.*", "11")]
    [InlineData("urn:epc:idpat:sgtin:0614141.*.*", "11")]
    [InlineData("urn:epc:idpat:sgtin:*.*.*", "11")]
    [InlineData("urn:epc:idpat:sgtin:0614141.107347.*", "00")]
    [InlineData("urn:epc:idpat:sscc:0614141.*", "00")]
    public void Matches_MatchEpc_UrnExample(string epcs, string expected)
    {
        Assert.Equal(expected, Matching(ObjectEvents, ("MATCH_epc", epcs)));
    }

    // The Digital Link twin holds https://id.gs1.org/01/70614141123451/21/2017 and .../2018.
    [Theory]
    [InlineData("urn:epc:id:sgtin:0614141.712345.2017", "10")]
    [InlineData("urn:epc:id:sgtin:0614141.712345.2018", "11")]
    [InlineData("https://id.gs1.org/01/70614141123451/21/2017", "10")]
    [InlineData("urn:epc:id:sgtin:0614141.107346.2017", "00")]
    [InlineData("urn:epc:idpat:sgtin:0614141.712345.*", "11")]
    [InlineData("urn:epc:idpat:sgtin:0614141.*.*", "11")]
    [InlineData("urn:epc:idpat:sgtin:0614142.*.*", "00")]
    [InlineData("urn:epc:idpat:sgtin:*.*.*", "11")]
    [InlineData("urn:epc:idpat:sgtin:0614141.107346.*", "00")]
    [InlineData("urn:epc:idpat:upui:0614141.712345.*", "00")]
    public void Matches_MatchEpc_DigitalLinkExample(string epcs, string expected)
    {
        Assert.Equal(expected, Matching(ObjectEventsWithDigitalLink, ("MATCH_epc", epcs)));
    }

    [Fact]
    public void Matches_DigitalLinkWithLotAndShortGtin_MatchesUrn()
    {
        var evt = Event("""{ "type": "ObjectEvent", "epcList": ["https://example.com/01/0614141123452/10/LOT7/21/2017?x=1"] }""");

        Assert.True(Query(("MATCH_epc", "urn:epc:id:sgtin:0614141.012345.2017")).Matches(evt));
        Assert.True(Query(("MATCH_epc", "https://id.gs1.org/01/00614141123452/21/2017")).Matches(evt));
        Assert.False(Query(("MATCH_epc", "urn:epc:id:sgtin:0614141.012345.2018")).Matches(evt));
    }

    [Fact]
    public void Matches_EscapedEpcInEvent_StillMatches()
    {
        var evt = Event("""{ "type": "ObjectEvent", "epcList": ["urn:epc:id:sgtin:0614141.107346.\u0032017"] }""");

        Assert.True(Query(("MATCH_epc", "urn:epc:id:sgtin:0614141.107346.2017")).Matches(evt));
    }

    [Theory]
    [InlineData(Aggregation)]
    [InlineData(AggregationWithDigitalLink)]
    public void Matches_MatchEpc_CoversChildEpcsNotParent(string example)
    {
        Assert.Equal("1", Matching(example, ("MATCH_epc", "urn:epc:idpat:sgtin:0614141.*.*")));
        Assert.Equal("0", Matching(example, ("MATCH_epc", "urn:epc:id:sscc:0614141.1234567890")));
    }

    [Theory]
    [InlineData("urn:epc:id:sscc:0614141.1234567890", "1")]
    [InlineData("https://id.gs1.org/00/106141412345678908", "1")]
    [InlineData("urn:epc:idpat:sscc:0614141.*", "1")]
    [InlineData("urn:epc:id:sgtin:0614141.107346.2017", "0")]
    public void Matches_MatchParentId_ComparesParent(string ids, string expected)
    {
        Assert.Equal(expected, Matching(Aggregation, ("MATCH_parentID", ids)));
    }

    [Fact]
    public void Matches_MatchInputAndOutputEpc_EachItsOwnList()
    {
        Assert.Equal("1", Matching(Transformation, ("MATCH_inputEPC", "urn:epc:id:sgtin:4012345.011122.25")));
        Assert.Equal("0", Matching(Transformation, ("MATCH_outputEPC", "urn:epc:id:sgtin:4012345.011122.25")));
        Assert.Equal("1", Matching(Transformation, ("MATCH_outputEPC", "urn:epc:idpat:sgtin:4012345.077889.*")));
        Assert.Equal("0", Matching(Transformation, ("MATCH_inputEPC", "urn:epc:idpat:sgtin:4012345.077889.*")));
        Assert.Equal("0", Matching(Transformation, ("MATCH_epc", "urn:epc:id:sgtin:4012345.011122.25")));
    }

    [Theory]
    [InlineData(Transformation, "urn:epc:id:sgtin:4012345.077889.26", "1")]
    [InlineData(Transformation, "urn:epc:id:sgtin:4000001.065432.99886655", "1")]
    [InlineData(Aggregation, "https://id.gs1.org/00/106141412345678908", "1")]
    [InlineData(Aggregation, "urn:epc:id:sgtin:0614141.107346.2018", "1")]
    [InlineData(ObjectEvents, "urn:epc:id:sgtin:0614141.107346.2017", "10")]
    [InlineData(Aggregation, "urn:epc:id:sgtin:4012345.077889.26", "0")]
    public void Matches_MatchAnyEpc_CoversEveryEpcField(string example, string epcs, string expected)
    {
        Assert.Equal(expected, Matching(example, ("MATCH_anyEPC", epcs)));
    }

    [Fact]
    public void Matches_EventId_ExactComparison()
    {
        var id = Events(ObjectEvents)[1].GetProperty("eventID").GetString() ?? string.Empty;

        Assert.Equal("01", Matching(ObjectEvents, ("EQ_eventID", id)));
        Assert.Equal("00", Matching(ObjectEvents, ("EQ_eventID", "urn:uuid:00000000-0000-0000-0000-000000000000")));
    }

    [Fact]
    public void Matches_ExistsErrorDeclaration_OnlyDeclaredEvents()
    {
        Assert.Equal("10", Matching(WithErrorDeclaration, ("EXISTS_errorDeclaration", "true")));
        Assert.Equal("00", Matching(ObjectEvents, ("EXISTS_errorDeclaration", "true")));
        Assert.Equal("11", Matching(ObjectEvents, ("EXISTS_errorDeclaration", "false")));
    }

    [Fact]
    public void Matches_SeveralParameters_AllMustHold()
    {
        Assert.Equal("01", Matching(ObjectEvents, ("MATCH_epc", "urn:epc:id:sgtin:0614141.107346.2018"), ("EQ_bizStep", "receiving")));
        Assert.Equal("00", Matching(ObjectEvents, ("MATCH_epc", "urn:epc:id:sgtin:0614141.107346.2017"), ("EQ_bizStep", "receiving")));
    }

    [Fact]
    public void Matches_QueryDocumentEvents_SameAsCaptured()
    {
        Assert.Equal("01", Matching("EPCISQueryDocument.jsonld", ("EQ_bizStep", "receiving")));
    }

    [Fact]
    public void Matches_EventWithOwnContext_StillMatches()
    {
        var evt = Event("""
            { "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", { "example": "http://ns.example.com/epcis/" }],
              "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "eventTime": "2026-01-01T00:00:00Z",
              "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], "example:myField": "x" }
            """);

        Assert.True(Query(("EQ_bizStep", "shipping"), ("MATCH_anyEPC", "https://id.gs1.org/01/10614141073464/21/2017"), ("GE_eventTime", "2026-01-01T00:00:00Z")).Matches(evt));
    }

    [Fact]
    public void Matches_ScanLoopWithUrnQuery_DoesNotAllocate()
    {
        var events = Events(ObjectEvents).Concat(Events(Aggregation)).Concat(Events(Transformation)).ToArray();
        var query = Query(
            ("eventType", "ObjectEvent|AggregationEvent|TransformationEvent"),
            ("GE_eventTime", "2000-01-01T00:00:00Z"),
            ("EQ_bizStep", "shipping|receiving|commissioning"),
            ("MATCH_anyEPC", "urn:epc:id:sgtin:0614141.107346.2018|urn:epc:idpat:sgtin:4012345.*.*"));
        var matched = 0;
        foreach (var evt in events)
        {
            matched += query.Matches(evt) ? 1 : 0;
        }

        // Tiered compilation may allocate once while it swaps in optimised code, at a moment that depends on load;
        // an allocation per call would show in every window, so the quietest of five windows must be zero.
        var quietest = long.MaxValue;
        for (var window = 0; window < 5; window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                foreach (var evt in events)
                {
                    matched += query.Matches(evt) ? 1 : 0;
                }
            }

            quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, quietest);
        Assert.Equal(501 * 4, matched);
    }
}
