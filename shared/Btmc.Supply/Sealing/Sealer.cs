using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Tables;
using Btmc.Supply.Capture;
using Btmc.Supply.Query;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Sealing;

/// <summary>A block this sealer committed.</summary>
public sealed record BlockSealed(string ChainId, long Height, int Entries, int Duplicates, long NextSequenceNumber);

/// <summary>One accepted event as delivered to a sealer: its position on its stream partition, and the event.</summary>
public sealed record DeliveredEvent(long SequenceNumber, EventRecord Record);

/// <summary>What a <see cref="Sealer.SealAsync"/> call did: the blocks it committed and the events it skipped because
/// they were sealed already (a redelivery, a second capture, or another sealer's work).</summary>
public sealed record SealOutcome(IReadOnlyList<BlockSealed> Blocks, int Duplicates);

/// <summary>
/// Integration, the core of sealing: extends one chain (one partition of the supply-events stream) with signed
/// blocks of the events delivered to it, whoever delivers them — the embedded log (<see cref="LogSealer"/>) or the
/// Event Hubs trigger (<see cref="SupplyBackend.SealDeliveredAsync"/>).
/// <para>
/// Crash safety (docs/storage-layout.md): entries are written first, then the block row — the commit point, inserted
/// so that a second writer of the same height loses with 409 — then the event index, the term index and the head
/// hint. Entries of an attempt that never committed sit in a partition named by that attempt's block hash, which no
/// committed block names. Before sealing, and again after any fault or lost height, the sealer reads the head from
/// the block rows and re-applies the head block's indexes, so every committed block's events are findable before
/// anything new is sealed.
/// </para>
/// <para>
/// Exactly once: an event is sealed unless the event index already holds it. Delivery is at least once (a crash
/// before the checkpoint, a batch redelivered, two sealers during a lease handover), so each event is looked up —
/// except, on the embedded log with one sealer per chain, an event that still has this process's pending
/// registration, which proves it unsealed (<paramref name="soleSealer"/>). A sealer that loses a height to another
/// re-reads the head and looks every event up again, then seals what is left: the chain never forks and no event
/// is sealed twice.
/// </para>
/// <para>
/// Producer schedule (docs/dpos.md): a block is sealed in the first slot after the chain's last block whose producer's
/// key this process holds, stamped with that slot's start and signed by that producer — at most one block per slot.
/// </para>
/// </summary>
/// <param name="soleSealer">True when this process's state (pending registrations, the sealed-event filter) sees every
/// seal of this chain: the embedded log. False on Event Hubs, where other instances seal too.</param>
/// <param name="logId">The embedded event log the delivered sequence numbers belong to, recorded in each block row
/// beside its log range; null on Event Hubs.</param>
public sealed class Sealer(int partition, SupplyOptions options, SupplyReader reader, ChainStore store, BlockScheduler scheduler, PendingEvents pending, SealedEventFilter sealedEvents, TermIndex terms, bool soleSealer, string? logId = null)
{
    /// <summary>How many heights in a row one call may lose to other sealers before it gives up with an error.</summary>
    public const int MaxLostHeights = 64;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SupplyTables tables = reader.Tables;
    private ChainHead? _head;
    private ChainSchedule? _schedule;
    private bool _recovered;

    public string ChainId { get; } = options.ChainId(partition);

    public int Partition => partition;

    /// <summary>The head as this sealer last knew it; null before recovery or on an empty chain.</summary>
    public ChainHead? Head => _head;

