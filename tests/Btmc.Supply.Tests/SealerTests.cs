using Btmc.Chains;
using Btmc.Platform.Tables;
using Btmc.Supply.Sealing;
using Btmc.Supply.Storage;
using Xunit;

namespace Btmc.Supply.Tests;

public sealed class SealerTests
{
    [Fact]
    public async Task SealAvailable_MoreEventsThanTheBatchLimit_OneBlockPerBatch()
    {
        await using var harness = await SupplyHarness.StartAsync(sealMaxEvents: 3);
        await harness.CaptureAsync(SupplyHarness.Epcs("1", 7));
        var sealer = harness.Backend.Sealers[0];

        var blocks = new List<BlockSealed?>();
        for (var i = 0; i < 4; i++)
        {
            blocks.Add(await sealer.SealAvailableAsync());
        }

        Assert.Equal([3, 3, 1], blocks.Take(3).Select(b => b!.Entries));
        Assert.Equal([0L, 1L, 2L], blocks.Take(3).Select(b => b!.Height));
        Assert.Null(blocks[3]);
        Assert.Equal(0, harness.Backend.Pending.Count);
    }

    [Fact]
    public async Task SealAvailable_SameEventTwiceInTheLog_SealedOnce()
    {
        await using var harness = await SupplyHarness.StartAsync();
        var first = await harness.CaptureAsync("urn:epc:id:sgtin:0614141.000002.1");
        await harness.Backend.Sealers[0].SealAvailableAsync();

        // A retry that raced the sealer put the same event in the log again.
        var record = new EventRecord(first.EventIds[0], (await harness.Backend.Reader.FindSealedAsync(first.EventIds[0]))!.Value.EventHash, "c2", "partner-b", DateTimeOffset.UtcNow,
            SupplyHarness.Document("urn:epc:id:sgtin:0614141.000002.1").AsMemory());
        await harness.Log.AppendAsync(0, [record.Encode()]);
        var again = await harness.Backend.Sealers[0].SealAvailableAsync();

        Assert.Null(again);
        var head = await harness.Backend.Reader.Chain.FindHeadAsync(harness.Options.ChainId(0));
        Assert.Equal(1, head!.TotalEntries);
    }

    [Fact]
    public async Task Restart_AfterEntriesWrittenButBlockNotCommitted_SealsEachEventOnce()
    {
        FaultyTables? faulty = null;
        await using var harness = await SupplyHarness.StartAsync(sealMaxEvents: 10, wrap: inner => faulty = new FaultyTables(inner));
        await harness.CaptureAsync(SupplyHarness.Epcs("3", 10));
        await harness.Backend.Sealers[0].SealAvailableAsync();
        await harness.CaptureAsync(SupplyHarness.Epcs("4", 10));
        faulty!.FailBlockCommits = true;
        await Assert.ThrowsAsync<IOException>(() => harness.Backend.Sealers[0].SealAvailableAsync());
        var entryRowsBefore = await CountEntryRowsAsync(harness);
        Assert.Equal(20, entryRowsBefore);

        // Restart with a smaller batch: block 1 now holds fewer entries than the attempt that never committed.
        var restarted = harness.Restart(sealMaxEvents: 4);
        await restarted.StartAsync();
        var sealedBlocks = new List<BlockSealed>();
        while (await restarted.Sealers[0].SealAvailableAsync() is { } block)
        {
            sealedBlocks.Add(block);
        }

        Assert.Equal([4, 4, 2], sealedBlocks.Select(b => b.Entries));
        var block1 = await restarted.Reader.Chain.GetBlockAsync(harness.Options.ChainId(0), 1);
        var rowsOfBlock1 = await restarted.Tables.Chain.Entries.QueryAsync(new TableQuery(ChainTables.EntriesPartition(harness.Options.ChainId(0), 1, block1!.BlockHash)));
        Assert.Equal(4, rowsOfBlock1.Items.Count);
        var audit = await restarted.Auditor.AuditAsync(restarted.ChainIds, harness.Rules);
        Assert.True(audit.IsValid, audit.Chains[0].Fault?.Reason);
        Assert.Equal(20, audit.Chains[0].Entries);
    }

    [Fact]
    public async Task SealAvailable_AfterAFailedCommit_SameSealerResumesFromTheStoredHead()
    {
        FaultyTables? faulty = null;
        await using var harness = await SupplyHarness.StartAsync(sealMaxEvents: 10, wrap: inner => faulty = new FaultyTables(inner));
        await harness.CaptureAsync(SupplyHarness.Epcs("6", 10));
        var sealer = harness.Backend.Sealers[0];
        faulty!.FailBlockCommits = true;
        await Assert.ThrowsAsync<IOException>(() => sealer.SealAvailableAsync());
        faulty.FailBlockCommits = false;

        var block = await sealer.SealAvailableAsync();

        Assert.Equal(0, block!.Height);
        Assert.Equal(10, block.Entries);
        Assert.True((await harness.Backend.Auditor.AuditAsync(harness.Backend.ChainIds, harness.Rules)).IsValid);
    }

    [Fact]
    public async Task TwoSealersOnOnePartition_OneWinsEachHeightAndTheChainDoesNotFork()
    {
        await using var harness = await SupplyHarness.StartAsync(sealMaxEvents: 5);
        var other = harness.Restart(sealMaxEvents: 5);
        await other.StartAsync();
        await harness.CaptureAsync(SupplyHarness.Epcs("5", 20));

        var results = await Task.WhenAll(
            Task.Run(() => SealAllAsync(harness.Backend.Sealers[0])),
            Task.Run(() => SealAllAsync(other.Sealers[0])));

        var audit = await harness.Backend.Auditor.AuditAsync(harness.Backend.ChainIds, harness.Rules);
        Assert.True(audit.IsValid, audit.Chains[0].Fault?.Reason);
        Assert.Equal(20, audit.Chains[0].Entries);
        Assert.Equal(4, audit.Chains[0].Blocks);
        Assert.Equal(4, results.Sum(r => r.Count));
    }

    private static async Task<int> CountEntryRowsAsync(SupplyHarness harness)
    {
        var page = await harness.Backend.Tables.Chain.Entries.QueryAsync(new TableQuery());
        return page.Items.Count;
    }

    private static async Task<List<BlockSealed>> SealAllAsync(LogSealer sealer)
    {
        var sealedBlocks = new List<BlockSealed>();
        for (var (idle, rounds) = (0, 0); idle < 3; rounds++)
        {
            Assert.True(rounds < 10_000, $"sealer of {sealer.ChainId} stuck at sequence {sealer.NextSequenceNumber}");
            if (await sealer.SealAvailableAsync() is { } block)
            {
                sealedBlocks.Add(block);
                idle = 0;
            }
            else if (sealer.NextSequenceNumber >= 20)
            {
                idle++;
            }
        }

        return sealedBlocks;
    }
}
