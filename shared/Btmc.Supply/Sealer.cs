using System.Diagnostics;
using System.Text.Json;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Platform.EventLog;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;

namespace Btmc.Supply;

/// <summary>A block this sealer committed.</summary>
public sealed record BlockSealed(string ChainId, long Height, int Entries, int Duplicates, long NextSequenceNumber);

/// <summary>
/// Integration: consumes one partition of the supply-events log in batches and extends that partition's chain with
/// one signed block per batch. A block is sealed when <see cref="SupplyOptions.SealMaxEvents"/> events are pending or
/// the oldest has waited <see cref="SupplyOptions.SealMaxDelayMilliseconds"/>; an empty slot makes no block.
/// <para>
/// Crash safety (docs/architecture.md): entries are written first, then the block row — the commit point, inserted
/// so that a second writer of the same height loses with 409 — then the event index, the head hint and the log
/// checkpoint. After a crash the chain resumes from its head block's log range, so an entry is neither lost nor
/// sealed twice. Entries of an attempt that never committed sit in a partition named by that attempt's block hash,
/// which no committed block names.
/// </para>
/// </summary>
public sealed class Sealer(int partition, SupplyOptions options, LedgerTables tables, IEventLog log, IBlockSigner signer, PendingEvents pending, LedgerReader reader, SealedEventFilter sealedEvents, TermIndex terms, PhysicalConsistency consistency)
{
    public const string ConsumerGroup = "sealer";

    private ChainHead? _head;
    private long _next;
    private bool _recovered;

    public string ChainId { get; } = options.ChainId(partition);

    public int Partition => partition;

