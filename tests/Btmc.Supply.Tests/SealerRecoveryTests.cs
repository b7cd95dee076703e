using System.Text;
using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Platform.EventLog;
using Btmc.Platform.Tables;
using Btmc.Supply.Capture;
using Xunit;

namespace Btmc.Supply.Tests;

/// <summary>
/// Recovery never skips (issue 12): whatever the stored consumer position, the head hint, the log or a second log
/// say, every acknowledged event is sealed, once.
/// </summary>
public sealed class SealerRecoveryTests
{
    [Theory]
    [InlineData(15)]
    [InlineData(1_000_000)]
    public async Task Recover_ConsumerPositionCorruptedForward_NoAcknowledgedEventSkipped(long storedPosition)
    {
        await using var harness = await SupplyHarness.StartAsync();
        var ids = (await harness.CaptureAsync(SupplyHarness.Epcs("11", 10))).EventIds.ToList();
        await SealAllAsync(harness.Backend);
        ids.AddRange((await harness.CaptureAsync(SupplyHarness.Epcs("12", 10))).EventIds);

        // The position the sealer's consumer group stored (before this change the sealer resumed from it).
        await harness.Log.SetCheckpointAsync("sealer", 0, storedPosition);
        var restarted = harness.Restart(sealMaxEvents: 1000);
        await restarted.StartAsync();
        await SealAllAsync(restarted);

        await AssertEachSealedOnceAsync(restarted, ids);
        Assert.Equal(0, restarted.Pending.Count);
    }

    [Fact]
    public async Task Recover_ConsumerPositionCorruptedBackward_NothingSealedTwice()
    {
        await using var harness = await SupplyHarness.StartAsync(sealMaxEvents: 4);
        var ids = (await harness.CaptureAsync(SupplyHarness.Epcs("13", 10))).EventIds.ToList();
        await SealAllAsync(harness.Backend);

        await harness.Log.SetCheckpointAsync("sealer", 0, 0);
        var restarted = harness.Restart(sealMaxEvents: 4);
        await restarted.StartAsync();
        ids.AddRange((await restarted.Capture.CaptureAsync("partner-a", SupplyHarness.Document(SupplyHarness.Epcs("14", 3)))).EventIds);
        await SealAllAsync(restarted);

        await AssertEachSealedOnceAsync(restarted, ids);
    }

    [Theory]
    [InlineData(3, 0)]       // hint ahead of the chain, log position ahead of the log
    [InlineData(40, 5)]      // far ahead
    [InlineData(0, 1)]       // behind: the chain has more blocks than the hint says
    [InlineData(1, 1000)]    // right height, wrong position
    public async Task Recover_HeadHintCorrupted_FindsTheRealHeadAndSkipsNothing(long hintedHeight, long hintedLogTo)
    {
        await using var harness = await SupplyHarness.StartAsync(sealMaxEvents: 5);
        var ids = (await harness.CaptureAsync(SupplyHarness.Epcs("15", 12))).EventIds.ToList();
        await SealAllAsync(harness.Backend); // blocks 0, 1, 2 (5 + 5 + 2)
        ids.AddRange((await harness.CaptureAsync(SupplyHarness.Epcs("16", 7))).EventIds);
        var chain = harness.Options.ChainId(0);
        var real = await harness.Backend.Reader.Chain.FindHeadAsync(chain);
        Assert.Equal(2, real!.Height);

        await harness.Tables.GetTableClient("chains").UpsertEntityAsync(new TableEntity(ChainTables.HeadsPartition, chain, new Dictionary<string, object>
        {
            ["Height"] = hintedHeight,
            ["BlockHash"] = new string('a', 64),
            ["LeafCount"] = 99L,
            ["LogTo"] = hintedLogTo,
            ["TotalEntries"] = 12345L,
        }), TableUpdateMode.Replace);
        var found = await harness.Backend.Reader.Chain.FindHeadAsync(chain);
        Assert.Equal(real, found);

        var restarted = harness.Restart(sealMaxEvents: 5);
        await restarted.StartAsync();
        await SealAllAsync(restarted);

        await AssertEachSealedOnceAsync(restarted, ids);
        var audit = await restarted.Auditor.AuditAsync(restarted.ChainIds, harness.Rules);
        Assert.True(audit.IsValid, audit.Chains[0].Fault?.Reason);
        Assert.Equal(19, audit.Chains[0].Entries);
        Assert.Equal(19, (await restarted.Reader.Chain.FindHeadAsync(chain))!.TotalEntries);
    }

