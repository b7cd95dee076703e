using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Btmc.Epcis;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>
/// <c>GET /api/epcis/events</c> over real HTTP, against one server that holds a small, known set of sealed events
/// (<see cref="QueryFixture"/>). Each event is identified in the results by its CBV hash ID, recomputed from the
/// returned JSON.
/// </summary>
public sealed partial class QueryEndpointsTests(QueryEndpointsTests.QueryFixture fixture) : IClassFixture<QueryEndpointsTests.QueryFixture>
{
    private const string Sgtin = "urn:epc:id:sgtin:0614141.107346.";
    private const string DigitalLink = "https://id.gs1.org/01/10614141073464/21/";
    private const string Sscc = "urn:epc:id:sscc:0614141.1234567890";
    private const string OwnEventId = "urn:uuid:5b1c0d1e-2f3a-4b5c-8d6e-7f8091a2b3c4";
    private const string ReadPointA = "urn:epc:id:sgln:0614141.00777.0";
    private const string ReadPointB = "urn:epc:id:sgln:0614141.00888.0";
    private const string ReadPointC = "urn:epc:id:sgln:0614141.00999.0";
    private const string BizLocationB = "urn:epc:id:sgln:0614141.00888.1";
    private const int StoredCount = 23;

    [Fact]
    public async Task Query_NoFilter_ReturnsEpcisQueryDocument()
    {
        using var response = await fixture.Server.Http.GetAsync("api/epcis/events?perPage=2");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/ld+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        Assert.Equal("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", root.GetProperty("@context").GetString());
        Assert.Equal("EPCISQueryDocument", root.GetProperty("type").GetString());
        Assert.Equal("2.0", root.GetProperty("schemaVersion").GetString());
        Assert.True(root.GetProperty("creationDate").TryGetDateTimeOffset(out _));
        var results = root.GetProperty("epcisBody").GetProperty("queryResults");
        Assert.Equal("SimpleEventQuery", results.GetProperty("queryName").GetString());
        var events = results.GetProperty("resultsBody").GetProperty("eventList");
        Assert.Equal(2, events.GetArrayLength());
        Assert.All(events.EnumerateArray(), e => Assert.True(e.TryGetProperty("recordTime", out _)));
        Assert.Contains("rel=\"next\"", response.Headers.GetValues("Link").Single(), StringComparison.Ordinal);

        // The GS1 example has the same skeleton.
        using var example = JsonDocument.Parse(await File.ReadAllTextAsync(SharedTestData.PathOf("epcis-examples", "EPCISQueryDocument.jsonld")));
        var exampleResults = example.RootElement.GetProperty("epcisBody").GetProperty("queryResults");
        Assert.Equal(example.RootElement.GetProperty("type").GetString(), root.GetProperty("type").GetString());
        Assert.Equal(exampleResults.GetProperty("queryName").GetString(), results.GetProperty("queryName").GetString());
        Assert.Equal(JsonValueKind.Array, exampleResults.GetProperty("resultsBody").GetProperty("eventList").ValueKind);
    }

    [Fact]
    public async Task Query_EventType_ReturnsOnlyEventsOfThoseTypes()
    {
        await AssertFindsAsync("eventType=AggregationEvent", "packed");
        await AssertFindsAsync("eventType=" + Uri.EscapeDataString("AggregationEvent|TransformationEvent"), "packed", "transformed");
        await AssertFindsAsync("eventType=AssociationEvent");
    }

    [Fact]
    public async Task Query_GeEventTime_ReturnsEventsAtOrAfter()
    {
        await AssertFindsAsync("GE_eventTime=2030-01-05T00:00:00.000Z", ["withOwnId", "late", .. fixture.StoredNames]);
        await AssertFindsAsync("GE_eventTime=2030-01-05T10:00:00Z&LT_eventTime=2030-02-01T00:00:00Z", "withOwnId", "late");
    }

    [Fact]
    public async Task Query_LtEventTime_ReturnsEventsBefore()
    {
        await AssertFindsAsync("LT_eventTime=2030-01-02T10:00:00Z", "commissioned");
        await AssertFindsAsync("GE_eventTime=2030-01-03T00:00:00Z&LT_eventTime=2030-01-05T00:00:00Z", "packed", "transformed");
    }

