using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Btmc.Cli;
using Xunit;

namespace Btmc.Functions.Tests.Assets;

/// <summary>
/// A chip changing hands on one ledger (docs/trade.md, "Ownership"): the fab (prefix 4012345) commissions it and ships it
/// to the OSAT (4098765), which confirms by receiving it. A module maker (4055555) and a rival (4077777) are partners it
/// does not concern; an auditor sees everything.
/// </summary>
public sealed class ChipSale : IAsyncLifetime
{
    public const string Fab = "fab-a", Osat = "osat-b", ModuleMaker = "mm-c", Rival = "rival-e", Auditor = "aud-d";
    public const string FabParty = "urn:epc:id:pgln:4012345.00000", OsatParty = "urn:epc:id:pgln:4098765.00000";
    public const string ModuleMakerParty = "urn:epc:id:pgln:4055555.00000", RivalParty = "urn:epc:id:pgln:4077777.00000";
    public const string Chip = "urn:epc:id:sgtin:4012345.000010.1";

    internal LocalServer Server { get; private set; } = null!;

    public string Commissioning { get; private set; } = string.Empty;

    public string Shipping { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Server = await LocalServer.StartInProcessAsync();
        await Server.AddPartnerAsync(Fab, ["4012345"]);
        await Server.AddPartnerAsync(Osat, ["4098765"]);
        await Server.AddPartnerAsync(ModuleMaker, ["4055555"]);
        await Server.AddPartnerAsync(Rival, ["4077777"]);
        await Server.AddPartnerAsync(Auditor, [], ["auditor"]);
        Commissioning = await CaptureSealedAsync(Fab, TestEvents.Commission(Chip, 1));
        Shipping = await CaptureSealedAsync(Fab, Move("shipping", FabParty, OsatParty, Chip, 2));
        await CaptureSealedAsync(Osat, Move("receiving", FabParty, OsatParty, Chip, 3));
    }

    public static string Move(string bizStep, string from, string to, string epc, int minute) =>
        $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{TestEvents.Time(minute)}\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"OBSERVE\"," +
        $"\"epcList\":[\"{epc}\"],\"bizStep\":\"{bizStep}\"," +
        $"\"sourceList\":[{{\"type\":\"owning_party\",\"source\":\"{from}\"}}],\"destinationList\":[{{\"type\":\"owning_party\",\"destination\":\"{to}\"}}]}}";

    public async Task<string> CaptureSealedAsync(string partner, string evt)
    {
        var (status, body, _) = await Server.CaptureAsync(CaptureEndpointsTests.Document(evt), partner);
        Assert.True(status == HttpStatusCode.Accepted, $"{partner}: {(int)status} {body}");
        await Server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        return body.GetProperty("eventIds")[0].GetString()!;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary><c>GET /api/assets/{epc}</c>, the capture rules over HTTP, and <c>btmc asset --proof</c> with <c>verify-lineage</c>.</summary>
public sealed class AssetEndpointsTests(ChipSale sale) : IClassFixture<ChipSale>
{
    [Fact]
    public async Task GetAsset_AfterShippingAndReceiving_OwnerIsTheBuyerWithEachChangeAndItsPosition()
    {
        var asset = await GetAsync(ChipSale.Auditor, ChipSale.Chip);

        Assert.Equal(ChipSale.Osat, asset.GetProperty("owner").GetProperty("partnerId").GetString());
        Assert.Equal(ChipSale.OsatParty, asset.GetProperty("owner").GetProperty("party").GetString());
        Assert.Equal(ChipSale.Fab, asset.GetProperty("custodian").GetProperty("partnerId").GetString());
        var history = asset.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(["owner", "custodian", "owner"], history.Select(h => h.GetProperty("change").GetString()));
        Assert.Equal([sale.Commissioning, sale.Commissioning, sale.Shipping], history.Select(h => h.GetProperty("eventId").GetString()));
        var sealedAt = (await sale.Server.GetJsonAsync("api/epcis/events/" + Uri.EscapeDataString(sale.Shipping))).GetProperty("position");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(sealedAt.GetRawText()), JsonNode.Parse(history[2].GetProperty("position").GetRawText())), history[2].GetRawText());
        Assert.Equal(ChipSale.Fab, history[2].GetProperty("from").GetProperty("partnerId").GetString());
    }

    [Fact]
    public async Task GetAsset_AsTheBuyer_CommissioningItMayNotSeeRedactedToIdAndPosition()
    {
        var history = (await GetAsync(ChipSale.Osat, ChipSale.Chip)).GetProperty("history").EnumerateArray().ToList();

        Assert.True(history[0].GetProperty("redacted").GetBoolean());
        Assert.Equal(sale.Commissioning, history[0].GetProperty("eventId").GetString());
        Assert.True(history[0].TryGetProperty("position", out _));
        Assert.False(history[0].TryGetProperty("to", out _));
        Assert.Equal(sale.Shipping, history[2].GetProperty("eventId").GetString());
        Assert.False(history[2].TryGetProperty("redacted", out _));
    }

