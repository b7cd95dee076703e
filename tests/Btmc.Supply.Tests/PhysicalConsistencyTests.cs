using System.Text;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Platform.EventLog;
using Btmc.Platform.Tables;
using Btmc.Supply.Capture;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Btmc.Supply.Tests;

/// <summary>
/// Physical-consistency claims in the table store (docs/epcis-capture.md, "Physical consistency"): two backends over
/// one SQLite store stand for two servers; the second has its own memory, so whatever it knows of the first's
/// accepted events comes from the claims table.
/// </summary>
public sealed class PhysicalConsistencyTests
{
    private const string Epc = "urn:epc:id:sgtin:0614141.400001.1";

    [Fact]
    public async Task CaptureAsync_EpcCommissionedOnAnotherServerAndUnsealed_RefusedNamingItsEvent()
    {
        await using var harness = await SupplyHarness.StartAsync();
        var first = await harness.Backend.Capture.CaptureAsync("partner-a", Document(Commission(Epc, 0)));
        var second = harness.SecondServer();

        var refused = await Assert.ThrowsAsync<Refused>(() => second.Capture.CaptureAsync("partner-b", Document(Commission(Epc, 1))));

        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Contains(first.EventIds[0], refused.Message, StringComparison.Ordinal);
        Assert.Contains("awaiting sealing", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, second.Pending.Count);
        var claim = Assert.Single(await harness.Backend.Consistency.ReadClaimsAsync(Canonical(Epc)));
        Assert.Equal((first.EventIds[0], ClaimStates.Durable, ClaimRoles.Commissioned), (claim.EventId, claim.State, claim.Role));
    }

    [Fact]
    public async Task CaptureAsync_InputConsumedOnAnotherServerAndUnsealed_Refused()
    {
        await using var harness = await SupplyHarness.StartAsync();
        var first = await harness.Backend.Capture.CaptureAsync("partner-a", Document(Transformation(Epc, "urn:epc:id:sgtin:0614141.400002.1", 0)));

        var refused = await Assert.ThrowsAsync<Refused>(() => harness.SecondServer().Capture.CaptureAsync("partner-b",
            Document(Transformation(Epc, "urn:epc:id:sgtin:0614141.400002.2", 1))));

        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Contains(first.EventIds[0], refused.Message, StringComparison.Ordinal);
        Assert.Equal("/epcisBody/eventList/0/inputEPCList/0", refused.Field);
    }

    [Fact]
    public async Task CaptureAsync_ClaimOfAnEventDeclaredErroneous_TakenOverByTheCorrectiveCommissioning()
    {
        await using var harness = await SupplyHarness.StartAsync();
        const string original = "urn:uuid:7d0c9a52-5e0a-4f3e-8b4e-000000000001";
        const string corrective = "urn:uuid:7d0c9a52-5e0a-4f3e-8b4e-000000000002";
        var first = await harness.Backend.Capture.CaptureAsync("partner-a", Document(Commission(Epc, 0, original)));
        await Assert.ThrowsAsync<Refused>(() => harness.Backend.Capture.CaptureAsync("partner-a", Document(Commission(Epc, 1, corrective))));
        var declaration = Commission(Epc, 0, original)[..^1] + ",\"errorDeclaration\":{\"declarationTime\":\"2026-11-22T11:00:00.000Z\",\"reason\":\"incorrect_data\"}}";
        await harness.Backend.Capture.CaptureAsync("partner-a", Document(declaration));

        var corrected = await harness.Backend.Capture.CaptureAsync("partner-a", Document(Commission(Epc, 1, corrective)));

        var claim = Assert.Single(await harness.Backend.Consistency.ReadClaimsAsync(Canonical(Epc)));
        Assert.Equal(corrected.EventIds[0], claim.EventId);
        Assert.NotEqual(first.EventIds[0], claim.EventId);
        Assert.Equal(ClaimStates.Durable, claim.State);
    }

    [Fact]
    public async Task CaptureAsync_PendingClaimOfACaptureThatDiedBeforeItsAppend_BlocksUntilTheLeaseThenTakenOver()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var harness = await SupplyHarness.StartAsync(time: time);
        // A capture that claimed and then died (kill -9) before appending: its claim is in the table, its event nowhere.
        var died = Read(Commission(Epc, 0));
        var claimed = await harness.Backend.Consistency.CheckAndClaimAsync("died", [(0, died.EventId, died.Terms)], CancellationToken.None);
        Assert.Empty(claimed.Conflicts);
        var second = harness.SecondServer(time);

        time.Advance(PhysicalConsistency.ClaimLease - TimeSpan.FromSeconds(1));
        var blocked = await Assert.ThrowsAsync<Refused>(() => second.Capture.CaptureAsync("partner-b", Document(Commission(Epc, 1))));
        time.Advance(TimeSpan.FromSeconds(1));
        var accepted = await second.Capture.CaptureAsync("partner-b", Document(Commission(Epc, 1)));