    [Fact]
    public async Task Recover_HeadBlockReadFromAnotherLog_ReadsThisLogFromItsStart()
    {
        await using var harness = await SupplyHarness.StartAsync();
        await harness.CaptureAsync(SupplyHarness.Epcs("17", 5));
        await SealAllAsync(harness.Backend);
        using var otherFolder = new TempFolder();
        await using var otherLog = new FileEventLog(otherFolder.Path, 1);
        var other = new SupplyBackend(harness.Options, harness.Tables, otherLog, harness.Scheduler);

        await other.Sealers[0].RecoverAsync();

        Assert.Equal(0, other.Sealers[0].NextSequenceNumber);
        Assert.Contains("not from this one", other.Sealers[0].PositionWarning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recover_LogEndsBeforeTheHeadsRange_NewEventsAreSealed()
    {
        await using var harness = await SupplyHarness.StartAsync();
        var ids = (await harness.CaptureAsync(SupplyHarness.Epcs("19", 4))).EventIds.ToList();
        await SealAllAsync(harness.Backend);
        // The tables say the chain consumed the log up to 500: the log here is an older copy (or was replaced).
        var chain = harness.Options.ChainId(0);
        var blocks = harness.Tables.GetTableClient("blocks");
        var row = (await blocks.GetEntityIfExistsAsync(chain, ChainTables.HeightKey(0)))!;
        await blocks.UpsertEntityAsync(new TableEntity(chain, row.RowKey, new Dictionary<string, object>(row.Properties) { ["LogTo"] = 500L }), TableUpdateMode.Replace);
        await harness.Tables.GetTableClient("chains").UpsertEntityAsync(new TableEntity(ChainTables.HeadsPartition, chain, new Dictionary<string, object> { ["LogTo"] = 500L }));

        var restarted = harness.Restart(sealMaxEvents: 1000);
        await restarted.StartAsync();
        ids.AddRange((await restarted.Capture.CaptureAsync("partner-a", SupplyHarness.Document(SupplyHarness.Epcs("20", 3)))).EventIds);
        await SealAllAsync(restarted);

        Assert.Equal(7, restarted.Sealers[0].NextSequenceNumber);
        Assert.Contains("log ends at 4", restarted.Sealers[0].PositionWarning, StringComparison.Ordinal);
        await AssertEachSealedOnceAsync(restarted, ids);
    }

    [Fact]
    public async Task Start_SecondEventLogOnTheSameTables_RefusesCapturesNamingTheOwner()
    {
        await using var harness = await SupplyHarness.StartAsync();
        using var otherFolder = new TempFolder();
        await using var otherLog = new FileEventLog(otherFolder.Path, 1);
        var other = new SupplyBackend(harness.Options, harness.Tables, otherLog, harness.Scheduler);

        await other.StartAsync();
        var refused = await Assert.ThrowsAsync<Refused>(() => other.Capture.CaptureAsync("partner-a", SupplyHarness.Document(SupplyHarness.Epcs("21", 2))));

        Assert.True(harness.Backend.IsSealingOwner);
        Assert.False(other.IsSealingOwner);
        Assert.Equal(RefusalKind.Busy, refused.Kind);
        Assert.Contains(harness.Log.LogId, refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, otherLog.GetEndSequenceNumber(0));
        Assert.Equal(0, other.Pending.Count);
        // The owner itself, restarted, is still the owner.
        var restarted = harness.Restart(sealMaxEvents: 1000);
        await restarted.StartAsync();
        Assert.True(restarted.IsSealingOwner);
    }

    [Fact]
    public async Task Capture_CallerGoesAwayDuringALookup_LeavesNoRegistrationAndTheRetryIsAccepted()
    {
        FaultyTables? faulty = null;
        await using var harness = await SupplyHarness.StartAsync(wrap: inner => faulty = new FaultyTables(inner));
        var sealedBefore = await harness.CaptureAsync("urn:epc:id:sgtin:0614141.000022.1");
        await SealAllAsync(harness.Backend);
        // A new event, then one the sealed-event filter knows: capture looks that one up, and the request is aborted.
        var document = SupplyHarness.Document("urn:epc:id:sgtin:0614141.000022.2", "urn:epc:id:sgtin:0614141.000022.1");
        faulty!.CancelEventIndexReads = true;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => harness.Backend.Capture.CaptureAsync("partner-a", document));
        Assert.Equal(0, harness.Backend.Pending.Count);

        faulty.CancelEventIndexReads = false;
        var retry = await harness.Backend.Capture.CaptureAsync("partner-a", document).WaitAsync(TimeSpan.FromSeconds(30));

        var accepted = Assert.IsType<CaptureAccepted>(retry);
        Assert.Equal(1, accepted.NewEvents);
        await SealAllAsync(harness.Backend);
        await AssertEachSealedOnceAsync(harness.Backend, [.. accepted.EventIds, .. sealedBefore.EventIds]);
    }

    [Fact]
    public async Task Recover_AfterAFaultBetweenCommitAndIndex_ReleasesTheBlocksPendingEvents()
    {
        FaultyTables? faulty = null;
        await using var harness = await SupplyHarness.StartAsync(wrap: inner => faulty = new FaultyTables(inner));
        var ids = (await harness.CaptureAsync(SupplyHarness.Epcs("23", 10))).EventIds;
        faulty!.FailEventIndexWrites = true;
        await Assert.ThrowsAsync<IOException>(() => harness.Backend.Sealers[0].SealAvailableAsync());
        faulty.FailEventIndexWrites = false;

        var again = await harness.Backend.Sealers[0].SealAvailableAsync();

        Assert.Null(again);
        Assert.Equal(0, harness.Backend.Pending.Count);
        await AssertEachSealedOnceAsync(harness.Backend, ids);
    }

    [Fact]
    public async Task SealAvailable_HundredEventsOfFiftyEightKilobytes_SealedInTransactionsWithinTheStoresLimit()
    {
        await using var harness = await SupplyHarness.StartAsync();
        // 100 events of about 58 KB (under the 60 KiB event limit): 5.8 MB in one block, more than one 4 MiB transaction.
        var events = Enumerable.Range(0, 100).Select(e =>
            $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\",\"epcList\":[" +
            string.Join(",", Enumerable.Range(0, 1500).Select(i => $"\"urn:epc:id:sgtin:0614141.{e + 100000}.{i}\"")) + "]}");
        var document = Encoding.UTF8.GetBytes(
            "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
            "\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" + string.Join(",", events) + "]}}");
        var accepted = Assert.IsType<CaptureAccepted>(await harness.Backend.Capture.CaptureAsync("partner-a", document));

        var block = await harness.Backend.Sealers[0].SealAvailableAsync();

        Assert.Equal(100, block!.Entries);
        await AssertEachSealedOnceAsync(harness.Backend, accepted.EventIds);
    }

    private static async Task SealAllAsync(SupplyBackend backend)
    {
        foreach (var sealer in backend.Sealers)
        {
            for (var rounds = 0; await sealer.SealAvailableAsync() is not null || sealer.NextSequenceNumber < backend.Log!.GetEndSequenceNumber(sealer.Partition); rounds++)
            {
                Assert.True(rounds < 1000, $"{sealer.ChainId} does not reach the log's end");
            }
        }
    }

    /// <summary>Counts every entry of every block of every chain: each id once, and nothing else.</summary>
    private static async Task AssertEachSealedOnceAsync(SupplyBackend backend, IEnumerable<string> ids)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var chain in backend.ChainIds)
        {
            await foreach (var block in backend.Reader.Chain.ReadBlocksAsync(chain))
            {
                foreach (var entry in await backend.Reader.Chain.ReadEntriesAsync(chain, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: false))
                {
                    counts[entry.EventId] = counts.GetValueOrDefault(entry.EventId) + 1;
                }
            }
        }

        var expected = ids.Distinct(StringComparer.Ordinal).ToList();
        var missing = expected.Where(id => !counts.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {expected.Count} acknowledged events are not sealed, e.g. {missing.FirstOrDefault()}");
        var twice = counts.Where(c => c.Value > 1).Select(c => c.Key).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} events sealed more than once, e.g. {twice.FirstOrDefault()}");
        Assert.Equal(expected.Count, counts.Count);
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("btmc-otherlog-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
