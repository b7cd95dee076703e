using System.Net;
using System.Text.Json;
using Xunit;

namespace Btmc.Functions.Tests.Partners;

/// <summary>
/// Three competing partners and an auditor on one ledger (docs/partners.md, "Access matrix"): a fab (prefix 4012345)
/// commissions a chip; an OSAT (4098765) commissions a package of its own and transforms the chip into a second
/// package; a module maker (4055555) builds a module from that package.
/// </summary>
public sealed class ConsortiumLedger : IAsyncLifetime
{
    public const string Fab = "fab-a", Osat = "osat-b", ModuleMaker = "mm-c", Auditor = "aud-d";
    public const string Chip = "urn:epc:id:sgtin:4012345.000010.1";
    public const string OwnPackage = "urn:epc:id:sgtin:4098765.000020.1";
    public const string Package = "urn:epc:id:sgtin:4098765.000020.2";
    public const string Module = "urn:epc:id:sgtin:4055555.000030.1";

    internal LocalServer Server { get; private set; } = null!;

    /// <summary>Event IDs and capture IDs by name: chip (fab), own-package and package (OSAT), module (module maker).</summary>
    public Dictionary<string, (string EventId, string CaptureId)> Events { get; } = [];

    public async Task InitializeAsync()
    {
        Server = await LocalServer.StartInProcessAsync();
        await Server.AddPartnerAsync(Fab, ["4012345"]);
        await Server.AddPartnerAsync(Osat, ["4098765"]);
        await Server.AddPartnerAsync(ModuleMaker, ["4055555"]);
        await Server.AddPartnerAsync(Auditor, [], ["auditor"]);
        await CaptureAsync("chip", Fab, TestEvents.Commission(Chip, 1));
        await CaptureAsync("own-package", Osat, TestEvents.Commission(OwnPackage, 2));
        await CaptureAsync("package", Osat, TestEvents.Transformation([Chip], [Package], 3));
        await CaptureAsync("module", ModuleMaker, TestEvents.Transformation([Package], [Module], 4));
    }

