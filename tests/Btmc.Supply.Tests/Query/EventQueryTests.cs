using System.Globalization;
using System.Text;
using System.Text.Json;
using Btmc.Epcis;
using Btmc.Epcis.Query;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Access;
using Btmc.Supply.Query;
using Xunit;

namespace Btmc.Supply.Tests.Query;

/// <summary>
/// Query planning over the term index: every indexed path answers what a scan of the chains answers, for each kind of
/// caller (visibility included), page after page; and no page but the last is ever empty.
/// </summary>
public sealed class EventQueryTests
{
    private const string Fab = "fab-a", Osat = "osat-b";
    private const string SharedEpc = "urn:epc:id:sgtin:4012345.000077.1";
    private const string FabDock = "urn:epc:id:sgln:4012345.00001.0";
    private const string FabDockDigitalLink = "https://id.gs1.org/414/4012345000016";
    private const string OsatDock = "urn:epc:id:sgln:4098765.00001.0";
    private const string FabYard = "urn:epc:id:sgln:4012345.00002.0";
    private const string FabStore = "urn:epc:id:sgln:4012345.00003.0";
    private const string OsatStore = "urn:epc:id:sgln:4098765.00003.0";
    private const string Repacking = "https://btmc.example/steps/repacking";
    private const int EventCount = 60;
    private static readonly DateTimeOffset FirstTime = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private static readonly Caller FabCaller = new(Fab, PartnerRoles.Partner, ["4012345"], []);
    private static readonly Caller OsatCaller = new(Osat, PartnerRoles.Partner, ["4098765"], []);
    private static readonly Caller AuditorCaller = new("aud-d", PartnerRoles.Auditor, [], []);

    public static TheoryData<string, string> IndexedQueries => new()
    {
        { "MATCH_epc=" + SharedEpc, "MATCH_epc" },
        { "MATCH_anyEPC=" + Epc(4, 7) + "|" + Epc(4, 8), "MATCH_anyEPC" },
        { "EQ_bizTransaction_po=" + Po(2, digitalLink: false), "EQ_bizTransaction_po" },
        { "EQ_bizTransaction_po=" + Po(3, digitalLink: true), "EQ_bizTransaction_po" },
        { "EQ_readPoint=" + FabDock, "EQ_readPoint" },
        { "EQ_readPoint=" + FabDockDigitalLink + "|" + OsatDock, "EQ_readPoint" },
        { "EQ_bizLocation=" + OsatStore, "EQ_bizLocation" },
        { "GE_eventTime=2026-11-20T05:30:00Z&LT_eventTime=2026-11-21T05:30:00Z", "GE_eventTime" },
        { "GE_eventTime=2026-11-21T00:00:00%2B02:00&LT_eventTime=2026-11-21T00:00:00Z", "GE_eventTime" },
        { "EQ_bizStep=shipping", "EQ_bizStep" },
        { "EQ_bizStep=https://ref.gs1.org/cbv/BizStep-shipping|" + Repacking, "EQ_bizStep" },
        { "EQ_bizStep=urn:epcglobal:cbv:bizstep:receiving|storing", "EQ_bizStep" },
        { "EQ_bizStep=shipping&EQ_readPoint=" + FabYard, "EQ_readPoint" },
        { "EQ_bizStep=storing&GE_eventTime=2026-11-19T00:00:00Z&LT_eventTime=2026-11-24T00:00:00Z", "EQ_bizStep" },
        { "GE_eventTime=2026-11-19T00:00:00Z&LT_eventTime=2026-11-24T00:00:00Z", "" },
    };

    [Theory]
    [MemberData(nameof(IndexedQueries))]
    public async Task RunAsync_IndexedParameter_SameEventsAsAScanForEveryCaller(string parameters, string indexedBy)
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        var osatOnly = await FillAsync(harness);
        var indexed = harness.Backend.Query;
        var scan = new EventQuery(harness.Options, harness.Backend.Reader, harness.Backend.Terms, new QueryLimits(UseIndex: false));

