using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Btmc.Epcis;
using Btmc.Epcis.Query;
using Btmc.Ledger;
using Btmc.Supply.Access;
using Btmc.Supply.Query;
using Xunit;

namespace Btmc.Functions.Tests.Supply;

/// <summary>
/// Two competitors on one server (<see cref="CompetitorsLedger"/>); <c>GET /api/epcis/events</c> through each indexed
/// parameter (docs/epcis-query.md, "Planning"), read page after page over HTTP, answers exactly what a scan of the
/// chains answers for the same caller: nothing a competitor may not see comes through an index.
/// </summary>
public sealed partial class QueryPlanningEndpointsTests(QueryPlanningEndpointsTests.CompetitorsLedger ledger) : IClassFixture<QueryPlanningEndpointsTests.CompetitorsLedger>
{
    private const string Fab = "fab-a", Osat = "osat-b";
    private const string SharedEpc = "urn:epc:id:sgtin:4012345.000077.1";
    private const string FabDock = "urn:epc:id:sgln:4012345.00001.0";
    private const string FabDockDigitalLink = "https://id.gs1.org/414/4012345000016";
    private const string OsatDock = "urn:epc:id:sgln:4098765.00001.0";
    private const string OsatStore = "urn:epc:id:sgln:4098765.00003.0";
    private const string FabStore = "urn:epc:id:sgln:4012345.00003.0";
    private const int EventCount = 40;
    private static readonly DateTimeOffset FirstTime = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, string> IndexedQueries => new()
    {
        { "MATCH_epc=" + SharedEpc, "MATCH_epc" },
        { "EQ_bizTransaction_po=" + Po(1, digitalLink: true), "EQ_bizTransaction_po" },
        { "EQ_readPoint=" + FabDockDigitalLink, "EQ_readPoint" },
        { "EQ_readPoint=" + OsatDock, "EQ_readPoint" },
        { "EQ_bizLocation=" + OsatStore, "EQ_bizLocation" },
        { "GE_eventTime=2026-11-20T05:30:00Z&LT_eventTime=2026-11-21T05:30:00Z", "GE_eventTime" },
        { "EQ_bizStep=" + "https://ref.gs1.org/cbv/BizStep-shipping|storing", "EQ_bizStep" },
    };

    [Theory]
    [MemberData(nameof(IndexedQueries))]
    public async Task Query_IndexedParameter_EveryPageAsAScanAnswersForEachCaller(string parameters, string indexedBy)
    {
        var scan = new EventQuery(ledger.Server.Backend.Options, ledger.Server.Backend.Reader, ledger.Server.Backend.Terms, new QueryLimits(UseIndex: false));
        Assert.Equal(indexedBy, EventQuery.IndexedParameter(Parse(parameters)));
        foreach (var caller in new[] { new Caller(Fab, PartnerRoles.Partner, ["4012345"], []), new Caller(Osat, PartnerRoles.Partner, ["4098765"], []) })
        {
            using var client = ledger.Server.ClientAs(caller.PartnerId);
            var expected = (await scan.RunAsync(Parse(parameters + "&perPage=1000"), caller)).Events.Select(HashId).ToList();

            var (found, pages) = await ReadAllPagesAsync(client, parameters + "&perPage=3");

            Assert.Equal(expected, found);
            Assert.All(pages.SkipLast(1), size => Assert.Equal(3, size));
            if (caller.PartnerId == Fab)
            {
                Assert.Empty(found.Intersect(ledger.OsatOnly));
            }
        }
    }

    [Fact]
    public async Task Query_CompetitorsDockThroughTheIndex_OnlyWhatThePartnerMaySee()
    {
        using var fab = ledger.Server.ClientAs(Fab);
        using var osat = ledger.Server.ClientAs(Osat);

        var (byFab, _) = await ReadAllPagesAsync(fab, "EQ_readPoint=" + OsatDock + "&perPage=1000");
        var (byOsat, _) = await ReadAllPagesAsync(osat, "EQ_readPoint=" + OsatDock + "&perPage=1000");

        Assert.NotEmpty(byOsat.Intersect(ledger.OsatOnly));
        Assert.Empty(byFab.Intersect(ledger.OsatOnly));
        Assert.NotEmpty(byFab);
    }

    [Fact]
    public async Task Query_NextLinkOfAnIndexedPage_SamePageEachTime()
    {
        using var client = ledger.Server.ClientAs("operator");
        var (_, next) = await PageAsync(client, "api/epcis/events?EQ_bizLocation=" + Uri.EscapeDataString(FabStore) + "&perPage=4");
        Assert.NotNull(next);

        var second = await PageAsync(client, next!.TrimStart('/'));
        var again = await PageAsync(client, next.TrimStart('/'));

        Assert.Equal(4, second.Ids.Count);
        Assert.Equal(second.Ids, again.Ids);
        Assert.Equal(second.Next, again.Next);
    }

    internal static EpcisQuery Parse(string parameters)
    {
        var parsed = EpcisQuery.Parse(parameters.Split('&').Select(p => p.Split('=', 2)).Select(p => new KeyValuePair<string, string?>(p[0], p[1])));
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
        return parsed.Query!;
    }

