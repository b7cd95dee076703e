using System.Security.Cryptography;
using System.Text;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Capture;
using Btmc.Supply.Genealogy;
using Xunit;

namespace Btmc.Supply.Tests;

/// <summary>A lineage bundle built from the ledger (a cut input made into a die, the die packed into a case),
/// then checked as is and with one thing changed at a time.</summary>
public sealed class LineageVerifierTests : IAsyncLifetime
{
    private const string Wafer = "urn:epc:id:sgtin:0614141.400001.1";
    private const string Die = "urn:epc:id:sgtin:0614141.400002.1";
    private const string Case = "urn:epc:id:sscc:0614141.0000000401";
    private const string OtherCase = "urn:epc:id:sscc:0614141.0000000402";

    private SupplyHarness? _harness;
    private LineageBundle? _bundle;

    private LineageBundle Valid => _bundle ?? throw new InvalidOperationException("not initialised");

    public async Task InitializeAsync()
    {
        _harness = await SupplyHarness.StartAsync();
        var document = Encoding.UTF8.GetBytes(
            "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
            "\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" +
            $"{{\"type\":\"TransformationEvent\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"inputEPCList\":[\"{Wafer}\"],\"outputEPCList\":[\"{Die}\"]}}," +
            $"{{\"type\":\"AggregationEvent\",\"eventTime\":\"2026-11-22T10:01:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"ADD\",\"parentID\":\"{Case}\",\"childEPCs\":[\"{Die}\"]}}," +
            $"{{\"type\":\"AggregationEvent\",\"eventTime\":\"2026-11-22T10:02:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"DELETE\",\"parentID\":\"{OtherCase}\"}}" +
            "]}}");
        Assert.IsType<CaptureAccepted>(await _harness.Backend.Capture.CaptureAsync("partner-a", document));
        await _harness.Backend.Sealers[0].SealAvailableAsync();
        var graph = await _harness.Backend.Genealogy.TraceAsync(Case, upstream: true, depth: 10);
        _bundle = await LineageBundle.BuildAsync(graph, _harness.Backend.Receipts);
    }

    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Fact]
    public void Verify_BundleFromTheLedger_IsValid()
    {
        var result = LineageVerifier.Verify(Valid);

        Assert.True(result.IsValid, result.Failure);
        Assert.Equal(2, result.Edges);
        Assert.Equal(2, result.Events);
        Assert.Equal([Valid.Receipts[0].BlockHeader.KeyId], result.KeyThumbprints);
        Assert.Equal(["aggregation", "transformation"], Valid.Edges.Select(e => e.Kind).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Verify_AfterJsonRoundTrip_IsValid()
    {
        Assert.True(LineageVerifier.Verify(LineageBundle.FromJson(Valid.ToJson())).IsValid);
    }

    [Fact]
    public void Verify_PinnedToTheProducerKey_IsValid()
    {
        Assert.True(LineageVerifier.Verify(Valid, Valid.Receipts[0].ProducerKey).IsValid);
    }

    [Fact]
    public void Verify_PinnedToAnotherKey_FailsOnTheFirstReceipt()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var result = LineageVerifier.Verify(Valid, EcPublicJwk.FromECDsa(other));

        Assert.False(result.IsValid);
        Assert.StartsWith($"receipt of {Valid.Receipts[0].EventId}: ", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_UnknownFormat_Fails()
    {
        var result = LineageVerifier.Verify(Valid with { Format = "btmc-lineage/2" });

        Assert.Contains("unknown lineage format 'btmc-lineage/2'", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_UnknownEdgeKind_Fails()
    {
        var result = LineageVerifier.Verify(Valid with { Edges = [.. Valid.Edges.Select(e => e with { Kind = "inheritance" })] });

        Assert.Contains("unknown edge kind 'inheritance'", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AggregationEdgeIntoAnotherParent_Fails()
    {
        var result = LineageVerifier.Verify(Valid with { Edges = [.. Valid.Edges.Select(e => e.Kind == "aggregation" ? e with { To = EventTerms.CanonicalEpc(OtherCase) } : e)] });

        Assert.Contains("does not put", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TransformationPassedOffAsAggregation_Fails()
    {
        var result = LineageVerifier.Verify(Valid with { Edges = [.. Valid.Edges.Select(e => e.Kind == "transformation" ? e with { Kind = "aggregation" } : e)] });

        Assert.Contains("does not put", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_EdgeEndedByADeleteOfAnotherParent_Fails()
    {
        var backend = _harness?.Backend ?? throw new InvalidOperationException("not initialised");
        var aggregation = Valid.Edges.Single(e => e.Kind == "aggregation");
        var deleteId = Assert.Single(await backend.Terms.FindEpcAsync(EventTerms.CanonicalEpc(OtherCase))).EventId;
        var delete = await backend.Receipts.GetAsync(deleteId);
        Assert.NotNull(delete);
        var forged = Valid with
        {
            Edges = [.. Valid.Edges.Select(e => e == aggregation ? e with { EndedBy = delete.EventId, EndedAt = new LedgerPosition(delete.ChainId, delete.Height, delete.LeafIndex) } : e)],
            Receipts = [.. Valid.Receipts, delete],
        };

        var result = LineageVerifier.Verify(forged);

        Assert.Contains($"event {delete.EventId} does not take", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_EndedByAnEventWithoutReceipt_Fails()
    {
        var result = LineageVerifier.Verify(Valid with { Edges = [.. Valid.Edges.Select(e => e.Kind == "aggregation" ? e with { EndedBy = "urn:uuid:missing" } : e)] });

        Assert.Contains("no receipt for the event urn:uuid:missing that ends it", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ReceiptWithoutItsEvent_Fails()
    {
        var result = LineageVerifier.Verify(Valid with { Receipts = [.. Valid.Receipts.Select((r, i) => i == 0 ? r with { Event = null } : r)] });

        Assert.False(result.IsValid);
        Assert.StartsWith($"receipt of {Valid.Receipts[0].EventId}", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AnotherRoot_FailsAsUnconnected()
    {
        var result = LineageVerifier.Verify(Valid with { Root = OtherCase });

        Assert.Contains("is not connected to the root", result.Failure, StringComparison.Ordinal);
    }

    /// <summary>The documented limit: a bundle proves the edges it shows, not that none was left out.</summary>
    [Fact]
    public void Verify_EdgeLeftOut_StillValid()
    {
        var result = LineageVerifier.Verify(Valid with { Edges = [.. Valid.Edges.Where(e => e.Kind == "aggregation")] });

        Assert.True(result.IsValid, result.Failure);
        Assert.Equal(1, result.Edges);
    }
}
