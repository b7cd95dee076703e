using Btmc.Ledger;
using Btmc.Platform.Tables;

namespace Btmc.Chains;

/// <summary>
/// One entry's leaf material (docs/ledger-format.md, "Independent verification"): what its leaf hash is computed from
/// — event id, event hash, partner, and the capture attestation of a signed capture — and, for chains of records
/// (governance, compute), the record itself, because the governance chain is replayed to derive the producer
/// schedule. A supply event's body is never part of it.
/// </summary>
public sealed record LeafEntry(long LeafIndex, string EventId, string EventHash, string Partner, string? CaptureAttestation, DateTimeOffset ReceivedAt, byte[]? Record = null);

/// <summary>
/// One committed block as an independent verifier downloads it: the canonical header bytes, the producer's signature,
/// the chain's entry count after it, the chain-wide tree's frontier (its nodes' hashes, hex) and signed checkpoint note when
/// the block has them, and every entry's leaf material. Entries are absent when the verifier asked for headers only.
/// </summary>
public sealed record LeafBlock(long Height, byte[] Header, byte[] Signature, string BlockHash, long? TotalEntries, IReadOnlyList<string>? Frontier, string? Checkpoint, IReadOnlyList<LeafEntry>? Entries);

/// <summary>
/// A page of a chain's blocks (<c>GET /api/ledger/chains/{chainId}/blocks?from=&amp;limit=</c>): whether its entries are
/// records (chains of records) or supply events (leaf material only), the blocks from <see cref="From"/> in height
/// order, the producer keys they name (by key id), and the height to ask for next (null after the head).
/// </summary>
public sealed record LeafPage(string ChainId, bool Records, long From, IReadOnlyList<LeafBlock> Blocks, IReadOnlyDictionary<string, EcPublicJwk> ProducerKeys, long? Next);

/// <summary>Turning stored blocks into leaf material, and writing downloaded leaf material back into the <see cref="ChainTables"/> layout.</summary>
public static class LeafMaterial
{
    /// <summary>A stored block and its entries as leaf material; records only when <paramref name="withRecords"/>.</summary>
    public static LeafBlock From(StoredBlock block, IReadOnlyList<StoredEntry>? entries, bool withRecords)
    {
        ArgumentNullException.ThrowIfNull(block);
        // The stored frontier is its nodes' hashes concatenated: sent as they are stored, 32 bytes a node, so that a
        // damaged one reaches the verifier as it is and its checkpoint trail names the block, as the server's own audit would.
        var frontier = block.Frontier?.Chunk(Hash32.Size).Select(Convert.ToHexStringLower).ToList();

        return new LeafBlock(block.Header.Height, block.Header.Encode(), block.Signature, block.BlockHash.ToHex(), block.TotalEntries, frontier, block.Checkpoint,
            entries?.Select(e => new LeafEntry(e.LeafIndex, e.EventId, e.EventHash.ToHex(), e.Partner, AttestationOf(e)?.ToHex(), e.ReceivedAt, withRecords ? e.Event.ToArray() : null)).ToList());
    }

    /// <summary>The capture attestation of a stored entry; a damaged signature gives none (the leaf then differs, and the verifier names the block).</summary>
    private static Hash32? AttestationOf(StoredEntry entry)
    {
        try
        {
            return entry.Leaf.CaptureAttestation;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Writes a downloaded block into <paramref name="tables"/> as the backend writes it (entries, then the block row,
    /// then the head hint), so that the same <see cref="ChainReader"/> and auditors read it. Nothing is checked here:
    /// the audit that reads the copy afterwards checks everything.
    /// </summary>
    /// <exception cref="FormatException">A hash or frontier node is not hex of the right length.</exception>
    public static async Task WriteAsync(ChainTables tables, string chainId, LeafBlock block, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(block);
        var blockHash = Hash32.FromHex(block.BlockHash);
        var entries = block.Entries ?? [];
        var partition = ChainTables.EntriesPartition(chainId, block.Height, blockHash);
        var actions = new List<TableTransactionAction>(entries.Count);
        foreach (var entry in entries)
        {
            var properties = new Dictionary<string, object>
            {
                ["EventId"] = entry.EventId,
                ["EventHash"] = Hash32.FromHex(entry.EventHash).ToArray(),
                ["Partner"] = entry.Partner,
                ["ReceivedAt"] = entry.ReceivedAt,
            };
            if (entry.Record is { } record)
            {
                properties["Event"] = record;
            }

            if (entry.CaptureAttestation is { } attestation)
            {
                properties[ChainReader.AttestationProperty] = Hash32.FromHex(attestation).ToArray();
            }

            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, ChainTables.LeafKey(entry.LeafIndex), properties)));
        }

        await TableTransactions.SubmitAsync(tables.Entries, actions, cancellationToken).ConfigureAwait(false);

        var row = new Dictionary<string, object>
        {
            ["Header"] = block.Header,
            ["Signature"] = block.Signature,
            ["BlockHash"] = block.BlockHash,
            ["LogFrom"] = 0L,
            ["LogTo"] = 0L,
        };
        if (block.TotalEntries is { } total)
        {
            row["TotalEntries"] = total;
        }

        if (block.Frontier is { } frontier)
        {
            row[ChainCheckpoints.FrontierProperty] = frontier.SelectMany(n => Convert.FromHexString(n)).ToArray();
        }

        if (block.Checkpoint is { } checkpoint)
        {
            row[ChainCheckpoints.CheckpointProperty] = checkpoint;
        }

        await tables.Blocks.UpsertEntityAsync(new TableEntity(chainId, ChainTables.HeightKey(block.Height), row), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        await tables.Heads.UpsertEntityAsync(new TableEntity(ChainTables.HeadsPartition, chainId, new Dictionary<string, object>
        {
            ["Height"] = block.Height,
            ["BlockHash"] = block.BlockHash,
            ["TotalEntries"] = block.TotalEntries ?? 0L,
        }), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the producer keys a page names into <paramref name="tables"/> (PK "keys", RK key id).</summary>
    public static async Task WriteKeysAsync(ChainTables tables, IReadOnlyDictionary<string, EcPublicJwk> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (keyId, key) in keys)
        {
            await tables.ProducerKeys.UpsertEntityAsync(new TableEntity(ChainTables.KeysPartition, keyId, new Dictionary<string, object>
            {
                ["Jwk"] = System.Text.Json.JsonSerializer.Serialize(key),
            }), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The chain id a checkpoint origin (<c>btmc/&lt;deployment&gt;/&lt;chain id&gt;</c>) names; null when it is not one.</summary>
    public static string? ChainOf(string origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        var parts = origin.Split('/', 3);
        return parts is ["btmc", { Length: > 0 }, { Length: > 0 } chainId] ? chainId : null;
    }
}
