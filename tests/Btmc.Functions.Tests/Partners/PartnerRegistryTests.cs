using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Btmc.Functions.Tests.Partners;

/// <summary>The partner registry as a new user meets it: the operator adds, rotates and suspends partners; prefixes
/// decide who may commission what; only a capturer may void its own event.</summary>
public sealed class PartnerRegistryTests
{
    private const string FabChip = "urn:epc:id:sgtin:4012345.000010.";

    [Fact]
    public async Task Suspend_APartner_RefusedFromTheNextRequestAndReinstatedAgain()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.AddPartnerAsync("fab-a", ["4012345"]);
        using var operatorClient = server.ClientAs("operator");
        using var fab = server.ClientAs("fab-a");
        Assert.Equal(HttpStatusCode.OK, (await fab.GetAsync("api/partners/fab-a")).StatusCode);

        using var suspended = await operatorClient.PostAsJsonAsync("api/partners/fab-a/suspension", new { suspended = true });
        using var refused = await fab.GetAsync("api/partners/fab-a");
        var (captureStatus, _, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(TestEvents.Commission(FabChip + "1", 1)), "fab-a");
        using var reinstated = await operatorClient.PostAsJsonAsync("api/partners/fab-a/suspension", new { suspended = false });
        using var again = await fab.GetAsync("api/partners/fab-a");

        Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        Assert.True((await suspended.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("suspended").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, captureStatus);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Suspend_ThroughAnotherInstance_RefusedHereWithinTheSyncBound()
    {
        var tables = AzuriteConnectionString();
        var prefix = "p" + Guid.NewGuid().ToString("N")[..12];
        await using var first = await LocalServer.StartInProcessAsync(null, "--Tables:ConnectionString", tables, "--Supply:TablePrefix", prefix);
        await first.AddPartnerAsync("fab-a", ["4012345"]);
        await using var second = await LocalServer.StartInProcessAsync(null, "--Tables:ConnectionString", tables, "--Supply:TablePrefix", prefix);
        using var fabOnSecond = second.ClientAs("fab-a");
        using var operatorClient = first.ClientAs("operator");
        Assert.Equal(HttpStatusCode.OK, (await fabOnSecond.GetAsync("api/partners/fab-a")).StatusCode);

        using var suspended = await operatorClient.PostAsJsonAsync("api/partners/fab-a/suspension", new { suspended = true });
        Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        var watch = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        HttpStatusCode status;
        do
        {
            using var response = await fabOnSecond.GetAsync("api/partners/fab-a");
            status = response.StatusCode;
        }
        while (status == HttpStatusCode.OK && watch.Elapsed < TimeSpan.FromSeconds(20) && await timer.WaitForNextTickAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"refused only after {watch.Elapsed}");
    }

    [Theory]
    [InlineData(0, HttpStatusCode.Unauthorized)]
    [InlineData(3600, HttpStatusCode.OK)]
    public async Task RotateKey_OldKeyWorksOnlyForTheOverlap_NewKeyAtOnce(long overlapSeconds, HttpStatusCode oldKey)
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.AddPartnerAsync("fab-a", ["4012345"]);
        using var operatorClient = server.ClientAs("operator");

        using var rotated = await operatorClient.PostAsJsonAsync("api/partners/fab-a/keys", new { overlapSeconds });
        var answer = await rotated.Content.ReadFromJsonAsync<JsonElement>();
        using var withOld = server.ClientAs("fab-a");
        using var withNew = server.ClientAs(null);
        withNew.DefaultRequestHeaders.Add("X-API-Key", answer.GetProperty("apiKey").GetString());

        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.Equal(oldKey, (await withOld.GetAsync("api/partners/fab-a")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await withNew.GetAsync("api/partners/fab-a")).StatusCode);
    }

    [Fact]
    public async Task Capture_CommissioningUnderAnotherPartnersPrefix_403NamingTheIdentifierAndField()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.AddPartnerAsync("fab-a", ["4012345"]);
        await server.AddPartnerAsync("osat-b", ["4098765"]);