        Assert.Equal(indexedBy, EventQuery.IndexedParameter(Parse(parameters)) ?? string.Empty);
        var anyFound = false;
        foreach (var caller in new[] { FabCaller, OsatCaller, AuditorCaller })
        {
            var expected = await ReadAllAsync(scan, parameters + "&perPage=1000", caller);
            var (found, pages) = await ReadAllPagesAsync(indexed, parameters + "&perPage=4", caller);

            Assert.Equal(expected, found);
            Assert.All(pages.SkipLast(1), size => Assert.Equal(4, size));
            if (caller == FabCaller)
            {
                Assert.DoesNotContain(found, osatOnly.Contains);
            }

            anyFound |= found.Count > 0;
        }

        Assert.True(anyFound, $"{parameters} finds nothing: the comparison proves nothing");
    }

    [Fact]
    public async Task RunAsync_TokenOfAnIndexedPage_SamePageEachTime()
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        await FillAsync(harness);
        var query = Parse("EQ_bizStep=shipping&perPage=3");
        var first = await harness.Backend.Query.RunAsync(query, AuditorCaller);

        var second = await harness.Backend.Query.RunAsync(query with { NextPageToken = first.NextPageToken }, AuditorCaller);
        var again = await harness.Backend.Query.RunAsync(query with { NextPageToken = first.NextPageToken }, AuditorCaller);

        Assert.NotNull(first.NextPageToken);
        Assert.Equal(Ids(second), Ids(again));
        Assert.Equal(second.NextPageToken, again.NextPageToken);
        Assert.Empty(Ids(first).Intersect(Ids(second)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_MatchesBeyondThePageBudget_EveryPageHoldsOne(bool indexed)
    {
        await using var harness = await SupplyHarness.StartAsync();
        // The second match is the last event, so that the scan too ends on it.
        var ids = await CaptureAsync(harness, Fab, Enumerable.Range(0, 29).Select(i =>
            Event(i, disposition: i is 12 or 28 ? "destroyed" : "active")).ToArray());
        await SealAllAsync(harness);
        var query = new EventQuery(harness.Options, harness.Backend.Reader, harness.Backend.Terms, new QueryLimits(PageBudget: 5, UseIndex: indexed));
        // Indexed: the business step leaves a quarter of the events as candidates; scanned: every event is one.
        var parameters = indexed ? "EQ_bizStep=shipping&EQ_disposition=destroyed" : "EQ_disposition=destroyed";

        var (found, pages) = await ReadAllPagesAsync(query, parameters, AuditorCaller);

        Assert.Equal(indexed ? "EQ_bizStep" : null, EventQuery.IndexedParameter(Parse(parameters)));
        Assert.Equal([ids[12], ids[28]], found);
        Assert.Equal([1, 1], pages);
    }

    [Fact]
    public async Task RunAsync_NothingMatchesWithinTheRequestBudget_RefusedAsTooComplex()
    {
        await using var harness = await SupplyHarness.StartAsync();
        await CaptureAsync(harness, Fab, Enumerable.Range(0, 30).Select(i => Event(i)).ToArray());
        await SealAllAsync(harness);
        var tight = new EventQuery(harness.Options, harness.Backend.Reader, harness.Backend.Terms, new QueryLimits(PageBudget: 5, RequestBudget: 20));
        var ample = new EventQuery(harness.Options, harness.Backend.Reader, harness.Backend.Terms, new QueryLimits(PageBudget: 5, RequestBudget: 30));
        var query = Parse("EQ_disposition=destroyed");

        await Assert.ThrowsAsync<QueryTooComplexException>(() => tight.RunAsync(query, AuditorCaller));
        var last = await ample.RunAsync(query, AuditorCaller);

        Assert.Empty(last.Events);
        Assert.Null(last.NextPageToken);
    }

    [Fact]
    public async Task RunAsync_OrderedQueryThroughTheIndex_SameEventsAsAScan()
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        await FillAsync(harness);
        var scan = new EventQuery(harness.Options, harness.Backend.Reader, harness.Backend.Terms, new QueryLimits(UseIndex: false));
        const string parameters = "EQ_readPoint=" + FabYard + "&orderBy=eventTime&orderDirection=ASC&perPage=1000";

        var expected = await ReadAllAsync(scan, parameters, FabCaller);
        var found = await ReadAllAsync(harness.Backend.Query, parameters, FabCaller);

        Assert.NotEmpty(found);
        Assert.Equal(expected, found);
    }

    [Fact]
    public async Task StartBackfillAsync_LedgerSealedWithoutTheNewerRows_ScansUntilBackfilledThenTheIndexAnswersTheSame()
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        await FillAsync(harness);
        // The ledger as an earlier version left it: no layout marker, none of the place, step and hour rows.
        var chains = harness.Backend.Reader.Chain;
        for (var p = 0; p < harness.Options.Partitions; p++)
        {
            await chains.Tables.Heads.DeleteEntityAsync(TermIndex.LayoutPartition, harness.Options.ChainId(p));
            var table = harness.Backend.Tables.Terms(p);
            await foreach (var row in table.QueryAllAsync(new TableQuery()))
            {
                if (row.RowKey.Length > 1 && row.RowKey[1] == ':' && row.RowKey[0] is 'r' or 'l' or 's' or 't')
                {
                    await table.DeleteEntityAsync(row.PartitionKey, row.RowKey);
                }
            }
        }

        var terms = new TermIndex(harness.Backend.Tables, harness.Options);
        var query = new EventQuery(harness.Options, harness.Backend.Reader, terms);
        var scan = new EventQuery(harness.Options, harness.Backend.Reader, terms, new QueryLimits(UseIndex: false));
        const string Parameters = "EQ_readPoint=" + FabDock + "&perPage=1000";
        var expected = await ReadAllAsync(scan, Parameters, AuditorCaller);
        Assert.NotEmpty(expected);

        var rest = await terms.StartBackfillAsync(chains);

        Assert.NotNull(rest);
        Assert.False(terms.Complete);
        Assert.Equal(expected, await ReadAllAsync(query, Parameters, AuditorCaller));
        await rest(CancellationToken.None);
        Assert.True(terms.Complete);
        Assert.Equal(expected, await ReadAllAsync(query, Parameters, AuditorCaller));
        Assert.Equal(expected.Count, await terms.ReadFromAsync(TermIndex.ReadPoint(0, EventTerms.CanonicalEpc(FabDock)), 0, 0, 0, 100).CountAsync()
            + await terms.ReadFromAsync(TermIndex.ReadPoint(1, EventTerms.CanonicalEpc(FabDock)), 1, 0, 0, 100).CountAsync());
        // Marked: the next start has nothing to do.
        Assert.Null(await new TermIndex(harness.Backend.Tables, harness.Options).StartBackfillAsync(chains));
    }

    /// <summary>
    /// <see cref="EventCount"/> events on two chains, captured by two competitors: spread over 53 hours, three read
    /// points and two business locations (some written as Digital Links), business steps (CBV words and a URI of its own),
    /// purchase orders of ten events (some written as Digital Links), one EPC shared by every fifth event. The IDs of
    /// the events the fab may not see (the OSAT's, naming none of the fab's identifiers) come back.
    /// </summary>
    private static async Task<HashSet<string>> FillAsync(SupplyHarness harness)
    {
        var byPartner = Enumerable.Range(0, EventCount).GroupBy(i => i % 4 == 3 ? Osat : Fab);
        var osatOnly = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in byPartner)
        {
            var events = group.Select(i => (i, Json: Event(i))).ToList();
            var ids = await CaptureAsync(harness, group.Key, events.Select(e => e.Json).ToArray());
            foreach (var ((i, json), id) in events.Zip(ids))
            {
                // The purchase orders are the fab's, but a business transaction does not make an event visible.
                using var parsed = JsonDocument.Parse(json);
                if (group.Key == Osat && !EventAccess.Identifiers(parsed.RootElement).Any(id => id.Contains("4012345", StringComparison.Ordinal)))
                {
                    osatOnly.Add(id);
                }
            }
        }

        await SealAllAsync(harness);
        Assert.NotEmpty(osatOnly);
        return osatOnly;
    }

    private static string Event(int i, string disposition = "active")
    {
        var osat = i % 4 == 3;
        var epcs = new List<string> { Epc(osat ? 5 : 4, i) };
        if (i % 5 == 0)
        {
            epcs.Add(SharedEpc);
        }

        var readPoint = (i % 3) switch
        {
            0 => i % 2 == 0 ? FabDock : FabDockDigitalLink,
            1 => OsatDock,
            _ => FabYard,
        };
        var bizStep = (i % 4) switch
        {
            0 => "shipping",
            1 => "receiving",
            2 => Repacking,
            _ => "storing",
        };
        var time = (FirstTime + TimeSpan.FromMinutes(53 * i)).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        return "{\"type\":\"ObjectEvent\",\"eventTime\":\"" + time + "\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\"," +
            $"\"epcList\":[{string.Join(',', epcs.Select(e => $"\"{e}\""))}],\"bizStep\":\"{bizStep}\",\"disposition\":\"{disposition}\"," +
            $"\"readPoint\":{{\"id\":\"{readPoint}\"}},\"bizLocation\":{{\"id\":\"{(i % 2 == 0 ? FabStore : OsatStore)}\"}}," +
            $"\"bizTransactionList\":[{{\"type\":\"po\",\"bizTransaction\":\"{Po(i / 10, digitalLink: i % 2 == 1)}\"}}]}}";
    }

    /// <summary>An EPC of the fab (prefix digit 4) or of the OSAT (5).</summary>
    private static string Epc(int owner, int serial) =>
        string.Create(CultureInfo.InvariantCulture, $"urn:epc:id:sgtin:{(owner == 4 ? "4012345" : "4098765")}.000010.{serial}");

    /// <summary>The fab's purchase order <paramref name="n"/>, a GDTI, as an EPC URI or as a Digital Link.</summary>
    private static string Po(int n, bool digitalLink) => digitalLink
        ? string.Create(CultureInfo.InvariantCulture, $"https://id.gs1.org/253/4012345000016PO{n}")
        : string.Create(CultureInfo.InvariantCulture, $"urn:epc:id:gdti:4012345.00001.PO{n}");

    private static async Task<IReadOnlyList<string>> CaptureAsync(SupplyHarness harness, string partner, string[] events)
    {
        var document = "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
            "\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" + string.Join(",", events) + "]}}";
        var accepted = await harness.Backend.Capture.CaptureAsync(partner, Encoding.UTF8.GetBytes(document));
        return accepted.EventIds;
    }

    private static async Task SealAllAsync(SupplyHarness harness)
    {
        foreach (var sealer in harness.Backend.Sealers)
        {
            while (await sealer.SealAvailableAsync() is not null)
            {
            }
        }
    }

    private static EpcisQuery Parse(string parameters)
    {
        var parsed = EpcisQuery.Parse(parameters.Split('&').Select(p => p.Split('=', 2))
            .Select(p => new KeyValuePair<string, string?>(p[0], Uri.UnescapeDataString(p[1]))));
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
        return parsed.Query!;
    }

    private static async Task<List<string>> ReadAllAsync(EventQuery query, string parameters, Caller caller) =>
        (await ReadAllPagesAsync(query, parameters, caller)).Ids;

    /// <summary>Every page of a query: the hash IDs in order and each page's size, asserting that no page but the last is empty.</summary>
    private static async Task<(List<string> Ids, List<int> Pages)> ReadAllPagesAsync(EventQuery query, string parameters, Caller caller)
    {
        var parsed = Parse(parameters);
        var ids = new List<string>();
        var pages = new List<int>();
        string? token = null;
        do
        {
            Assert.True(pages.Count < 100, "more than 100 pages");
            var page = await query.RunAsync(parsed with { NextPageToken = token }, caller);
            token = page.NextPageToken;
            Assert.True(token is null || page.Events.Count > 0, "an empty page that is not the last");
            pages.Add(page.Events.Count);
            ids.AddRange(Ids(page));
        }
        while (token is not null);

        return (ids, pages);
    }

    private static List<string> Ids(QueryPage page) => page.Events.Select(e =>
    {
        using var json = JsonDocument.Parse(e);
        return StoredEvent.HashId(json.RootElement);
    }).ToList();
}