    [Fact]
    public async Task Query_EventTimeWithOffset_ComparesInstants()
    {
        // 2030-01-02T11:30+01:00 is 10:30Z: after "shippedDl" (10:00Z), before "packed" (next day).
        await AssertFindsAsync("GE_eventTime=" + Uri.EscapeDataString("2030-01-02T10:30:00+01:00") + "&LT_eventTime=2030-01-03T10:00:00Z", "shippedDl");

        // The same with the '+' left unescaped, which form decoding turns into a space.
        await AssertFindsAsync("GE_eventTime=2030-01-02T10:30:00+01:00&LT_eventTime=2030-01-03T10:00:00Z", "shippedDl");
    }

    [Fact]
    public async Task Query_GeRecordTime_ReturnsOnlyEventsRecordedSince()
    {
        var since = Uri.EscapeDataString(StoredEvent.FormatTime(fixture.SecondBatchAfter));

        await AssertFindsAsync("GE_recordTime=" + since, "late");
        await AssertFindsAsync("LT_recordTime=" + since, ["commissioned", "shippedDl", "packed", "transformed", "withOwnId", .. fixture.StoredNames]);
    }

    [Fact]
    public async Task Query_EqBizStep_ReturnsOnlyMatchingEvents()
    {
        await AssertFindsAsync("EQ_bizStep=shipping", "shippedDl");
        await AssertFindsAsync("EQ_bizStep=" + Uri.EscapeDataString("https://ref.gs1.org/cbv/BizStep-shipping"), "shippedDl");
        await AssertFindsAsync("EQ_bizStep=" + Uri.EscapeDataString("packing|assembling"), "packed", "transformed");
        await AssertFindsAsync("EQ_bizStep=destroying");
    }

    [Fact]
    public async Task Query_EqDisposition_ReturnsOnlyMatchingEvents()
    {
        await AssertFindsAsync("EQ_disposition=in_transit", "shippedDl");
        await AssertFindsAsync("EQ_disposition=" + Uri.EscapeDataString("urn:epcglobal:cbv:disp:in_progress"), "withOwnId");
    }

    [Fact]
    public async Task Query_EqReadPoint_ReturnsOnlyMatchingEvents()
    {
        await AssertFindsAsync("EQ_readPoint=" + Uri.EscapeDataString(ReadPointB), "shippedDl");
        await AssertFindsAsync("EQ_readPoint=" + Uri.EscapeDataString(ReadPointC), [.. fixture.StoredNames]);
    }

    [Fact]
    public async Task Query_EqBizLocation_ReturnsOnlyMatchingEvents()
    {
        await AssertFindsAsync("EQ_bizLocation=" + Uri.EscapeDataString(BizLocationB), "shippedDl");
        await AssertFindsAsync("EQ_bizLocation=" + Uri.EscapeDataString(ReadPointB));
    }

    [Fact]
    public async Task Query_MatchEpcUrn_FindsEventWrittenAsDigitalLink()
    {
        await AssertFindsAsync("MATCH_epc=" + Uri.EscapeDataString(Sgtin + "5002"), "shippedDl");
        await AssertFindsAsync("MATCH_epc=" + Uri.EscapeDataString(Sgtin + "5003"), "packed");
    }

    [Fact]
    public async Task Query_MatchEpcDigitalLink_FindsEventWrittenAsUrn()
    {
        await AssertFindsAsync("MATCH_epc=" + Uri.EscapeDataString(DigitalLink + "5001"), "commissioned");
        await AssertFindsAsync("MATCH_epc=" + Uri.EscapeDataString(DigitalLink + "5002"), "shippedDl");
    }

    [Fact]
    public async Task Query_MatchEpcPattern_FindsBothSpellings()
    {
        await AssertFindsAsync("MATCH_epc=" + Uri.EscapeDataString("urn:epc:idpat:sgtin:0614141.107346.*") + "&LT_eventTime=2030-01-04T00:00:00Z", "commissioned", "shippedDl", "packed");
    }

    [Fact]
    public async Task Query_MatchEpcOnInputOrParent_ReturnsNothing()
    {
        await AssertFindsAsync("MATCH_epc=" + Uri.EscapeDataString(Sgtin + "5004"));
        await AssertFindsAsync("MATCH_epc=" + Uri.EscapeDataString(Sscc));
    }