    /// <summary>The next log sequence number this sealer will consume.</summary>
    public long NextSequenceNumber => _next;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await RecoverAsync(cancellationToken).ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            await log.WaitForEventAsync(partition, _next, cancellationToken).ConfigureAwait(false);
            await WaitForBatchAsync(cancellationToken).ConfigureAwait(false);
            await SealAvailableAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Finds the chain head, re-applies the head block's index, and positions the consumer after it.</summary>
    public async Task RecoverAsync(CancellationToken cancellationToken = default)
    {
        _head = await reader.FindHeadAsync(ChainId, cancellationToken).ConfigureAwait(false);
        var checkpoint = await log.GetCheckpointAsync(ConsumerGroup, partition, cancellationToken).ConfigureAwait(false);
        _next = Math.Max(_head?.NextSequenceNumber ?? 0, checkpoint);
        if (_head is not null)
        {
            var entries = await reader.ReadEntriesAsync(ChainId, _head.Height, _head.BlockHash, _head.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
            await WriteIndexAsync(entries.Select(e => (e.EventId, e.EventHash, e.LeafIndex, e.Event)).ToList(), _head.Height, _head.BlockHash, cancellationToken).ConfigureAwait(false);
            await WriteHeadHintAsync(_head, cancellationToken).ConfigureAwait(false);
        }

        _recovered = true;
    }

    /// <summary>
    /// Seals whatever is in the log now, one block of at most SealMaxEvents; null when nothing was pending.
    /// After a fault the next call starts again from the stored chain head.
    /// </summary>
    public async Task<BlockSealed?> SealAvailableAsync(CancellationToken cancellationToken = default)
    {
        if (!_recovered)
        {
            await RecoverAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await SealBatchAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _recovered = false;
            throw;
        }
    }

    private async Task<BlockSealed?> SealBatchAsync(CancellationToken cancellationToken)
    {

        var batch = await log.ReadAsync(partition, _next, options.SealMaxEvents, cancellationToken).ConfigureAwait(false);
        if (batch.Count == 0)
        {
            return null;
        }

        var from = batch[0].SequenceNumber;
        var next = batch[^1].SequenceNumber + 1;
        var kept = new List<(EventRecord Record, long Sequence)>(batch.Count);
        var inBatch = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = 0;
        foreach (var logged in batch)
        {
            var record = EventRecord.Decode(logged.Body);
            if (!inBatch.Add(record.EventId))
            {
                duplicates++;
                continue;
            }

            // A pending registration of this very event means it is not sealed (see CaptureService); anything else,
            // such as a second copy in the log, is looked up.
            SealedRef? sealedBefore = null;
            if (!pending.TryGet(record.EventId, out var registration) || registration.EventHash != record.EventHash)
            {
                var key = EventKey.For(record.EventId, options.Partitions);
                sealedBefore = sealedEvents.MightContain(key) ? await reader.FindSealedAsync(key, cancellationToken).ConfigureAwait(false) : null;
            }

            if (sealedBefore is not null)
            {
                // The same event (same hash ID) is sealed already, perhaps in another serialisation: the first stays.
                duplicates++;
                pending.Remove(record.EventId);
                continue;
            }

            kept.Add((record, logged.SequenceNumber));
        }

        if (kept.Count == 0)
        {
            _next = next;
            await log.SetCheckpointAsync(ConsumerGroup, partition, _next, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var height = (_head?.Height ?? -1) + 1;
        var leaves = new Hash32[kept.Count];
        for (var i = 0; i < kept.Count; i++)
        {
            leaves[i] = new LedgerEntry(kept[i].Record.EventId, kept[i].Record.EventHash, kept[i].Record.Partner).ComputeLeafHash();
        }

        var header = new BlockHeader(
            BlockHeader.CurrentVersion, ChainId, height, _head?.BlockHash ?? Hash32.Zero, MerkleTree.ComputeRoot(leaves),
            kept.Count, DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), signer.ProducerId, signer.KeyId);
        var blockHash = header.ComputeHash();
        var signature = await signer.SignDigestAsync(blockHash, cancellationToken).ConfigureAwait(false);

        await WriteEntriesAsync(height, blockHash, kept, cancellationToken).ConfigureAwait(false);
        var committed = await CommitBlockAsync(header, blockHash, signature, from, next, cancellationToken).ConfigureAwait(false);
        if (!committed)
        {
            // Another sealer committed this height first: follow its chain from where it stopped.
            _recovered = false;
            return null;
        }

        _head = new ChainHead(ChainId, height, blockHash, kept.Count, next, (_head?.TotalEntries ?? 0) + kept.Count);
        await WriteIndexAsync(kept.Select((k, i) => (k.Record.EventId, k.Record.EventHash, (long)i, k.Record.Json)).ToList(), height, blockHash, cancellationToken).ConfigureAwait(false);
        await WriteHeadHintAsync(_head, cancellationToken).ConfigureAwait(false);
        foreach (var (record, _) in kept)
        {
            pending.Remove(record.EventId);
        }

        _next = next;
        await log.SetCheckpointAsync(ConsumerGroup, partition, _next, cancellationToken).ConfigureAwait(false);
        return new BlockSealed(ChainId, height, kept.Count, duplicates, next);
    }

    private async Task WaitForBatchAsync(CancellationToken cancellationToken)
    {
        if (log.GetEndSequenceNumber(partition) - _next >= options.SealMaxEvents)
        {
            return;
        }

        var first = await log.ReadAsync(partition, _next, 1, cancellationToken).ConfigureAwait(false);
        var deadline = first[0].EnqueuedTime.AddMilliseconds(options.SealMaxDelayMilliseconds);
        var remaining = deadline - DateTimeOffset.UtcNow;
        if (remaining <= TimeSpan.Zero)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(remaining);
        try
        {
            await log.WaitForEventAsync(partition, _next + options.SealMaxEvents - 1, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Debug.Assert(timeout.IsCancellationRequested, "the batch deadline passed");
        }
    }

    private async Task WriteEntriesAsync(long height, Hash32 blockHash, List<(EventRecord Record, long Sequence)> kept, CancellationToken cancellationToken)
    {
        var partitionKey = LedgerTables.EntriesPartition(ChainId, height, blockHash);
        var actions = new List<TableTransactionAction>(100);
        for (var i = 0; i < kept.Count; i++)
        {
            var (record, sequence) = kept[i];
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partitionKey, LedgerTables.LeafKey(i), new Dictionary<string, object>
            {
                ["EventId"] = record.EventId,
                ["EventHash"] = record.EventHash.ToArray(),
                ["Event"] = record.Json.ToArray(),
                ["CaptureId"] = record.CaptureId,
                ["Partner"] = record.Partner,
                ["ReceivedAt"] = record.ReceivedAt,
                ["SequenceNumber"] = sequence,
            })));
            if (actions.Count == 100 || i == kept.Count - 1)
            {
                await tables.Entries.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
                actions = new List<TableTransactionAction>(100);
            }
        }
    }