        var (status, body, response) = await server.CaptureAsync(CaptureEndpointsTests.Document(TestEvents.Commission(FabChip + "2", 1)), "osat-b");
        var (fabStatus, _, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(TestEvents.Commission(FabChip + "2", 1)), "fab-a");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("/epcisBody/eventList/0/epcList/0", body.GetProperty("field").GetString());
        Assert.Contains("https://id.gs1.org/01/04012345000108/21/2", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, fabStatus);
    }

    [Fact]
    public async Task Capture_UnderAGrantedPrefix_Accepted()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.AddPartnerAsync("osat-b", ["4098765"], grantedPrefixes: ["4012345"]);

        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(TestEvents.Transformation([FabChip + "3"], [FabChip + "4"], 2)), "osat-b");

        Assert.True(status == HttpStatusCode.Accepted, body.ToString());
    }

    [Fact]
    public async Task Capture_AggregatingIntoANewParentOfAnotherPrefix_403_IntoAnExistingOne_Accepted()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.AddPartnerAsync("fab-a", ["4012345"]);
        await server.AddPartnerAsync("dist-e", ["4077777"]);
        const string tray = "urn:epc:id:sscc:4012345.0000000001";
        const string pallet = "urn:epc:id:sscc:4077777.0000000001";
        var (own, ownBody, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(TestEvents.Aggregation("ADD", tray, [FabChip + "5"], 1)), "fab-a");
        Assert.True(own == HttpStatusCode.Accepted, ownBody.ToString());
        await server.WaitSealedAsync(ownBody.GetProperty("captureId").GetString()!);

        var (newParent, newBody, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(TestEvents.Aggregation("ADD", "urn:epc:id:sscc:4012345.0000000002", [FabChip + "6"], 2)), "dist-e");
        var (existing, existingBody, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(TestEvents.Aggregation("ADD", tray, [FabChip + "7"], 3)), "dist-e");
        var (ownPallet, palletBody, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(TestEvents.Aggregation("ADD", pallet, [tray], 4)), "dist-e");

        Assert.Equal(HttpStatusCode.Forbidden, newParent);
        Assert.Equal("/epcisBody/eventList/0/parentID", newBody.GetProperty("field").GetString());
        Assert.True(existing == HttpStatusCode.Accepted, existingBody.ToString());
        Assert.True(ownPallet == HttpStatusCode.Accepted, palletBody.ToString());
    }

    [Fact]
    public async Task Capture_ErrorDeclarationOfAnotherPartnersEvent_403_OfItsOwn_Accepted()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.AddPartnerAsync("fab-a", ["4012345"]);
        await server.AddPartnerAsync("osat-b", ["4098765"]);
        var commission = TestEvents.Commission(FabChip + "8", 1);
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(commission), "fab-a");
        Assert.Equal(HttpStatusCode.Accepted, status);
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        var declaration = commission[..^1] + ",\"errorDeclaration\":{\"declarationTime\":\"2026-11-22T11:00:00.000Z\",\"reason\":\"incorrect_data\"}}";

        var (rival, rivalBody, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(declaration), "osat-b");
        var (owner, ownerBody, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(declaration), "fab-a");

        Assert.Equal(HttpStatusCode.Forbidden, rival);
        Assert.Equal("/epcisBody/eventList/0/errorDeclaration", rivalBody.GetProperty("field").GetString());
        Assert.True(owner == HttpStatusCode.Accepted, ownerBody.ToString());
    }

    [Fact]
    public async Task CliPartnerAdd_PrintsThePartnerAndItsKeyOnce_TheKeyCaptures()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Btmc.Cli.BtmcCli.RunAsync(
            ["partner", "add", "fab-x", "--prefix", "4012345", "--prefix", "4012346", "--url", server.BaseUrl, "--api-key-file", server.OperatorKeyFile], output, error);

        Assert.True(exit == 0, error.ToString());
        using var printed = JsonDocument.Parse(output.ToString());
        var partner = printed.RootElement.GetProperty("partner");
        Assert.Equal("fab-x", partner.GetProperty("id").GetString());
        Assert.Equal(["4012345", "4012346"], partner.GetProperty("prefixes").EnumerateArray().Select(p => p.GetString()));
        using var fab = server.ClientAs(null);
        fab.DefaultRequestHeaders.Add("X-API-Key", printed.RootElement.GetProperty("apiKey").GetString());
        using var content = new ByteArrayContent(CaptureEndpointsTests.Document(TestEvents.Commission(FabChip + "9", 1)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
        Assert.Equal(HttpStatusCode.Accepted, (await fab.PostAsync("api/epcis/capture", content)).StatusCode);
        using var listed = new StringWriter();
        Assert.Equal(0, await Btmc.Cli.BtmcCli.RunAsync(["partner", "show", "fab-x", "--url", server.BaseUrl, "--api-key-file", server.OperatorKeyFile], listed, error));
        Assert.DoesNotContain("apiKey\"", listed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPartner_WithAnInvalidPrefix_400NamingTheMember()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        using var operatorClient = server.ClientAs("operator");

        using var response = await operatorClient.PostAsJsonAsync("api/partners", new { id = "fab-z", prefixes = new[] { "12" } });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("prefixes", problem.GetProperty("field").GetString());
    }

    private static string AzuriteConnectionString() =>
        Environment.GetEnvironmentVariable("BTMC_TEST_AZURITE_TABLES") is { Length: > 0 } tables
            ? tables
            : throw new InvalidOperationException("BTMC_TEST_AZURITE_TABLES is not set: run the tests with ./test.sh, which starts Azurite.");
}