    /// <summary>Finds the chain head and re-applies the head block's indexes.</summary>
    public async Task RecoverAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RecoverHeldAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Waits until this chain's next slot that this process can sign has begun, so that a caller which reads its batch
    /// afterwards puts everything that arrived meanwhile into that slot's block.
    /// </summary>
    public async Task WaitForSlotAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_recovered)
            {
                await RecoverHeldAsync(cancellationToken).ConfigureAwait(false);
            }

            _ = await scheduler.WaitForTurnAsync(_schedule!, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Seals the events, in order, into as many blocks of at most SealMaxEvents as needed, skipping those sealed
    /// already. After a fault the next call starts again from the stored chain head; calls are serialized.
    /// </summary>
    public async Task<SealOutcome> SealAsync(IReadOnlyList<DeliveredEvent> events, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_recovered)
            {
                await RecoverHeldAsync(cancellationToken).ConfigureAwait(false);
            }

            var blocks = new List<BlockSealed>();
            var duplicates = 0;
            for (var at = 0; at < events.Count; at += options.SealMaxEvents)
            {
                var slice = events.Skip(at).Take(options.SealMaxEvents).ToList();
                var trustPending = soleSealer;
                for (var lost = 0; ; lost++)
                {
                    var (block, skipped, committed) = await SealSliceAsync(slice, trustPending, cancellationToken).ConfigureAwait(false);
                    if (committed)
                    {
                        duplicates += skipped;
                        if (block is not null)
                        {
                            blocks.Add(block);
                        }

                        break;
                    }

                    // Another sealer committed this height first: follow its chain, and look every event up again
                    // (its block may hold some of them, and their pending registrations may not be gone yet).
                    if (lost == MaxLostHeights)
                    {
                        throw new InvalidOperationException($"The sealer of {ChainId} lost {MaxLostHeights} heights in a row to other sealers.");
                    }

                    trustPending = false;
                    await RecoverHeldAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            return new SealOutcome(blocks, duplicates);
        }
        catch
        {
            _recovered = false;
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RecoverHeldAsync(CancellationToken cancellationToken)
    {
        _recovered = false;
        _head = await store.Reader.FindHeadAsync(ChainId, cancellationToken).ConfigureAwait(false);
        _schedule = await store.FollowAsync(scheduler.Rules, ChainId, _head, cancellationToken).ConfigureAwait(false);
        if (_head is not null)
        {
            var entries = await store.Reader.ReadEntriesAsync(ChainId, _head.Height, _head.BlockHash, _head.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
            await WriteIndexAsync(entries.Select(e => (e.EventId, e.EventHash, e.LeafIndex, e.Event)).ToList(), _head.Height, _head.BlockHash, cancellationToken).ConfigureAwait(false);
            await store.WriteHeadHintAsync(_head, cancellationToken).ConfigureAwait(false);

            // A fault between the commit and the end of the seal left the block's events registered as pending; they
            // are findable now, and no later read of the log returns them (sealing resumes after the block's range).
            foreach (var entry in entries)
            {
                if (pending.TryGet(entry.EventId, out var registration) && registration.EventHash == entry.EventHash)
                {
                    pending.Remove(registration);
                }
            }
        }

        _recovered = true;
    }

    /// <summary>One block of the slice's unsealed events; committed false when another sealer took the height.</summary>
    private async Task<(BlockSealed? Block, int Duplicates, bool Committed)> SealSliceAsync(List<DeliveredEvent> slice, bool trustPending, CancellationToken cancellationToken)
    {
        var from = slice[0].SequenceNumber;
        var next = slice[^1].SequenceNumber + 1;
        var candidates = new List<DeliveredEvent>(slice.Count);
        var inBatch = new HashSet<string>(StringComparer.Ordinal);
        foreach (var delivered in slice)
        {
            if (inBatch.Add(delivered.Record.EventId))
            {
                candidates.Add(delivered);
            }
        }

        var sealedBefore = await FindSealedAsync(candidates, trustPending, cancellationToken).ConfigureAwait(false);
        var kept = new List<DeliveredEvent>(candidates.Count);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (sealedBefore[i])
            {
                // The same event (same hash ID) is sealed already, perhaps in another serialisation: the first stays.
                pending.Remove(candidates[i].Record.EventId);
            }
            else
            {
                kept.Add(candidates[i]);
            }
        }

        var duplicates = slice.Count - kept.Count;
        if (kept.Count == 0)
        {
            return (null, duplicates, true);
        }

        var turn = await scheduler.WaitForTurnAsync(_schedule!, cancellationToken).ConfigureAwait(false);

        var height = (_head?.Height ?? -1) + 1;
        var rows = kept.Select(k => new EntryRow(
            k.Record.EventId, k.Record.EventHash, k.Record.Json, k.Record.CaptureId, k.Record.Partner, k.Record.ReceivedAt, k.SequenceNumber, k.Record.Signed)).ToList();
        var leaves = new Hash32[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            leaves[i] = rows[i].Leaf.ComputeLeafHash();
        }

        var header = new BlockHeader(
            BlockHeader.CurrentVersion, ChainId, height, _head?.BlockHash ?? Hash32.Zero, MerkleTree.ComputeRoot(leaves),
            kept.Count, turn.SlotTime, turn.Producer.ProducerId, turn.Key.KeyId);
        var blockHash = header.ComputeHash();

        // Two signatures per block, the header's and the checkpoint's: with Key Vault each is a round trip, so they
        // go out together, and the entries are written meanwhile.
        var signing = turn.Key.SignDigestAsync(blockHash, cancellationToken);
        var checkpointing = store.Checkpoints.SignAsync(_head, header, blockHash, leaves, turn, cancellationToken);
        var writing = WriteAsync();
        await Task.WhenAll(signing, checkpointing, writing).ConfigureAwait(false);
        var signature = await signing.ConfigureAwait(false);
        var checkpoint = await checkpointing.ConfigureAwait(false);

        async Task WriteAsync()
        {
            await store.PublishKeyAsync(turn, cancellationToken).ConfigureAwait(false);
            await store.WriteEntriesAsync(ChainId, height, blockHash, rows, cancellationToken).ConfigureAwait(false);
        }
        var totalEntries = (_head?.TotalEntries ?? 0) + kept.Count;
        if (!await store.TryCommitAsync(header, blockHash, signature, from, next, totalEntries, logId, checkpoint, cancellationToken).ConfigureAwait(false))
        {
            return (null, 0, false);
        }

        _schedule!.Follow(turn.Slot, signature);
        _head = new ChainHead(ChainId, height, blockHash, kept.Count, next, totalEntries, logId);
        await WriteIndexAsync(kept.Select((k, i) => (k.Record.EventId, k.Record.EventHash, (long)i, k.Record.Json)).ToList(), height, blockHash, cancellationToken).ConfigureAwait(false);
        await store.WriteHeadHintAsync(_head, cancellationToken).ConfigureAwait(false);
        foreach (var delivered in kept)
        {
            pending.Remove(delivered.Record.EventId);
        }

        return (new BlockSealed(ChainId, height, kept.Count, duplicates, next), duplicates, true);
    }

    /// <summary>
    /// Which events the event index holds already. With <paramref name="trustPending"/>, an event whose pending
    /// registration is this very event is unsealed without a read (see CaptureService), and the sealed-event filter
    /// answers "certainly not" for the rest where it can; otherwise every event is read, several at a time.
    /// </summary>
    private async Task<bool[]> FindSealedAsync(List<DeliveredEvent> events, bool trustPending, CancellationToken cancellationToken)
    {
        var found = new bool[events.Count];
        var toRead = new List<int>();
        for (var i = 0; i < events.Count; i++)
        {
            var record = events[i].Record;
            if (trustPending && ((pending.TryGet(record.EventId, out var registration) && registration.EventHash == record.EventHash)
                || !sealedEvents.MightContain(EventKey.For(record.EventId, options.Partitions))))
            {
                continue;
            }

            toRead.Add(i);
        }

        await Parallel.ForEachAsync(toRead, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
            found[i] = await reader.FindSealedAsync(EventKey.For(events[i].Record.EventId, options.Partitions), ct).ConfigureAwait(false) is not null).ConfigureAwait(false);
        return found;
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
            await TableTransactions.SubmitAsync(tables.EventIndex(shard), actions, cancellationToken).ConfigureAwait(false);
        }

        await termsWritten.ConfigureAwait(false);
        foreach (var key in keys)
        {
            sealedEvents.Add(key);
        }
    }
}