    [Theory]
    [InlineData(ChipSale.Rival)]
    [InlineData(ChipSale.ModuleMaker)]
    public async Task GetAsset_AsAPartnerItDoesNotConcern_NotFound(string caller)
    {
        using var client = sale.Server.ClientAs(caller);
        using var response = await client.GetAsync("api/assets/" + Uri.EscapeDataString(ChipSale.Chip));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("epc", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public async Task GetAsset_Anonymous_Unauthorized()
    {
        using var client = sale.Server.ClientAs(null);
        using var response = await client.GetAsync("api/assets/" + Uri.EscapeDataString(ChipSale.Chip));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task GetAsset_NeverCommissioned_NotFound()
    {
        using var client = sale.Server.ClientAs(ChipSale.Auditor);
        using var response = await client.GetAsync("api/assets/" + Uri.EscapeDataString("urn:epc:id:sgtin:4012345.000010.999"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Capture_ShippingByTheFormerOwner_ConflictNamingTheOwnerAndTheSource()
    {
        var (status, body, _) = await sale.Server.CaptureAsync(CaptureEndpointsTests.Document(ChipSale.Move("shipping", ChipSale.FabParty, ChipSale.ModuleMakerParty, ChipSale.Chip, 10)), ChipSale.Fab);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("/epcisBody/eventList/0/sourceList/0", body.GetProperty("field").GetString());
        var detail = body.GetProperty("detail").GetString()!;
        Assert.Contains($"partner '{ChipSale.Osat}'", detail, StringComparison.Ordinal);
        Assert.Contains(sale.Shipping, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capture_RivalMovesTheChipToItself_Forbidden()
    {
        var (status, body, _) = await sale.Server.CaptureAsync(CaptureEndpointsTests.Document(ChipSale.Move("receiving", ChipSale.OsatParty, ChipSale.RivalParty, ChipSale.Chip, 11)), ChipSale.Rival);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("/epcisBody/eventList/0/sourceList/0", body.GetProperty("field").GetString());
    }

    [Fact]
    public async Task AssetProof_FetchedWithTheCliAndVerified_OkAndATamperedOwnerInvalid()
    {
        var file = Path.Combine(Path.GetTempPath(), $"btmc-asset-{Guid.NewGuid():N}.json");
        try
        {
            var fetchError = new StringWriter();
            Assert.True(await BtmcCli.RunAsync(["asset", ChipSale.Chip, "--url", sale.Server.BaseUrl, "--api-key", LocalServer.PartnerApiKey(ChipSale.Auditor), "--proof", "--out", file], TextWriter.Null, fetchError) == 0, fetchError.ToString());
            var output = new StringWriter();
            var error = new StringWriter();

            Assert.True(await BtmcCli.RunAsync(["verify-lineage", file], output, error) == 0, error.ToString());
            Assert.Contains("replaying the events gives the stated owner", output.ToString(), StringComparison.Ordinal);

            var bundle = JsonNode.Parse(await File.ReadAllTextAsync(file))!;
            bundle["owner"]!["partnerId"] = ChipSale.Fab;
            bundle["owner"]!["party"] = ChipSale.FabParty;
            await File.WriteAllTextAsync(file, bundle.ToJsonString());
            var tamperedError = new StringWriter();
            Assert.Equal(1, await BtmcCli.RunAsync(["verify-lineage", file], TextWriter.Null, tamperedError));
            Assert.StartsWith("INVALID:", tamperedError.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AssetProof_AsTheBuyer_RedactedEventsProvenWithoutContentAndVerified()
    {
        using var client = sale.Server.ClientAs(ChipSale.Osat);
        var text = await client.GetStringAsync("api/assets/" + Uri.EscapeDataString(ChipSale.Chip) + "/proof");
        var file = Path.Combine(Path.GetTempPath(), $"btmc-asset-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(file, text);
            var output = new StringWriter();
            var error = new StringWriter();

            Assert.True(await BtmcCli.RunAsync(["verify-lineage", file], output, error) == 0, error.ToString());
            Assert.Contains("redacted", output.ToString(), StringComparison.Ordinal);
            var receipts = JsonDocument.Parse(text).RootElement.GetProperty("receipts").EnumerateArray().ToList();
            Assert.False(receipts.Single(r => r.GetProperty("eventId").GetString() == sale.Commissioning).TryGetProperty("event", out _));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task<JsonElement> GetAsync(string caller, string epc)
    {
        using var client = sale.Server.ClientAs(caller);
        using var response = await client.GetAsync("api/assets/" + Uri.EscapeDataString(epc));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