    private async Task CaptureAsync(string name, string partner, string evt)
    {
        var (status, body, _) = await Server.CaptureAsync(CaptureEndpointsTests.Document(evt), partner);
        Assert.True(status == HttpStatusCode.Accepted, $"{name}: {(int)status} {body}");
        var captureId = body.GetProperty("captureId").GetString()!;
        await Server.WaitSealedAsync(captureId);
        Events[name] = (body.GetProperty("eventIds")[0].GetString()!, captureId);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>One test per cell of the access matrix in docs/partners.md.</summary>
public sealed class AccessMatrixTests(ConsortiumLedger ledger) : IClassFixture<ConsortiumLedger>
{
    private const int Seen = 200, Absent = 404, Unauthenticated = 401, Forbidden = 403;

    /// <summary>The own-package event: captured by the OSAT, naming only the OSAT's prefix.</summary>
    [Theory]
    [InlineData(null, Unauthenticated)]
    [InlineData(ConsortiumLedger.Osat, Seen)]
    [InlineData(ConsortiumLedger.Fab, Absent)]
    [InlineData(ConsortiumLedger.ModuleMaker, Absent)]
    [InlineData(ConsortiumLedger.Auditor, Seen)]
    [InlineData("operator", Seen)]
    public Task EventView_OwnPackageAsEachCaller_SeenOnlyByItsCapturerAuditorAndOperator(string? caller, int expected) =>
        ExpectAsync(caller, "api/epcis/events/" + Uri.EscapeDataString(ledger.Events["own-package"].EventId), expected);

    /// <summary>The package event: captured by the OSAT, naming the fab's chip as its input.</summary>
    [Theory]
    [InlineData(ConsortiumLedger.Fab, Seen)]
    [InlineData(ConsortiumLedger.Osat, Seen)]
    [InlineData(ConsortiumLedger.ModuleMaker, Absent)]
    public Task EventView_PackageNamingTheFabsChip_SeenByTheFabAndItsCapturerOnly(string caller, int expected) =>
        ExpectAsync(caller, "api/epcis/events/" + Uri.EscapeDataString(ledger.Events["package"].EventId), expected);

    [Theory]
    [InlineData(null, "own-package", Unauthenticated)]
    [InlineData(ConsortiumLedger.Osat, "own-package", Seen)]
    [InlineData(ConsortiumLedger.Fab, "own-package", Absent)]
    [InlineData(ConsortiumLedger.Fab, "package", Seen)]
    [InlineData(ConsortiumLedger.ModuleMaker, "chip", Absent)]
    [InlineData(ConsortiumLedger.Auditor, "chip", Seen)]
    [InlineData("operator", "own-package", Seen)]
    public Task Receipt_AsEachCaller_FollowsTheEventsVisibility(string? caller, string evt, int expected) =>
        ExpectAsync(caller, "api/ledger/receipts/" + Uri.EscapeDataString(ledger.Events[evt].EventId), expected);

    /// <summary>Capture status: own captures only, even when the capture's events concern the caller.</summary>
    [Theory]
    [InlineData(null, Unauthenticated)]
    [InlineData(ConsortiumLedger.Osat, Seen)]
    [InlineData(ConsortiumLedger.Fab, Absent)]
    [InlineData(ConsortiumLedger.Auditor, Seen)]
    [InlineData("operator", Seen)]
    public Task CaptureStatus_OfTheOsatsPackageCapture_OwnCapturesOnly(string? caller, int expected) =>
        ExpectAsync(caller, "api/epcis/capture/" + ledger.Events["package"].CaptureId, expected);

    [Theory]
    [InlineData(null, "own-package", Unauthenticated)]
    [InlineData(ConsortiumLedger.Osat, "own-package", Seen)]
    [InlineData(ConsortiumLedger.Fab, "own-package", Absent)]
    [InlineData(ConsortiumLedger.Fab, "package", Seen)]
    [InlineData(ConsortiumLedger.ModuleMaker, "chip", Absent)]
    [InlineData(ConsortiumLedger.Auditor, "own-package", Seen)]
    [InlineData("operator", "chip", Seen)]
    public async Task Query_ByEventId_InvisibleEventsAreSimplyNotInTheResult(string? caller, string evt, int expected)
    {
        using var client = ledger.Server.ClientAs(caller);
        using var response = await client.GetAsync("api/epcis/events?EQ_eventID=" + Uri.EscapeDataString(ledger.Events[evt].EventId));
        if (expected == Unauthenticated)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return;
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var events = body.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList").GetArrayLength();
        Assert.Equal(expected == Seen ? 1 : 0, events);
    }

    [Fact]
    public async Task Query_AllEventsAsTheFab_ReturnsOnlyTheEventsNamingItsPrefix()
    {
        using var client = ledger.Server.ClientAs(ConsortiumLedger.Fab);
        using var body = JsonDocument.Parse(await client.GetStringAsync("api/epcis/events?perPage=100"));

        var ids = body.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList")
            .EnumerateArray().Select(e => (e.TryGetProperty("epcList", out var epcs) ? epcs : e.GetProperty("outputEPCList"))[0].GetString())
            .ToList();
        Assert.Equal([ConsortiumLedger.Chip, ConsortiumLedger.Package], ids);
    }

    [Fact]
    public async Task Query_OrderedWithMaxEventCountAsTheFab_CountsAndReturnsOnlyItsEvents()
    {
        using var client = ledger.Server.ClientAs(ConsortiumLedger.Fab);

        // The ledger holds more events than two: a count of every event would refuse this query.
        using var body = JsonDocument.Parse(await client.GetStringAsync("api/epcis/events?orderBy=eventTime&orderDirection=ASC&maxEventCount=2"));
        using var tooLarge = await client.GetAsync("api/epcis/events?orderBy=eventTime&maxEventCount=1");

        var events = body.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList").EnumerateArray().ToList();
        var ids = events.Select(e => (e.TryGetProperty("epcList", out var epcs) ? epcs : e.GetProperty("outputEPCList"))[0].GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { ConsortiumLedger.Chip, ConsortiumLedger.Package }.Order(StringComparer.Ordinal), ids);
        Assert.True(events[0].GetProperty("eventTime").GetDateTimeOffset() <= events[1].GetProperty("eventTime").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
    }

    [Theory]
    [InlineData(null, Unauthenticated)]
    [InlineData(ConsortiumLedger.ModuleMaker, Seen)]
    [InlineData(ConsortiumLedger.Auditor, Seen)]
    public Task Trace_AsEachCaller_NeedsACredential(string? caller, int expected) =>
        ExpectAsync(caller, "api/trace/" + Uri.EscapeDataString(ConsortiumLedger.Module) + "?direction=upstream", expected);

    [Fact]
    public async Task Trace_UpstreamAsTheModuleMaker_RedactsTheOsatsEdgeToItsHashIdAndPosition()
    {
        using var client = ledger.Server.ClientAs(ConsortiumLedger.ModuleMaker);
        using var body = JsonDocument.Parse(await client.GetStringAsync("api/trace/" + Uri.EscapeDataString(ConsortiumLedger.Module) + "?direction=upstream"));
        var root = body.RootElement;

        var edge = Assert.Single(root.GetProperty("edges").EnumerateArray());
        Assert.Equal(ledger.Events["module"].EventId, edge.GetProperty("eventId").GetString());
        var redacted = Assert.Single(root.GetProperty("redacted").EnumerateArray());
        Assert.Equal(ledger.Events["package"].EventId, redacted.GetProperty("eventId").GetString());
        Assert.True(redacted.TryGetProperty("position", out _));
        Assert.DoesNotContain("000010", root.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(root.GetProperty("nodes").EnumerateArray(), n => n.GetString()!.Contains("4012345", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Trace_UpstreamAsTheAuditor_ShowsEveryEdge()
    {
        using var client = ledger.Server.ClientAs(ConsortiumLedger.Auditor);
        using var body = JsonDocument.Parse(await client.GetStringAsync("api/trace/" + Uri.EscapeDataString(ConsortiumLedger.Module) + "?direction=upstream"));

        Assert.Equal(2, body.RootElement.GetProperty("edges").GetArrayLength());
        Assert.Equal(0, body.RootElement.GetProperty("redacted").GetArrayLength());
    }

    [Fact]
    public async Task LineageProof_AsTheModuleMaker_VerifiesOfflineCountingTheRedactedEdge()
    {
        using var client = ledger.Server.ClientAs(ConsortiumLedger.ModuleMaker);
        var bundle = await client.GetStringAsync("api/trace/" + Uri.EscapeDataString(ConsortiumLedger.Module) + "/proof?direction=upstream");
        var file = Path.Combine(ledger.Server.DataDirectory, "lineage-mm.json");
        await File.WriteAllTextAsync(file, bundle);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Btmc.Cli.BtmcCli.RunAsync(["verify-lineage", file], output, error);

        Assert.True(exit == 0, error.ToString());
        Assert.Contains("1 edges redacted", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(ConsortiumLedger.Chip, bundle, StringComparison.Ordinal);
        Assert.DoesNotContain("4012345", bundle, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, Unauthenticated)]
    [InlineData(ConsortiumLedger.Osat, Seen)]
    [InlineData(ConsortiumLedger.Auditor, Seen)]
    public Task Governance_AsEachCaller_NeedsACredential(string? caller, int expected) =>
        ExpectAsync(caller, "api/governance", expected);

    [Theory]
    [InlineData(ConsortiumLedger.Osat, 1)]
    [InlineData(ConsortiumLedger.Auditor, 6)]
    [InlineData("operator", 6)]
    public async Task PartnerList_AsEachCaller_APartnerSeesOnlyItself(string caller, int expected)
    {
        using var client = ledger.Server.ClientAs(caller);
        using var body = JsonDocument.Parse(await client.GetStringAsync("api/partners"));

        Assert.Equal(expected, body.RootElement.GetProperty("partners").GetArrayLength());
    }

    [Theory]
    [InlineData(null, Unauthenticated)]
    [InlineData(ConsortiumLedger.Osat, Forbidden)]
    [InlineData(ConsortiumLedger.Auditor, Forbidden)]
    public async Task AddPartner_AsAnyoneButTheOperator_IsRefused(string? caller, int expected)
    {
        using var client = ledger.Server.ClientAs(caller);
        using var response = await client.PostAsync("api/partners", new StringContent("{\"id\":\"rogue\",\"prefixes\":[\"*\"]}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(expected, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(ConsortiumLedger.Auditor)]
    [InlineData("operator")]
    public async Task Capture_WithoutThePartnerRole_Is403(string caller)
    {
        using var client = ledger.Server.ClientAs(caller);
        using var content = new ByteArrayContent(CaptureEndpointsTests.Document(TestEvents.Commission("urn:epc:id:sgtin:4012345.000010.99", 9)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/ld+json");

        using var response = await client.PostAsync("api/epcis/capture", content);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private async Task ExpectAsync(string? caller, string path, int expected)
    {
        using var client = ledger.Server.ClientAs(caller);
        using var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == (int)response.StatusCode, $"GET {path} as {caller ?? "anonymous"}: {(int)response.StatusCode} {text}");
        if (expected != Seen)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
