using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Tables;

namespace Btmc.Chains;

/// <summary>One ledger entry as written: the leaf's fields, the stored record, where it came from, and the partner's
/// signature over the capture document when the capture was signed.</summary>
public sealed record EntryRow(string EventId, Hash32 EventHash, ReadOnlyMemory<byte> Event, string CaptureId, string Partner, DateTimeOffset ReceivedAt, long SequenceNumber, SignedCapture? Signed = null)
{
    /// <summary>The ledger leaf: format 0x03 with the capture attestation when signed, else 0x02.</summary>
    public LedgerEntry Leaf => new(EventId, EventHash, Partner, Signed?.ComputeAttestation());
}

/// <summary>
/// Writing a chain's blocks into the ledger tables (docs/storage-layout.md, "Writing a block"): entries first, then
/// the block row — the commit point, which a second writer of the same height loses with 409 — then the head hint.
/// Shared by the supply chains' sealers and the governance chain.
/// </summary>
public sealed class ChainStore(ChainReader reader)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _publishedKeys = new(StringComparer.Ordinal);

    public ChainTables Tables => reader.Tables;

    /// <summary>Refuses commits while the stored chains are behind or off what witnesses cosigned; null: no guard.</summary>
    public RollbackGuard? Guard { get; set; }

    /// <summary>The chain-wide trees and the checkpoints each block commits.</summary>
    public ChainCheckpoints Checkpoints { get; } = new(reader);

    public ChainReader Reader => reader;

    /// <summary>The cosignatures witnesses posted (docs/witnesses.md).</summary>
    public WitnessCosignatures Cosignatures { get; } = new(reader.Tables);

    /// <summary>Writes a block's entries into the partition named by its hash (upserts, in transactions that fit the store's limits).</summary>
    public async Task WriteEntriesAsync(string chainId, long height, Hash32 blockHash, IReadOnlyList<EntryRow> entries, CancellationToken cancellationToken)
    {
        var partitionKey = ChainTables.EntriesPartition(chainId, height, blockHash);
        var actions = new List<TableTransactionAction>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var properties = new Dictionary<string, object>
            {
                ["EventId"] = entry.EventId,
                ["EventHash"] = entry.EventHash.ToArray(),
                ["Event"] = entry.Event.ToArray(),
                ["CaptureId"] = entry.CaptureId,
                ["Partner"] = entry.Partner,
                ["ReceivedAt"] = entry.ReceivedAt,
                ["SequenceNumber"] = entry.SequenceNumber,
            };
            if (entry.Signed is { } signed)
            {
                ChainReader.WriteSignature(properties, signed);
            }

            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partitionKey, ChainTables.LeafKey(i), properties)));
        }

        await TableTransactions.SubmitAsync(Tables.Entries, actions, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Seals <paramref name="entries"/> as the block after <paramref name="head"/> in <paramref name="turn"/>'s slot:
    /// builds and signs the header, publishes the key, writes the entries and commits the block row. Returns the
    /// committed block, or null when another writer took the height first or <paramref name="mayCommit"/>, asked just
    /// before the commit, says no. For chains of records (governance, compute); the supply sealer does the same steps
    /// around its lookups and indexes.
    /// </summary>
    public async Task<StoredBlock?> AppendAsync(string chainId, ChainHead? head, SlotTurn turn, IReadOnlyList<EntryRow> entries, CancellationToken cancellationToken, Func<bool>? mayCommit = null)
    {
        var height = (head?.Height ?? -1) + 1;
        var leaves = entries.Select(e => e.Leaf.ComputeLeafHash()).ToArray();
        var header = new BlockHeader(BlockHeader.CurrentVersion, chainId, height, head?.BlockHash ?? Hash32.Zero,
            MerkleTree.ComputeRoot(leaves), leaves.Length, turn.SlotTime, turn.Producer.ProducerId, turn.Key.KeyId);
        var blockHash = header.ComputeHash();
        var signing = turn.Key.SignDigestAsync(blockHash, cancellationToken);
        var checkpointing = Checkpoints.SignAsync(head, header, blockHash, leaves, turn, cancellationToken);
        var writing = WriteAsync();
        await Task.WhenAll(signing, checkpointing, writing).ConfigureAwait(false);
        var signature = await signing.ConfigureAwait(false);
        var checkpoint = await checkpointing.ConfigureAwait(false);

        async Task WriteAsync()
        {
            await PublishKeyAsync(turn, cancellationToken).ConfigureAwait(false);
            await WriteEntriesAsync(chainId, height, blockHash, entries, cancellationToken).ConfigureAwait(false);
        }
        var total = (head?.TotalEntries ?? 0) + leaves.Length;
        return (mayCommit?.Invoke() ?? true) && await TryCommitAsync(header, blockHash, signature, 0, 0, total, null, checkpoint, cancellationToken).ConfigureAwait(false)
            ? new StoredBlock(header, signature, blockHash, 0, 0, total, Frontier: checkpoint.Frontier.Encode(), Checkpoint: checkpoint.Note)
            : null;
    }

    /// <summary>
    /// Publishes the public key of the producer about to sign a block (PK "keys", RK its key id), once per process, so
    /// that every committed block's key can be found by the key id in its header (receipts carry it).
    /// </summary>
    public async Task PublishKeyAsync(SlotTurn turn, CancellationToken cancellationToken)
    {
        if (_publishedKeys.ContainsKey(turn.Key.KeyId))
        {
            return;
        }

        await Tables.ProducerKeys.UpsertEntityAsync(new TableEntity(ChainTables.KeysPartition, turn.Key.KeyId, new Dictionary<string, object>
        {
            ["ProducerId"] = turn.Producer.ProducerId,
            ["Jwk"] = System.Text.Json.JsonSerializer.Serialize(turn.Key.PublicKey),
        }), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        _publishedKeys[turn.Key.KeyId] = true;
    }

    /// <summary>
    /// Inserts the block row; false when another writer committed this height first. Beside the signed header it
    /// records the log range the block consumed (<paramref name="from"/> to <paramref name="next"/> in the event log
    /// <paramref name="logId"/>, null when the events did not come from an embedded log) and the chain's entry count
    /// <paramref name="totalEntries"/> up to this block, so that the head is whole from this one row; and the block's
    /// <paramref name="checkpoint"/>, so that a committed block and its signed checkpoint are one write.
    /// </summary>
    public async Task<bool> TryCommitAsync(BlockHeader header, Hash32 blockHash, byte[] signature, long from, long next, long totalEntries, string? logId, BlockCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (checkpoint.Frontier.Size != totalEntries)
        {
            throw new ArgumentException($"The checkpoint covers {checkpoint.Frontier.Size} entries; the block ends at {totalEntries}.", nameof(checkpoint));
        }

        Guard?.ThrowIfRefused(header.ChainId, totalEntries - header.LeafCount, checkpoint.PreviousRoot);

        var properties = new Dictionary<string, object>
        {
            ["Header"] = header.Encode(),
            ["Signature"] = signature,
            ["BlockHash"] = blockHash.ToHex(),
            ["LeafCount"] = header.LeafCount,
            ["LogFrom"] = from,
            ["LogTo"] = next,
            ["TotalEntries"] = totalEntries,
            [ChainCheckpoints.FrontierProperty] = checkpoint.Frontier.Encode(),
            [ChainCheckpoints.CheckpointProperty] = checkpoint.Note,
        };
        if (logId is not null)
        {
            properties["LogId"] = logId;
        }

        var row = new TableEntity(header.ChainId, ChainTables.HeightKey(header.Height), properties);
        try
        {
            await Tables.Blocks.AddEntityAsync(row, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TableStoreException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public Task WriteHeadHintAsync(ChainHead head, CancellationToken cancellationToken) =>
        Tables.Heads.UpsertEntityAsync(new TableEntity(ChainTables.HeadsPartition, head.ChainId, new Dictionary<string, object>
        {
            ["Height"] = head.Height,
            ["BlockHash"] = head.BlockHash.ToHex(),
            ["LeafCount"] = head.LeafCount,
            ["LogTo"] = head.NextSequenceNumber,
            ["TotalEntries"] = head.TotalEntries,
        }), TableUpdateMode.Replace, cancellationToken);

    /// <summary>
    /// A schedule that follows the chain from its head: the head block's slot and signature, and the signature of the
    /// last block before the head's round (read back at most one round of blocks).
    /// </summary>
    /// <exception cref="InvalidOperationException">A block is not at a slot start: the chain was not sealed under the schedule.</exception>
    public async Task<ChainSchedule> FollowAsync(DposRules rules, string chainId, ChainHead? head, CancellationToken cancellationToken)
    {
        var schedule = new ChainSchedule(rules, chainId);
        if (head is null)
        {
            return schedule;
        }

        var block = await reader.GetBlockAsync(chainId, head.Height, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Block {head.Height} of {chainId} is missing.");
        var slot = SlotOf(rules, block);
        var round = rules.Clock.RoundOf(slot);
        var seed = Array.Empty<byte>();
        for (var height = head.Height - 1; height >= 0; height--)
        {
            var earlier = await reader.GetBlockAsync(chainId, height, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Block {height} of {chainId} is missing.");
            if (rules.Clock.RoundOf(SlotOf(rules, earlier)) < round)
            {
                seed = earlier.Signature;
                break;
            }
        }

        schedule.Resume(slot, block.Signature, seed);
        return schedule;
    }

    private static long SlotOf(DposRules rules, StoredBlock block) =>
        rules.Clock.SlotOf(block.Header.SlotTime)
        ?? throw new InvalidOperationException($"Block {block.Header.Height} of {block.Header.ChainId} has slot time {block.Header.SlotTime:O}, not a slot start: the chain was not sealed under this ledger's producer schedule.");
}