    private async Task<bool> CommitBlockAsync(BlockHeader header, Hash32 blockHash, byte[] signature, long from, long next, CancellationToken cancellationToken)
    {
        var row = new TableEntity(ChainId, LedgerTables.HeightKey(header.Height), new Dictionary<string, object>
        {
            ["Header"] = header.Encode(),
            ["Signature"] = signature,
            ["BlockHash"] = blockHash.ToHex(),
            ["LeafCount"] = header.LeafCount,
            ["LogFrom"] = from,
            ["LogTo"] = next,
        });
        try
        {
            await tables.Blocks.AddEntityAsync(row, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TableStoreException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    private async Task WriteIndexAsync(List<(string EventId, Hash32 EventHash, long LeafIndex, ReadOnlyMemory<byte> Json)> entries, long height, Hash32 blockHash, CancellationToken cancellationToken)
    {
        var termRows = new (long, string, EventTerms)[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            using var json = JsonDocument.Parse(entries[i].Json);
            termRows[i] = (entries[i].LeafIndex, entries[i].EventId, EventTerms.Of(json.RootElement));
        }

        var termsWritten = terms.WriteAsync(partition, height, blockHash, termRows, cancellationToken);
        // The event index is sharded by the event's ledger id, not by the chain that sealed it: a lookup needs only
        // the id. (On the embedded log the two agree, since the log partition is chosen by the same hash.)
        var keys = new EventKey[entries.Count];
        var byBucket = new Dictionary<(int Shard, string Bucket), List<TableTransactionAction>>();
        var blockHashBytes = blockHash.ToArray();
        for (var i = 0; i < entries.Count; i++)
        {
            var (eventId, eventHash, leafIndex, _) = entries[i];
            var key = keys[i] = EventKey.For(eventId, options.Partitions);
            if (!byBucket.TryGetValue((key.Partition, key.IndexPartitionKey), out var actions))
            {
                byBucket[(key.Partition, key.IndexPartitionKey)] = actions = [];
            }

            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(key.IndexPartitionKey, key.IndexRowKey, new Dictionary<string, object>
            {
                ["EventHash"] = eventHash.ToArray(),
                ["Chain"] = (long)partition,
                ["Height"] = height,
                ["LeafIndex"] = leafIndex,
                ["BlockHash"] = blockHashBytes,
            })));
        }

        foreach (var ((shard, _), actions) in byBucket)
        {
            var index = tables.EventIndex(shard);
            for (var i = 0; i < actions.Count; i += 100)
            {
                await index.SubmitTransactionAsync(actions.GetRange(i, Math.Min(100, actions.Count - i)), cancellationToken).ConfigureAwait(false);
            }
        }

        await termsWritten.ConfigureAwait(false);
        foreach (var key in keys)
        {
            sealedEvents.Add(key);
        }

        // The term rows now say what the claims said.
        foreach (var (_, eventId, eventTerms) in termRows)
        {
            consistency.Release(eventId, eventTerms);
        }
    }

    private Task WriteHeadHintAsync(ChainHead head, CancellationToken cancellationToken) =>
        tables.Chains.UpsertEntityAsync(new TableEntity(LedgerTables.ChainsPartition, head.ChainId, new Dictionary<string, object>
        {
            ["Height"] = head.Height,
            ["BlockHash"] = head.BlockHash.ToHex(),
            ["LeafCount"] = head.LeafCount,
            ["LogTo"] = head.NextSequenceNumber,
            ["TotalEntries"] = head.TotalEntries,
        }), TableUpdateMode.Replace, cancellationToken);
}