    [Fact]
    public async Task Query_MatchAnyEpc_FindsEveryRole()
    {
        await AssertFindsAsync("MATCH_anyEPC=" + Uri.EscapeDataString(Sscc), "packed");
        await AssertFindsAsync("MATCH_anyEPC=" + Uri.EscapeDataString(Sgtin + "5003"), "packed");
        await AssertFindsAsync("MATCH_anyEPC=" + Uri.EscapeDataString(Sgtin + "5004"), "transformed");
        await AssertFindsAsync("MATCH_anyEPC=" + Uri.EscapeDataString(Sgtin + "5005"), "transformed");
        await AssertFindsAsync("MATCH_anyEPC=" + Uri.EscapeDataString(DigitalLink + "5001|" + Sgtin + "5002"), "commissioned", "shippedDl");
    }

    [Fact]
    public async Task Query_MatchParentId_ReturnsOnlyTheParentsEvent()
    {
        await AssertFindsAsync("MATCH_parentID=" + Uri.EscapeDataString(Sscc), "packed");
        await AssertFindsAsync("MATCH_parentID=" + Uri.EscapeDataString(Sgtin + "5003"));
    }

    [Fact]
    public async Task Query_MatchInputEpc_ReturnsOnlyTheConsumingEvent()
    {
        await AssertFindsAsync("MATCH_inputEPC=" + Uri.EscapeDataString(Sgtin + "5004"), "transformed");
        await AssertFindsAsync("MATCH_inputEPC=" + Uri.EscapeDataString(Sgtin + "5005"));
    }

    [Fact]
    public async Task Query_MatchOutputEpc_FindsOutputWrittenAsDigitalLink()
    {
        await AssertFindsAsync("MATCH_outputEPC=" + Uri.EscapeDataString(Sgtin + "5005"), "transformed");
        await AssertFindsAsync("MATCH_outputEPC=" + Uri.EscapeDataString(DigitalLink + "5005"), "transformed");
        await AssertFindsAsync("MATCH_outputEPC=" + Uri.EscapeDataString(Sgtin + "5004"));
    }

    [Fact]
    public async Task Query_EqEventIdOwnId_ReturnsTheEvent()
    {
        await AssertFindsAsync("EQ_eventID=" + Uri.EscapeDataString(OwnEventId), "withOwnId");
    }

    [Fact]
    public async Task Query_EqEventIdHashId_ReturnsTheEvent()
    {
        await AssertFindsAsync("EQ_eventID=" + Uri.EscapeDataString(fixture.Ids["withOwnId"]), "withOwnId");
        await AssertFindsAsync("EQ_eventID=" + Uri.EscapeDataString(fixture.Ids["commissioned"]), "commissioned");
        await AssertFindsAsync("EQ_eventID=" + Uri.EscapeDataString(fixture.Ids["packed"] + "|" + OwnEventId), "packed", "withOwnId");
        await AssertFindsAsync("EQ_eventID=" + Uri.EscapeDataString(fixture.Ids["packed"]) + "&eventType=ObjectEvent");
        await AssertFindsAsync("EQ_eventID=" + Uri.EscapeDataString("urn:uuid:00000000-0000-4000-8000-00000000dead"));
    }

