using System.Text;
using Btmc.Ledger;
using Btmc.Supply.Ownership;
using Xunit;
using static Btmc.Supply.Tests.Ownership.OwnershipEvents;

namespace Btmc.Supply.Tests.Ownership;

/// <summary>
/// <see cref="OwnershipTracker"/> over sealed events (docs/trade.md, "Ownership"): which events it reads (the
/// identifier's, its parents', its inputs', the error declarations) and the asset bundle it proves them with.
/// </summary>
public sealed class OwnershipTrackerTests
{
    private const string Tray = "urn:epc:id:sscc:4012345.0000000001";
    private static readonly Caller FabCaller = new("fab", PartnerRoles.Partner, ["4012345"], []);
    private static readonly Caller OsatCaller = new("osat", PartnerRoles.Partner, ["4098765"], []);
    private static readonly Caller OemCaller = new("oem", PartnerRoles.Partner, ["4055555"], []);
    private static readonly Caller AuditorCaller = new("aud", PartnerRoles.Auditor, [], []);

    [Fact]
    public async Task GetAsync_ChipInATrayShippedByItsOwner_OwnedByTheBuyerThroughTheTraysEvent()
    {
        await using var harness = await StartAsync();
        await CaptureSealedAsync(harness, FabCaller, Commissioning(0, Chip(1)), Aggregation(1, Tray, Chip(1)));
        var shipping = await CaptureSealedAsync(harness, FabCaller, Moving(2, "shipping", Fab, Osat, Tray));

        var state = await harness.Backend.Ownership.GetAsync(Chip(1));

        Assert.NotNull(state);
        Assert.Equal(new AssetHolder("osat", Osat), state.Owner);
        Assert.Equal(shipping[0], state.History[^1].EventId);
        Assert.NotNull(state.History[^1].Position);
    }

    [Fact]
    public async Task GetAsync_ShippingDeclaredErroneous_OwnerIsTheCommissionerAgain()
    {
        await using var harness = await StartAsync();
        await CaptureSealedAsync(harness, FabCaller, Commissioning(0, Chip(1)));
        var shipping = Moving(1, "shipping", Fab, Osat, Chip(1));
        await CaptureSealedAsync(harness, FabCaller, shipping);
        await CaptureSealedAsync(harness, FabCaller, shipping[..^1] + ",\"errorDeclaration\":{\"declarationTime\":\"2026-12-01T11:00:00.000Z\",\"reason\":\"incorrect_data\"}}");

        var state = await harness.Backend.Ownership.GetAsync(Chip(1));

        Assert.Equal(new AssetHolder("fab", null), state?.Owner);
    }

    [Fact]
    public async Task GetAsync_TransformationOutput_OwnedByTheOwnerOfItsInputs()
    {
        await using var harness = await StartAsync();
        await CaptureSealedAsync(harness, FabCaller, Commissioning(0, Chip(1)));
        await CaptureSealedAsync(harness, FabCaller, Moving(1, "shipping", Fab, Oem, Chip(1)));
        const string module = "urn:epc:id:sgtin:4098765.022222.1";
        await CaptureSealedAsync(harness, OsatCaller,
            $$"""{"type":"TransformationEvent","eventTime":"2026-12-01T10:02:00.000Z","eventTimeZoneOffset":"+00:00","inputEPCList":{{Json([Chip(1)])}},"outputEPCList":["{{module}}"]}""");

        var state = await harness.Backend.Ownership.GetAsync(module);

        Assert.Equal((new AssetHolder("oem", Oem), new AssetHolder("osat", null)), (state?.Owner, state?.Custodian));
    }

    [Fact]
    public async Task GetAsync_NeverCommissioned_Null()
    {
        await using var harness = await StartAsync();
        await CaptureSealedAsync(harness, OemCaller, Moving(1, "shipping", Osat, Oem, Chip(5)));

        Assert.Null(await harness.Backend.Ownership.GetAsync(Chip(5)));
    }

    [Fact]
    public async Task BundleAsync_AsAnAuditor_VerifiesByReplayAndATamperedHistoryDoesNot()
    {
        await using var harness = await StartAsync();
        await CaptureSealedAsync(harness, FabCaller, Commissioning(0, Chip(1)), Aggregation(1, Tray, Chip(1)));
        await CaptureSealedAsync(harness, FabCaller, Moving(2, "shipping", Fab, Osat, Tray));

        var bundle = await harness.Backend.Assets.BundleAsync(Chip(1), AuditorCaller, harness.Backend.Receipts);

        Assert.NotNull(bundle);
        var verified = AssetVerifier.Verify(AssetBundle.FromJson(bundle.ToJson()));
        Assert.True(verified.IsValid, verified.Failure);
        Assert.True(verified.Replayed);
        var tampered = bundle with { History = bundle.History.Take(2).ToList() };
        Assert.False(AssetVerifier.Verify(tampered).IsValid);
    }

    [Fact]
    public async Task GetAsync_AsAPartnerItDoesNotConcern_NullAndAsTheBuyer_CommissioningRedacted()
    {
        await using var harness = await StartAsync();
        var commissioned = await CaptureSealedAsync(harness, FabCaller, Commissioning(0, Chip(1)));
        await CaptureSealedAsync(harness, FabCaller, Moving(1, "shipping", Fab, Osat, Chip(1)));

        var buyer = await harness.Backend.Assets.GetAsync(Chip(1), OsatCaller);

        Assert.Null(await harness.Backend.Assets.GetAsync(Chip(1), OemCaller));
        Assert.NotNull(buyer);
        Assert.Equal(new AssetHistoryEntry(commissioned[0], buyer.History[0].Position, Redacted: true), buyer.History[0]);
        Assert.Null(buyer.History[2].Redacted);
    }

    private static async Task<SupplyHarness> StartAsync()
    {
        var harness = await SupplyHarness.StartAsync();
        harness.Backend.Ownership.Partners = () => [FabCaller, OsatCaller, OemCaller, AuditorCaller];
        return harness;
    }

    /// <summary>Captures the events as one document and seals everything waiting (the harness runs no sealing loop).</summary>
    private static async Task<IReadOnlyList<string>> CaptureSealedAsync(SupplyHarness harness, Caller caller, params string[] events)
    {
        var accepted = await harness.Backend.Capture.CaptureAsync(caller, Encoding.UTF8.GetBytes(
            "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
            "\"creationDate\":\"2026-12-01T10:00:00Z\",\"epcisBody\":{\"eventList\":[" + string.Join(",", events) + "]}}"));
        while (await harness.Backend.Sealers[0].SealAvailableAsync() is not null)
        {
        }

        return accepted.EventIds;
    }

    private static string Commissioning(int minute, params string[] epcs) =>
        $$"""{"type":"ObjectEvent","eventTime":"2026-12-01T10:{{minute:00}}:00.000Z","eventTimeZoneOffset":"+00:00","action":"ADD","bizStep":"commissioning","epcList":{{Json(epcs)}}}""";

    private static string Aggregation(int minute, string parent, params string[] children) =>
        $$"""{"type":"AggregationEvent","eventTime":"2026-12-01T10:{{minute:00}}:00.000Z","eventTimeZoneOffset":"+00:00","action":"ADD","parentID":"{{parent}}","childEPCs":{{Json(children)}}}""";

    private static string Moving(int minute, string bizStep, string from, string to, params string[] epcs) =>
        $$"""{"type":"ObjectEvent","eventTime":"2026-12-01T10:{{minute:00}}:00.000Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","bizStep":"{{bizStep}}","epcList":{{Json(epcs)}},""" + Parties("owning_party", from, to) + "}";
}
