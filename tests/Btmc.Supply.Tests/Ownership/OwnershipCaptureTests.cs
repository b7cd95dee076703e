using System.Text;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Capture;
using Xunit;
using static Btmc.Supply.Tests.Ownership.OwnershipEvents;

namespace Btmc.Supply.Tests.Ownership;

/// <summary>
/// The ownership rules at capture (docs/trade.md, "Ownership", "At capture"), over claims in the table store: two
/// backends over one SQLite store stand for two servers, so what one knows of the other's accepted, unsealed events
/// comes from the claims table.
/// </summary>
public sealed class OwnershipCaptureTests
{
    private static readonly Caller FabCaller = new("fab", PartnerRoles.Partner, ["4012345"], []);
    private static readonly Caller OsatCaller = new("osat", PartnerRoles.Partner, ["4098765"], []);
    private static readonly Caller OemCaller = new("oem", PartnerRoles.Partner, ["4055555"], []);

    [Fact]
    public async Task CaptureAsync_ShippingFromAPartyThatIsNotTheOwner_RefusedNamingTheOwnerAndTheSource()
    {
        await using var harness = await StartAsync();
        var commissioned = await harness.Backend.Capture.CaptureAsync(FabCaller, Document(Commissioning(0, Chip(1))));

        var refused = await Assert.ThrowsAsync<Refused>(() => harness.Backend.Capture.CaptureAsync(OsatCaller, Document(Moving(1, "shipping", Osat, Oem, Chip(1)))));

        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Equal("/epcisBody/eventList/0/sourceList/0", refused.Field);
        Assert.Contains("partner 'fab'", refused.Message, StringComparison.Ordinal);
        Assert.Contains(commissioned.EventIds[0], refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CaptureAsync_TransferAwayByAPartnerThatIsNeitherOwnerNorCustodian_Forbidden()
    {
        await using var harness = await StartAsync();
        await harness.Backend.Capture.CaptureAsync(FabCaller, Document(Commissioning(0, Chip(1))));

        var refused = await Assert.ThrowsAsync<Refused>(() => harness.Backend.Capture.CaptureAsync(OemCaller, Document(Moving(1, "receiving", Fab, Oem, Chip(1)))));

        Assert.Equal(RefusalKind.Forbidden, refused.Kind);
        Assert.Equal("/epcisBody/eventList/0/sourceList/0", refused.Field);
    }

    [Fact]
    public async Task CaptureAsync_ShippingThenReceivingThatConfirms_BothAccepted()
    {
        await using var harness = await StartAsync();
        await harness.Backend.Capture.CaptureAsync(FabCaller, Document(Commissioning(0, Chip(1)), Moving(1, "shipping", Fab, Osat, Chip(1))));

        var received = await harness.Backend.Capture.CaptureAsync(OsatCaller, Document(Moving(2, "receiving", Fab, Osat, Chip(1))));

        Assert.Equal(1, received.NewEvents);
    }

    [Fact]
    public async Task CaptureAsync_ShippingOfAnIdentifierNeverCommissioned_NotChecked()
    {
        await using var harness = await StartAsync();

        var accepted = await harness.Backend.Capture.CaptureAsync(OemCaller, Document(Moving(1, "shipping", Osat, Oem, Chip(9))));

        Assert.Equal(1, accepted.NewEvents);
    }

    [Fact]
    public async Task CaptureAsync_SecondShipmentByTheOwnerOnAnotherServerUnsealed_Refused()
    {
        await using var harness = await StartAsync();
        await harness.Backend.Capture.CaptureAsync(FabCaller, Document(Commissioning(0, Chip(1))));
        var shipped = await harness.Backend.Capture.CaptureAsync(FabCaller, Document(Moving(1, "shipping", Fab, Osat, Chip(1))));
        var second = SecondServer(harness);

        var refused = await Assert.ThrowsAsync<Refused>(() => second.Capture.CaptureAsync(FabCaller, Document(Moving(2, "shipping", Fab, Oem, Chip(1)))));

        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Contains(shipped.EventIds[0], refused.Message, StringComparison.Ordinal);
        Assert.Contains("awaiting sealing", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CaptureAsync_ConcurrentShipmentsOfOneLotToTwoBuyersOnTwoServers_AtMostOneAccepted()
    {
        await using var harness = await StartAsync();
        await harness.Backend.Capture.CaptureAsync(FabCaller, Document(Commissioning(0, Chip(1))));
        var second = SecondServer(harness);

        var outcomes = await Task.WhenAll(
            Outcome(harness.Backend.Capture.CaptureAsync(FabCaller, Document(Moving(1, "shipping", Fab, Osat, Chip(1))))),
            Outcome(second.Capture.CaptureAsync(FabCaller, Document(Moving(1, "shipping", Fab, Oem, Chip(1))))));

        Assert.Single(outcomes, o => o is null);
        Assert.Single(outcomes, o => o is { Kind: RefusalKind.Conflict });
        var claims = await harness.Backend.Consistency.ReadClaimsAsync(EventTerms.CanonicalEpc(Chip(1)));
        Assert.Single(claims, c => c.Role == ClaimRoles.Ownership);
    }

    private static async Task<Refused?> Outcome(Task<CaptureAccepted> capture)
    {
        try
        {
            await capture;
            return null;
        }
        catch (Refused refused)
        {
            return refused;
        }
    }

    private static async Task<SupplyHarness> StartAsync()
    {
        var harness = await SupplyHarness.StartAsync();
        harness.Backend.Ownership.Partners = () => [FabCaller, OsatCaller, OemCaller];
        return harness;
    }

    private static SupplyBackend SecondServer(SupplyHarness harness)
    {
        var second = harness.SecondServer();
        second.Ownership.Partners = () => [FabCaller, OsatCaller, OemCaller];
        return second;
    }

    private static string Commissioning(int minute, params string[] epcs) =>
        $$"""{"type":"ObjectEvent","eventTime":"2026-12-01T10:{{minute:00}}:00.000Z","eventTimeZoneOffset":"+00:00","action":"ADD","bizStep":"commissioning","epcList":{{Json(epcs)}}}""";

    private static string Moving(int minute, string bizStep, string from, string to, params string[] epcs) =>
        $$"""{"type":"ObjectEvent","eventTime":"2026-12-01T10:{{minute:00}}:00.000Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","bizStep":"{{bizStep}}","epcList":{{Json(epcs)}},""" + Parties("owning_party", from, to) + "}";

    private static byte[] Document(params string[] events) => Encoding.UTF8.GetBytes(
        "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
        "\"creationDate\":\"2026-12-01T10:00:00Z\",\"epcisBody\":{\"eventList\":[" + string.Join(",", events) + "]}}");
}