    [Fact]
    public async Task Query_PerPageScan_FollowsLinkUntilExhaustedEachEventOnceInStableOrder()
    {
        var all = await ReadAllPagesAsync("EQ_bizStep=storing&perPage=1000");
        var paged = await ReadAllPagesAsync("EQ_bizStep=storing&perPage=4");
        var again = await ReadAllPagesAsync("EQ_bizStep=storing&perPage=4");

        Assert.Single(all.Pages);
        Assert.True(paged.Pages.Count >= 6, $"{paged.Pages.Count} pages");
        Assert.All(paged.Pages, p => Assert.InRange(p, 0, 4));
        Assert.Equal(StoredCount, paged.Ids.Count);
        Assert.Equal(paged.Ids.Count, paged.Ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(fixture.StoredNames.Select(n => fixture.Ids[n]).Order(StringComparer.Ordinal), paged.Ids.Order(StringComparer.Ordinal));
        Assert.Equal(all.Ids, paged.Ids);
        Assert.Equal(paged.Ids, again.Ids);
    }

    [Fact]
    public async Task Query_PerPageIndexed_FollowsLinkUntilExhaustedInLedgerOrder()
    {
        var scanned = await ReadAllPagesAsync("EQ_bizStep=storing&perPage=1000");
        var epcs = Uri.EscapeDataString(string.Join('|', Enumerable.Range(0, StoredCount).Select(i => Sgtin + (6000 + i))));
        var byEpc = await ReadAllPagesAsync("MATCH_epc=" + epcs + "&perPage=5");
        var ids = Uri.EscapeDataString(string.Join('|', fixture.StoredNames.Select(n => fixture.Ids[n]).Reverse()));
        var byId = await ReadAllPagesAsync("EQ_eventID=" + ids + "&perPage=7&GE_eventTime=" + Uri.EscapeDataString("2030-02-01T11:00:00+01:00"));

        Assert.True(byEpc.Pages.Count >= 5, $"{byEpc.Pages.Count} pages");
        Assert.Equal(scanned.Ids, byEpc.Ids);
        Assert.Equal(scanned.Ids, byId.Ids);
    }

    [Fact]
    public async Task Query_OrderByEventTimeAsc_EveryEventInTimeOrderAcrossPages()
    {
        var expected = new[] { "commissioned", "shippedDl", "packed", "transformed", "withOwnId", "late" }.Concat(fixture.StoredNames).ToList();

        var ascending = await ReadAllPagesAsync("orderBy=eventTime&orderDirection=ASC&perPage=4");

        Assert.Equal(expected, ascending.Ids.Select(fixture.NameOf));
        Assert.All(ascending.Pages, p => Assert.InRange(p, 1, 4));
    }

    [Fact]
    public async Task Query_OrderByEventTimeWithoutDirection_DescendingAsTheStandardDefaults()
    {
        var descending = await ReadAllPagesAsync("orderBy=eventTime&perPage=5");

        Assert.Equal(fixture.StoredNames.Reverse().Concat(["late", "withOwnId", "transformed", "packed", "shippedDl", "commissioned"]), descending.Ids.Select(fixture.NameOf));
        Assert.All(descending.Pages, p => Assert.InRange(p, 1, 5));
    }

    [Fact]
    public async Task Query_OrderByRecordTimeDescWithEventCountLimit_ReturnsTheLastRecorded()
    {
        await AssertFindsAsync("orderBy=recordTime&orderDirection=DESC&eventCountLimit=1", "late");
        // "late" alone was recorded after the first batch: ascending, it is the one left out.
        var firstBatch = new[] { "commissioned", "shippedDl", "packed", "transformed", "withOwnId" }.Concat(fixture.StoredNames).ToArray();
        await AssertFindsAsync($"orderBy=recordTime&orderDirection=ASC&eventCountLimit={firstBatch.Length}", firstBatch);
    }

    [Fact]
    public async Task Query_EventCountLimitOverPages_ReturnsOnlyTheFirstN()
    {
        var limited = await ReadAllPagesAsync("orderBy=eventTime&orderDirection=ASC&eventCountLimit=3&perPage=2");

        Assert.Equal(["commissioned", "shippedDl", "packed"], limited.Ids.Select(fixture.NameOf));
        Assert.Equal([2, 1], limited.Pages);
    }

    [Fact]
    public async Task Query_OrderByOnIndexedQuery_OrdersTheCandidates()
    {
        var ids = Uri.EscapeDataString(string.Join('|', new[] { "packed", "late", "commissioned" }.Select(n => fixture.Ids[n])));

        var (events, next) = await QueryAsync(fixture.Server, "EQ_eventID=" + ids + "&orderBy=eventTime");

        Assert.Null(next);
        Assert.Equal(["late", "packed", "commissioned"], events.Select(e => fixture.NameOf(StoredEvent.HashId(e))));
    }

    [Fact]
    public async Task Query_MaxEventCountAtLeastTheMatches_ReturnsThemAll()
    {
        var scanned = await ReadAllPagesAsync("EQ_bizStep=storing&perPage=1000");
        var all = await ReadAllPagesAsync($"EQ_bizStep=storing&maxEventCount={StoredCount}&perPage=10");

        Assert.Equal(fixture.StoredNames.Order(StringComparer.Ordinal), all.Ids.Select(fixture.NameOf).Order(StringComparer.Ordinal));
        Assert.Equal(scanned.Ids, all.Ids); // ledger order, as without maxEventCount
        Assert.Equal([10, 10, 3], all.Pages);
    }

    [Fact]
    public async Task Query_MaxEventCountExceeded_Returns413QueryTooLargeException()
    {
        using var response = await fixture.Server.Http.GetAsync($"api/epcis/events?EQ_bizStep=storing&maxEventCount={StoredCount - 1}");
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("epcisException:QueryTooLargeException", problem.RootElement.GetProperty("type").GetString());
        Assert.Equal("maxEventCount", problem.RootElement.GetProperty("errors")[0].GetProperty("pointer").GetString());
    }

    [Fact]
    public async Task Query_EqBizTransactionSourceDestinationByType_MatchesTypeAndUriInAnySpelling()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        const string Po1 = "urn:epcglobal:cbv:bt:0614141073467:PO-1";
        const string Po2 = "urn:epcglobal:cbv:bt:0614141073467:PO-2";
        const string Party1 = "urn:epc:id:pgln:0614141.00001";
        const string Party2 = "urn:epc:id:pgln:0614141.00002";
        string Event(int serial, string lists) =>
            $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"2030-03-01T10:00:0{serial}.000Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\"," +
            $"\"epcList\":[\"{Sgtin}700{serial}\"],\"bizStep\":\"inspecting\"{lists}}}";
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(
            Event(1, $",\"bizTransactionList\":[{{\"type\":\"po\",\"bizTransaction\":\"{Po1}\"}}]," +
                $"\"sourceList\":[{{\"type\":\"owning_party\",\"source\":\"{Party1}\"}}]," +
                "\"destinationList\":[{\"type\":\"owning_party\",\"destination\":\"https://id.gs1.org/417/0614141000029\"}]"),
            Event(2, $",\"bizTransactionList\":[{{\"type\":\"desadv\",\"bizTransaction\":\"{Po2}\"}}]," +
                $"\"sourceList\":[{{\"type\":\"possessing_party\",\"source\":\"{Party2}\"}}]"),
            Event(3, string.Empty)));
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);

        async Task<List<string>> SerialsAsync(string query) => (await QueryAsync(server, query)).Events
            .Select(e => e.GetProperty("epcList")[0].GetString()![^1..]).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(["1"], await SerialsAsync("EQ_bizTransaction_po=" + Uri.EscapeDataString(Po1)));
        Assert.Equal(["1"], await SerialsAsync(Uri.EscapeDataString("EQ_bizTransaction_https://ref.gs1.org/cbv/BTT-po") + "=" + Uri.EscapeDataString(Po1)));
        Assert.Empty(await SerialsAsync("EQ_bizTransaction_po=" + Uri.EscapeDataString(Po2))); // PO-2 is named as a despatch advice
        Assert.Equal(["2"], await SerialsAsync("EQ_bizTransaction_desadv=" + Uri.EscapeDataString(Po1 + "|" + Po2)));
        Assert.Equal(["1"], await SerialsAsync("EQ_source_owning_party=" + Uri.EscapeDataString(Party1)));
        Assert.Empty(await SerialsAsync("EQ_source_possessing_party=" + Uri.EscapeDataString(Party1)));
        Assert.Equal(["1"], await SerialsAsync("EQ_destination_owning_party=" + Uri.EscapeDataString(Party2))); // written as its Digital Link
        Assert.Equal(["2"], await SerialsAsync(Uri.EscapeDataString("EQ_source_urn:epcglobal:cbv:sdt:possessing_party") + "=" + Uri.EscapeDataString(Party2)));
        Assert.Equal(["1"], await SerialsAsync($"EQ_bizTransaction_po={Uri.EscapeDataString(Po1)}&EQ_source_owning_party={Uri.EscapeDataString(Party1)}"));
        Assert.Empty(await SerialsAsync($"EQ_bizTransaction_po={Uri.EscapeDataString(Po1)}&EQ_source_possessing_party={Uri.EscapeDataString(Party2)}"));
    }

    [Fact]
    public async Task Query_QuantityAndErrorDeclarationParameters_MatchTheirMembers()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        const string Corrective = "urn:uuid:7a1c0d1e-2f3a-4b5c-8d6e-7f8091a2b3c4";
        string Event(int serial, string rest) =>
            $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"2030-04-01T10:00:0{serial}.000Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\"," +
            $"\"epcList\":[\"{Sgtin}800{serial}\"],\"bizStep\":\"inspecting\"{rest}}}";
        string Quantity(string quantity) => $",\"quantityList\":[{{\"epcClass\":\"urn:epc:class:lgtin:4012345.012345.998877\",\"quantity\":{quantity},\"uom\":\"KGM\"}}]";
        string Declaration(string reason, string corrective) =>
            $",\"errorDeclaration\":{{\"declarationTime\":\"2030-04-02T10:00:00.000Z\",\"reason\":\"{reason}\"{corrective}}}";
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(
            Event(1, Quantity("200")), Event(2, Quantity("5.5")),
            Event(3, Declaration("incorrect_data", $",\"correctiveEventIDs\":[\"{Corrective}\"]")), Event(4, Declaration("did_not_occur", string.Empty))));
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);

        async Task<List<string>> SerialsAsync(string query) => (await QueryAsync(server, query)).Events
            .Select(e => e.GetProperty("epcList")[0].GetString()![^1..]).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(["2"], await SerialsAsync("EQ_quantity=5.5"));
        Assert.Equal(["1"], await SerialsAsync("GT_quantity=5.5"));
        Assert.Equal(["1", "2"], await SerialsAsync("GE_quantity=5.5"));
        Assert.Equal(["2"], await SerialsAsync("LT_quantity=200"));
        Assert.Equal(["1", "2"], await SerialsAsync("LE_quantity=200"));
        Assert.Empty(await SerialsAsync("GT_quantity=6&LT_quantity=100"));
        Assert.Equal(["3"], await SerialsAsync("EQ_errorReason=incorrect_data"));
        Assert.Equal(["3", "4"], await SerialsAsync("EQ_errorReason=" + Uri.EscapeDataString("https://ref.gs1.org/cbv/ER-incorrect_data|urn:epcglobal:cbv:er:did_not_occur")));
        Assert.Equal(["3"], await SerialsAsync("EQ_correctiveEventID=" + Uri.EscapeDataString(Corrective)));
        Assert.Empty(await SerialsAsync("EQ_correctiveEventID=" + Uri.EscapeDataString(Corrective) + "&EQ_errorReason=did_not_occur"));
    }

    [Theory]
    [InlineData("colour=red", "colour")]
    [InlineData("EQ_quantity=three", "EQ_quantity")]
    [InlineData("GE_quantity=NaN", "GE_quantity")]
    [InlineData("EQ_errorReason=", "EQ_errorReason")]
    [InlineData("GE_eventTime=yesterday", "GE_eventTime")]
    [InlineData("LT_eventTime=2030-01-01T10:00:00", "LT_eventTime")]
    [InlineData("GE_recordTime=2030-13-01T10:00:00Z", "GE_recordTime")]
    [InlineData("perPage=0", "perPage")]
    [InlineData("perPage=-3", "perPage")]
    [InlineData("perPage=ten", "perPage")]
    [InlineData("perPage=2&perPage=3", "perPage")]
    [InlineData("nextPageToken=forged", "nextPageToken")]
    [InlineData("nextPageToken=djEuOTkuMC4w", "nextPageToken")] // "v1.99.0.0": a chain the server does not have
    [InlineData("nextPageToken=djIuMC4wLjA", "nextPageToken")] // "v2.0.0.0"
    [InlineData("nextPageToken=%%%", "nextPageToken")]
    [InlineData("EQ_readPoint=not-a-uri", "EQ_readPoint")]
    [InlineData("MATCH_epc=urn:epc:idpat:sgtin:bad", "MATCH_epc")]
    [InlineData("orderBy=quantity", "orderBy")]
    [InlineData("orderBy=eventTime&orderDirection=up", "orderDirection")]
    [InlineData("eventCountLimit=3", "eventCountLimit")]
    [InlineData("orderBy=eventTime&eventCountLimit=3&maxEventCount=3", "eventCountLimit")]
    [InlineData("maxEventCount=-1", "maxEventCount")]
    [InlineData("EQ_source_owning_party=not-a-uri", "EQ_source_owning_party")]
    [InlineData("EQ_bizTransaction_po=urn:epc:idpat:sgtin:0614141.*.*", "EQ_bizTransaction_po")]
    [InlineData("EQ_destination_=urn:epc:id:pgln:0614141.00001", "EQ_destination_")]
    [InlineData("orderBy=eventTime&nextPageToken=djEuMC4wLjA", "nextPageToken")] // "v1.0.0.0": a ledger-order token on an ordered query
    public async Task Query_InvalidParameter_Returns400ProblemNamingTheParameter(string query, string parameter)
    {
        using var response = await fixture.Server.Http.GetAsync("api/epcis/events?" + query);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("epcisException:QueryParameterException", problem.RootElement.GetProperty("type").GetString());
        Assert.Equal(parameter, problem.RootElement.GetProperty("errors")[0].GetProperty("pointer").GetString());
    }

    [Fact]
    public async Task Query_ForgedTokenOnIndexedQuery_Returns400()
    {
        using var response = await fixture.Server.Http.GetAsync("api/epcis/events?EQ_eventID=" + Uri.EscapeDataString(OwnEventId) + "&nextPageToken=Zm9yZ2Vk");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("nextPageToken", problem.RootElement.GetProperty("errors")[0].GetProperty("pointer").GetString());
    }

    [Fact]
    public async Task Query_EveryGs1Example_EachCapturedEventFoundByItsHashId()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var examples = Directory.EnumerateFiles(SharedTestData.PathOf("epcis-examples"), "*.jsonld", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "EPCISQueryDocument.jsonld")
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(examples);
        var captured = new List<(string File, string Id)>();
        var captures = new List<string>();
        foreach (var file in examples)
        {
            var (status, body, _) = await server.CaptureAsync(await File.ReadAllBytesAsync(file));
            Assert.True(status == HttpStatusCode.Accepted, $"{file}: {(int)status} {body}");
            captures.Add(body.GetProperty("captureId").GetString()!);
            captured.AddRange(body.GetProperty("eventIds").EnumerateArray().Select(e => (file, e.GetString()!)));
        }

        foreach (var captureId in captures)
        {
            await server.WaitSealedAsync(captureId);
        }

        foreach (var (file, id) in captured)
        {
            // An error declaration's ledger id is its hash ID with a fragment; the corrected event shares the hash ID.
            var hashId = id.EndsWith(StoredEvent.ErrorDeclarationFragment, StringComparison.Ordinal) ? id[..^StoredEvent.ErrorDeclarationFragment.Length] : id;
            var (events, _) = await QueryAsync(server, "EQ_eventID=" + Uri.EscapeDataString(hashId));

            Assert.True(events.Count > 0, $"{Path.GetFileName(file)}: {hashId} not found");
            Assert.All(events, e => Assert.Equal(hashId, StoredEvent.HashId(e)));
            Assert.Contains(id, events.Select(StoredEvent.LedgerId));
            if (id != hashId)
            {
                var (declarations, _) = await QueryAsync(server, "EQ_eventID=" + Uri.EscapeDataString(id));
                Assert.Equal(id, StoredEvent.LedgerId(Assert.Single(declarations)));
            }
        }
    }

    private async Task AssertFindsAsync(string query, params string[] names)
    {
        var (events, _) = await QueryAsync(fixture.Server, query + "&perPage=1000");
        var found = events.Select(e => fixture.NameOf(StoredEvent.HashId(e))).ToList();
        Assert.Equal(found.Count, found.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(names.Order(StringComparer.Ordinal), found.Order(StringComparer.Ordinal));
    }

    private static async Task<(List<JsonElement> Events, string? Next)> QueryAsync(LocalServer server, string pathAndQuery)
    {
        var url = pathAndQuery.StartsWith('/') ? pathAndQuery[1..] : "api/epcis/events?" + pathAndQuery;
        using var response = await server.Http.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/ld+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        var events = document.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList")
            .EnumerateArray().Select(e => e.Clone()).ToList();
        string? next = null;
        if (response.Headers.TryGetValues("Link", out var links))
        {
            var match = NextLink().Match(string.Join(", ", links));
            Assert.True(match.Success, $"Link header without rel=\"next\": {string.Join(", ", links)}");
            next = match.Groups[1].Value;
        }

        return (events, next);
    }

    /// <summary>Follows rel="next" until the last page; the hash IDs of all events in order, and each page's size.</summary>
    private async Task<(List<string> Ids, List<int> Pages)> ReadAllPagesAsync(string query)
    {
        var ids = new List<string>();
        var pages = new List<int>();
        string? next = query;
        while (next is not null)
        {
            Assert.True(pages.Count < 100, "more than 100 pages");
            var (events, link) = await QueryAsync(fixture.Server, next);
            pages.Add(events.Count);
            ids.AddRange(events.Select(StoredEvent.HashId));
            if (link is not null)
            {
                Assert.StartsWith("/api/epcis/events?", link, StringComparison.Ordinal);
                Assert.Contains("nextPageToken=", link, StringComparison.Ordinal);
            }

            next = link;
        }

        return (ids, pages);
    }

    [GeneratedRegex("<([^>]*)>\\s*;\\s*rel=\"next\"")]
    private static partial Regex NextLink();

    /// <summary>
    /// One server with these sealed events: five of each kind and role (some identifiers written as GS1 Digital Links),
    /// <see cref="StoredCount"/> "storing" events for paging, and one event ("late") captured after the rest were sealed.
    /// </summary>
    public sealed class QueryFixture : IAsyncLifetime
    {
        private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

        private LocalServer? _server;

        internal LocalServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialised.");

        /// <summary>Event name to CBV hash ID (as capture answered it).</summary>
        public Dictionary<string, string> Ids { get; } = new(StringComparer.Ordinal);

        public IReadOnlyList<string> StoredNames { get; } = Enumerable.Range(0, StoredCount).Select(i => $"stored{i}").ToArray();

        /// <summary>An instant after every event but "late" was recorded, and before "late" was.</summary>
        public DateTimeOffset SecondBatchAfter { get; private set; }

        public string NameOf(string hashId) => _names.TryGetValue(hashId, out var name) ? name : "unknown " + hashId;

        public async Task InitializeAsync()
        {
            _server = await LocalServer.StartInProcessAsync();
            var first = new List<(string Name, string Json)>
            {
                ("commissioned", Object("ADD", [Sgtin + "5001"], "2030-01-01T10:00:00.000Z", "commissioning", "active", ReadPointA)),
                ("shippedDl", Object("OBSERVE", [DigitalLink + "5002"], "2030-01-02T10:00:00.000Z", "shipping", "in_transit", ReadPointB, BizLocationB)),
                ("packed", "{\"type\":\"AggregationEvent\",\"eventTime\":\"2030-01-03T10:00:00.000Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"ADD\"," +
                    $"\"parentID\":\"{Sscc}\",\"childEPCs\":[\"{Sgtin}5003\"],\"bizStep\":\"packing\",\"readPoint\":{{\"id\":\"{ReadPointA}\"}}}}"),
                ("transformed", "{\"type\":\"TransformationEvent\",\"eventTime\":\"2030-01-04T10:00:00.000Z\",\"eventTimeZoneOffset\":\"+00:00\"," +
                    $"\"inputEPCList\":[\"{Sgtin}5004\"],\"outputEPCList\":[\"{DigitalLink}5005\"],\"bizStep\":\"assembling\",\"readPoint\":{{\"id\":\"{ReadPointA}\"}}}}"),
                ("withOwnId", Object("ADD", [Sgtin + "5006"], "2030-01-05T10:00:00.000Z", "receiving", "in_progress", ReadPointA, eventId: OwnEventId)),
            };
            first.AddRange(StoredNames.Select((name, i) =>
                (name, Object("OBSERVE", [Sgtin + (6000 + i)], $"2030-02-01T10:{i:D2}:00.000Z", "storing", "active", ReadPointC))));
            await CaptureAsync(first);

            await Task.Delay(20);
            SecondBatchAfter = DateTimeOffset.UtcNow;
            await Task.Delay(20);
            await CaptureAsync([("late", Object("OBSERVE", [Sgtin + "5007"], "2030-01-06T10:00:00.000Z", "inspecting", "active", ReadPointA))]);
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();

        private async Task CaptureAsync(List<(string Name, string Json)> events)
        {
            var (status, body, _) = await Server.CaptureAsync(CaptureEndpointsTests.Document(events.Select(e => e.Json).ToArray()));
            Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
            var ids = body.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString()!).ToList();
            Assert.Equal(events.Count, ids.Count);
            foreach (var ((name, _), id) in events.Zip(ids))
            {
                Ids[name] = id;
                _names[id] = name;
            }

            var sealedStatus = await Server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
            Assert.Empty(sealedStatus.GetProperty("errors").EnumerateArray());
        }

        private static string Object(string action, string[] epcs, string time, string bizStep, string disposition, string readPoint, string? bizLocation = null, string? eventId = null)
        {
            var json = new StringBuilder("{");
            if (eventId is not null)
            {
                json.Append($"\"eventID\":\"{eventId}\",");
            }

            json.Append($"\"type\":\"ObjectEvent\",\"eventTime\":\"{time}\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"{action}\",")
                .Append($"\"epcList\":[{string.Join(',', epcs.Select(e => $"\"{e}\""))}],\"bizStep\":\"{bizStep}\",\"disposition\":\"{disposition}\",")
                .Append($"\"readPoint\":{{\"id\":\"{readPoint}\"}}");
            if (bizLocation is not null)
            {
                json.Append($",\"bizLocation\":{{\"id\":\"{bizLocation}\"}}");
            }

            return json.Append('}').ToString();
        }
    }
}