    /// <summary>Follows rel="next" to the last page: the hash IDs in order and each page's size; no page but the last is empty.</summary>
    internal static async Task<(List<string> Ids, List<int> Pages)> ReadAllPagesAsync(HttpClient client, string parameters)
    {
        var ids = new List<string>();
        var pages = new List<int>();
        string? link = "api/epcis/events?" + string.Join('&', parameters.Split('&').Select(p => p.Split('=', 2)).Select(p => p[0] + "=" + Uri.EscapeDataString(p[1])));
        while (link is not null)
        {
            Assert.True(pages.Count < 100, "more than 100 pages");
            var (page, next) = await PageAsync(client, link);
            Assert.True(next is null || page.Count > 0, "an empty page that is not the last");
            pages.Add(page.Count);
            ids.AddRange(page);
            link = next?.TrimStart('/');
        }

        return (ids, pages);
    }

    private static async Task<(List<string> Ids, string? Next)> PageAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        var ids = document.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList")
            .EnumerateArray().Select(StoredEvent.HashId).ToList();
        string? next = null;
        if (response.Headers.TryGetValues("Link", out var links))
        {
            var match = NextLink().Match(string.Join(", ", links));
            Assert.True(match.Success, $"Link header without rel=\"next\": {string.Join(", ", links)}");
            next = match.Groups[1].Value;
        }

        return (ids, next);
    }

    internal static string HashId(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        return StoredEvent.HashId(document.RootElement);
    }

    [GeneratedRegex("<([^>]*)>\\s*;\\s*rel=\"next\"")]
    private static partial Regex NextLink();

    private static string Po(int n, bool digitalLink) => digitalLink
        ? string.Create(CultureInfo.InvariantCulture, $"https://id.gs1.org/253/4012345000016PO{n}")
        : string.Create(CultureInfo.InvariantCulture, $"urn:epc:id:gdti:4012345.00001.PO{n}");

    /// <summary>
    /// <see cref="EventCount"/> ObjectEvents captured by a fab (prefix 4012345) and an OSAT (4098765, every fourth
    /// event): over 35 hours, at the fab's dock (written as URN or Digital Link), the OSAT's dock or the fab's yard, in
    /// the fab's or the OSAT's store, shipping or storing, in the fab's purchase orders of ten events (either spelling),
    /// every fifth naming one shared EPC.
    /// </summary>
    public class CompetitorsLedger : IAsyncLifetime
    {
        private LocalServer? _server;

        internal LocalServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialised.");

        /// <summary>The hash IDs of the OSAT's events that name nothing of the fab's: the fab may never see them.</summary>
        public HashSet<string> OsatOnly { get; } = new(StringComparer.Ordinal);

        public async Task InitializeAsync()
        {
            _server = await StartServerAsync();
            await Server.AddPartnerAsync(Fab, ["4012345"]);
            await Server.AddPartnerAsync(Osat, ["4098765"]);
            foreach (var group in Enumerable.Range(0, EventCount).GroupBy(i => i % 4 == 3 ? Osat : Fab))
            {
                var events = group.Select(Event).ToList();
                var (status, body, _) = await Server.CaptureAsync(CaptureEndpointsTests.Document([.. events]), group.Key);
                Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
                var sealedStatus = await Server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
                Assert.Empty(sealedStatus.GetProperty("errors").EnumerateArray());
                foreach (var (json, eventId) in events.Zip(body.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString()!)))
                {
                    // The purchase orders are the fab's, but a business transaction does not make an event visible.
                    using var parsed = JsonDocument.Parse(json);
                    if (group.Key == Osat && !EventAccess.Identifiers(parsed.RootElement).Any(id => id.Contains("4012345", StringComparison.Ordinal)))
                    {
                        OsatOnly.Add(eventId);
                    }
                }
            }

            Assert.NotEmpty(OsatOnly);
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();

        /// <summary>The server the events are captured on: the embedded default.</summary>
        private protected virtual Task<LocalServer> StartServerAsync() => LocalServer.StartInProcessAsync();

        private static string Event(int i)
        {
            var osat = i % 4 == 3;
            var epcs = new List<string> { string.Create(CultureInfo.InvariantCulture, $"urn:epc:id:sgtin:{(osat ? "4098765" : "4012345")}.000010.{i}") };
            if (i % 5 == 0)
            {
                epcs.Add(SharedEpc);
            }

            var readPoint = (i % 3) switch
            {
                0 => i % 2 == 0 ? FabDock : FabDockDigitalLink,
                1 => OsatDock,
                _ => "urn:epc:id:sgln:4012345.00002.0",
            };
            var time = (FirstTime + TimeSpan.FromMinutes(53 * i)).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            return "{\"type\":\"ObjectEvent\",\"eventTime\":\"" + time + "\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\"," +
                $"\"epcList\":[{string.Join(',', epcs.Select(e => $"\"{e}\""))}],\"bizStep\":\"{(i % 2 == 0 ? "shipping" : "storing")}\",\"disposition\":\"active\"," +
                $"\"readPoint\":{{\"id\":\"{readPoint}\"}},\"bizLocation\":{{\"id\":\"{(i % 3 == 0 ? FabStore : OsatStore)}\"}}," +
                $"\"bizTransactionList\":[{{\"type\":\"po\",\"bizTransaction\":\"{Po(i / 10, digitalLink: i % 2 == 1)}\"}}]}}";
        }
    }
}
