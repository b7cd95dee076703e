using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Storage;
using Xunit;

namespace Btmc.Supply.Tests;

public sealed class EventIndexTests
{
    [Fact]
    public async Task FindSealedAsync_RowInTheIdShard_NamesTheChainRecordedInTheRow()
    {
        // The shard comes from the id; the chain that sealed the event is whatever the row says (on Event Hubs the
        // chain is the hub partition, which a lot-based partition key chooses, not the id).
        await using var harness = await SupplyHarness.StartAsync(partitions: 4);
        var key = EventKey.For("ni:///sha-256;00?ver=CBV2.0", 4);
        var sealedBy = (key.Partition + 1) % 4;
        await harness.Backend.Tables.EventIndex(key.Partition).UpsertEntityAsync(new TableEntity(key.IndexPartitionKey, key.IndexRowKey, new Dictionary<string, object>
        {
            ["EventHash"] = Hash32.Compute("e"u8).ToArray(),
            ["Chain"] = (long)sealedBy,
            ["Height"] = 7L,
            ["LeafIndex"] = 3L,
            ["BlockHash"] = Hash32.Compute("b"u8).ToArray(),
        }), TableUpdateMode.Replace);

        var found = await harness.Backend.Reader.FindSealedAsync("ni:///sha-256;00?ver=CBV2.0");

        Assert.Equal(new LedgerPosition($"supply-{sealedBy}", 7, 3), found?.Position);
    }

    [Fact]
    public async Task SealAvailableAsync_EveryEvent_IndexedInItsIdShardWithItsChain()
    {
        await using var harness = await SupplyHarness.StartAsync(partitions: 2);
        var accepted = await harness.CaptureAsync(SupplyHarness.Epcs("41", 20));
        foreach (var sealer in harness.Backend.Sealers)
        {
            await sealer.SealAvailableAsync();
        }

        foreach (var id in accepted.EventIds)
        {
            var key = EventKey.For(id, 2);
            var row = await harness.Backend.Tables.EventIndex(key.Partition).GetEntityIfExistsAsync(key.IndexPartitionKey, key.IndexRowKey);
            Assert.NotNull(row);
            Assert.Equal($"supply-{row.GetInt64("Chain")}", (await harness.Backend.Reader.FindSealedAsync(id))?.Position.ChainId);
        }
    }
}