        Assert.Contains(died.EventId, blocked.Message, StringComparison.Ordinal);
        var claim = Assert.Single(await second.Consistency.ReadClaimsAsync(Canonical(Epc)));
        Assert.Equal((accepted.EventIds[0], ClaimStates.Durable), (claim.EventId, claim.State));
    }

    [Fact]
    public async Task CaptureAsync_DurableClaimOlderThanTheLease_NotTakenOver()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var harness = await SupplyHarness.StartAsync(time: time);
        var first = await harness.Backend.Capture.CaptureAsync("partner-a", Document(Commission(Epc, 0)));
        // The second server has no pending registration of the first's event, and nothing is sealed: only the
        // claim's durable state keeps it.
        var second = harness.SecondServer(time);

        time.Advance(PhysicalConsistency.ClaimLease * 3);
        var refused = await Assert.ThrowsAsync<Refused>(() => second.Capture.CaptureAsync("partner-b", Document(Commission(Epc, 1))));

        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Contains(first.EventIds[0], refused.Message, StringComparison.Ordinal);
        Assert.Equal(first.EventIds[0], Assert.Single(await harness.Backend.Consistency.ReadClaimsAsync(Canonical(Epc))).EventId);
    }

    [Fact]
    public async Task CaptureAsync_PublishFails_LeavesNoClaimBehind()
    {
        await using var harness = await SupplyHarness.StartAsync();
        var failing = harness.SecondServer(log: new FailingAppends(harness.Log));

        await Assert.ThrowsAsync<IOException>(() => failing.Capture.CaptureAsync("partner-a", Document(Commission(Epc, 0))));

        Assert.Empty(await harness.Backend.Consistency.ReadClaimsAsync(Canonical(Epc)));
        var accepted = await harness.Backend.Capture.CaptureAsync("partner-b", Document(Commission(Epc, 1)));
        Assert.Equal(accepted.EventIds[0], Assert.Single(await harness.Backend.Consistency.ReadClaimsAsync(Canonical(Epc))).EventId);
    }

    [Fact]
    public async Task StartAsync_LogHoldsAnEventWhoseClaimStayedPending_WritesItDurable()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var harness = await SupplyHarness.StartAsync(time: time);
        var accepted = await harness.Backend.Capture.CaptureAsync("partner-a", Document(Commission(Epc, 0)));
        // As after a kill -9 between the append and the durable mark: the row says pending.
        var written = Assert.Single(await harness.Backend.Consistency.ReadClaimsAsync(Canonical(Epc)));
        await harness.Tables.GetTableClient("claims").UpdateEntityAsync(
            new TableEntity(written.PartitionKey, written.RowKey, new Dictionary<string, object> { ["State"] = ClaimStates.Pending }), written.ETag!);
        Assert.Equal(ClaimStates.Pending, Assert.Single(await harness.Backend.Consistency.ReadClaimsAsync(Canonical(Epc))).State);

        var restarted = new SupplyBackend(harness.Options, harness.Tables, harness.Log, harness.Scheduler, time);
        await restarted.StartAsync();
        time.Advance(PhysicalConsistency.ClaimLease * 2);
        var refused = await Assert.ThrowsAsync<Refused>(() => harness.SecondServer(time).Capture.CaptureAsync("partner-b", Document(Commission(Epc, 1))));

        Assert.Equal(ClaimStates.Durable, Assert.Single(await restarted.Consistency.ReadClaimsAsync(Canonical(Epc))).State);
        Assert.Contains(accepted.EventIds[0], refused.Message, StringComparison.Ordinal);
    }

    private static string Canonical(string epc) => EventTerms.CanonicalEpc(epc);

    private static CapturedEvent Read(string evt) => EpcisDocumentReader.Read(Document(evt), DateTimeOffset.UtcNow).Events[0];

    private static string Commission(string epc, int minute, string? eventId = null) =>
        "{\"type\":\"ObjectEvent\"," + (eventId is null ? string.Empty : $"\"eventID\":\"{eventId}\",") +
        $"\"eventTime\":\"2026-11-22T10:{minute:D2}:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"ADD\",\"epcList\":[\"{epc}\"],\"bizStep\":\"commissioning\"}}";

    private static string Transformation(string input, string output, int minute) =>
        $"{{\"type\":\"TransformationEvent\",\"eventTime\":\"2026-11-22T10:{minute:D2}:00Z\",\"eventTimeZoneOffset\":\"+00:00\"," +
        $"\"inputEPCList\":[\"{input}\"],\"outputEPCList\":[\"{output}\"],\"bizStep\":\"assembling\"}}";

    private static byte[] Document(params string[] events) => Encoding.UTF8.GetBytes(
        "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
        "\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" + string.Join(",", events) + "]}}");

    /// <summary>An event log whose appends fail (a full disk, say); everything else is the real log's.</summary>
    private sealed class FailingAppends(IEventLog inner) : IEventLog
    {
        public int PartitionCount => inner.PartitionCount;

        public string LogId => inner.LogId;

        public string Location => inner.Location;

        public Task<long> AppendAsync(int partition, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken = default) =>
            throw new IOException("simulated: the append failed");

        public Task<IReadOnlyList<LoggedEvent>> ReadAsync(int partition, long fromSequenceNumber, int maxCount, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(partition, fromSequenceNumber, maxCount, cancellationToken);

        public Task WaitForEventAsync(int partition, long sequenceNumber, CancellationToken cancellationToken = default) =>
            inner.WaitForEventAsync(partition, sequenceNumber, cancellationToken);

        public long GetEndSequenceNumber(int partition) => inner.GetEndSequenceNumber(partition);

        public Task<long> GetCheckpointAsync(string consumerGroup, int partition, CancellationToken cancellationToken = default) =>
            inner.GetCheckpointAsync(consumerGroup, partition, cancellationToken);

        public Task SetCheckpointAsync(string consumerGroup, int partition, long nextSequenceNumber, CancellationToken cancellationToken = default) =>
            inner.SetCheckpointAsync(consumerGroup, partition, nextSequenceNumber, cancellationToken);
    }
}
