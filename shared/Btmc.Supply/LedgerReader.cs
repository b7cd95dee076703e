using System.Collections.Concurrent;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Platform.Tables;

namespace Btmc.Supply;

/// <summary>A sealed event's position and hash, from the event index.</summary>
public readonly record struct SealedRef(LedgerPosition Position, Hash32 BlockHash, Hash32 EventHash);

/// <summary>One entry of a block as stored.</summary>
public sealed record StoredEntry(long LeafIndex, string EventId, Hash32 EventHash, ReadOnlyMemory<byte> Event, string CaptureId, string Partner, DateTimeOffset ReceivedAt);

/// <summary>
/// One committed block as stored: the signed header, and beside it the log range it consumed ([<see cref="LogFrom"/>,
/// <see cref="LogTo"/>) of the event log <see cref="LogId"/>), the chain's entry count up to and including it, and when
/// the row was committed.
/// </summary>
public sealed record StoredBlock(BlockHeader Header, byte[] Signature, Hash32 BlockHash, long LogFrom, long LogTo, long? TotalEntries = null, string? LogId = null, DateTimeOffset? CommittedAt = null);

/// <summary>An event as captured, with its ledger position once sealed.</summary>
public sealed record EventView(string EventId, Hash32 EventHash, string Status, ReadOnlyMemory<byte> Event, string CaptureId, string Partner, DateTimeOffset ReceivedAt, LedgerPosition? Position);

/// <summary>What became of a capture.</summary>
public sealed record CaptureStatus(string CaptureId, string Partner, DateTimeOffset ReceivedAt, int EventCount, int Sealed, int Pending, IReadOnlyList<string> EventIds, IReadOnlyList<string> Errors, IReadOnlyList<string> UnsealedEventIds);

/// <summary>
/// Publishing's read side: events, captures, blocks, chain heads and receipts, answered from the table store and,
/// for accepted events not yet sealed, from <see cref="PendingEvents"/>.
/// </summary>
public sealed class LedgerReader(SupplyOptions options, LedgerTables tables, PendingEvents pending)
{
    public LedgerTables Tables => tables;

    private readonly ConcurrentDictionary<string, EcPublicJwk> _keys = new(StringComparer.Ordinal);

    public Task<SealedRef?> FindSealedAsync(string eventId, CancellationToken cancellationToken = default) =>
        FindSealedAsync(EventKey.For(eventId, options.Partitions), cancellationToken);

    public async Task<SealedRef?> FindSealedAsync(EventKey key, CancellationToken cancellationToken = default)
    {
        var row = await tables.EventIndex(key.Partition).GetEntityIfExistsAsync(key.IndexPartitionKey, key.IndexRowKey, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        return new SealedRef(
            new LedgerPosition(options.ChainId((int)row.GetInt64("Chain")), row.GetInt64("Height"), row.GetInt64("LeafIndex")),
            new Hash32(row.GetBinary("BlockHash")),
            new Hash32(row.GetBinary("EventHash")));
    }

    public async Task<EventView?> GetEventAsync(string eventId, CancellationToken cancellationToken = default)
    {
        var found = await FindSealedAsync(eventId, cancellationToken).ConfigureAwait(false);
        if (found is { } sealedRef)
        {
            var p = sealedRef.Position;
            var row = await tables.Entries.GetEntityIfExistsAsync(LedgerTables.EntriesPartition(p.ChainId, p.Height, sealedRef.BlockHash), LedgerTables.LeafKey(p.LeafIndex), cancellationToken).ConfigureAwait(false);
            if (row is not null)
            {
                var entry = ToEntry(row);
                return new EventView(eventId, entry.EventHash, "sealed", entry.Event, entry.CaptureId, entry.Partner, entry.ReceivedAt, p);
            }
        }

        return pending.TryGet(eventId, out var waiting)
            ? new EventView(eventId, waiting.EventHash, "pending", waiting.Json, waiting.CaptureId, waiting.Partner, waiting.ReceivedAt, null)
            : null;
    }

    /// <summary>The event ids of a recorded capture, or null when no such capture was recorded.</summary>
    public async Task<IReadOnlyList<string>?> GetCaptureEventIdsAsync(string captureId, CancellationToken cancellationToken = default)
    {
        var rows = await ReadCaptureRowsAsync(captureId, cancellationToken).ConfigureAwait(false);
        return rows.Any(r => r.RowKey == LedgerTables.CaptureSummaryRow) ? EventIdsOf(rows) : null;
    }

    public async Task<CaptureStatus?> GetCaptureStatusAsync(string captureId, CancellationToken cancellationToken = default)
    {
        var rows = await ReadCaptureRowsAsync(captureId, cancellationToken).ConfigureAwait(false);
        var summary = rows.FirstOrDefault(r => r.RowKey == LedgerTables.CaptureSummaryRow);
        if (summary is null)
        {
            return null;
        }

        var ids = EventIdsOf(rows);
        var lookups = await Task.WhenAll(ids.Select(id => FindSealedAsync(id, cancellationToken))).ConfigureAwait(false);
        var sealedCount = lookups.Count(l => l is not null);
        var errors = rows.Where(r => r.RowKey.StartsWith("error-", StringComparison.Ordinal)).Select(r => r.GetString("Detail")).ToList();
        return new CaptureStatus(captureId, summary.GetString("Partner"), (DateTimeOffset)summary.Properties["ReceivedAt"], (int)summary.GetInt64("EventCount"),
            sealedCount, ids.Count - sealedCount - errors.Count, ids, errors, ids.Where((_, i) => lookups[i] is null).ToList());
    }

    /// <summary>
    /// The chain's last committed block, read from the block rows. The head hint only says which height to look at
    /// first: a hint that is behind (written before a crash), ahead (restored from another backup than the blocks) or
    /// wrong must not move the head, because the head decides the next height and the log position sealing resumes
    /// from. Block rows are contiguous from height 0 (the row insert is the commit), so the last one is found by
    /// probing from the hinted height: forward in doubling steps, back by halving (a few reads when the hint is
    /// right, O(log n) when it is wrong).
    /// </summary>
    public async Task<ChainHead?> FindHeadAsync(string chainId, CancellationToken cancellationToken = default)
    {
        var hint = await tables.Chains.GetEntityIfExistsAsync(LedgerTables.ChainsPartition, chainId, cancellationToken).ConfigureAwait(false);
        var hinted = hint?.Properties.TryGetValue("Height", out var h) == true && h is long height && height >= 0 ? height : -1;

        // Invariant: height `known` exists (or is -1, before the chain) and height `missing` does not.
        var known = -1L;
        StoredBlock? last = null;
        long missing;
        if (hinted >= 0 && await GetBlockAsync(chainId, hinted, cancellationToken).ConfigureAwait(false) is { } atHint)
        {
            (known, last) = (hinted, atHint);
            missing = -1;
        }
        else
        {
            missing = hinted >= 0 ? hinted : -1;
        }

        if (missing < 0)
        {
            for (var step = 1L; ; step *= 2)
            {
                if (await GetBlockAsync(chainId, known + step, cancellationToken).ConfigureAwait(false) is not { } ahead)
                {
                    missing = known + step;
                    break;
                }

                (known, last) = (known + step, ahead);
            }
        }

        while (missing - known > 1)
        {
            var middle = known + ((missing - known) / 2);
            if (await GetBlockAsync(chainId, middle, cancellationToken).ConfigureAwait(false) is { } found)
            {
                (known, last) = (middle, found);
            }
            else
            {
                missing = middle;
            }
        }

        return last is null ? null : new ChainHead(chainId, last.Header.Height, last.BlockHash, last.Header.LeafCount, last.LogTo,
            last.TotalEntries ?? await CountEntriesAsync(chainId, last.Header.Height, cancellationToken).ConfigureAwait(false), last.LogId);
    }

    /// <summary>The entries of blocks 0 to <paramref name="height"/>, added up: for block rows written before they carried the count.</summary>
    private async Task<long> CountEntriesAsync(string chainId, long height, CancellationToken cancellationToken)
    {
        long total = 0;
        await foreach (var block in ReadBlocksAsync(chainId, cancellationToken).ConfigureAwait(false))
        {
            if (block.Header.Height > height)
            {
                break;
            }

            total += block.Header.LeafCount;
        }

        return total;
    }

    /// <summary>Every supply chain's head, in chain order; the chains are read side by side (a few point reads each).</summary>
    public async Task<IReadOnlyList<ChainHead>> ListChainsAsync(CancellationToken cancellationToken = default)
    {
        var heads = await Task.WhenAll(Enumerable.Range(0, options.Partitions)
            .Select(p => FindHeadAsync(options.ChainId(p), cancellationToken))).ConfigureAwait(false);
        return heads.OfType<ChainHead>().ToList();
    }

    public async Task<StoredBlock?> GetBlockAsync(string chainId, long height, CancellationToken cancellationToken = default)
    {
        if (height < 0)
        {
            return null;
        }

        var row = await tables.Blocks.GetEntityIfExistsAsync(chainId, LedgerTables.HeightKey(height), cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToBlock(row);
    }

    /// <summary>Blocks of a chain in height order, a page at a time.</summary>
    public async IAsyncEnumerable<StoredBlock> ReadBlocksAsync(string chainId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? continuation = null;
        do
        {
            var page = await tables.Blocks.QueryAsync(new TableQuery(chainId, null, null, 1000, continuation), cancellationToken).ConfigureAwait(false);
            foreach (var row in page.Items)
            {
                yield return ToBlock(row);
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
    }

    /// <summary>The first <paramref name="leafCount"/> entries of a block, in leaf order.</summary>
    public async Task<IReadOnlyList<StoredEntry>> ReadEntriesAsync(string chainId, long height, Hash32 blockHash, long leafCount, bool withEvents, CancellationToken cancellationToken = default)
    {
        var entries = new List<StoredEntry>((int)Math.Min(leafCount, 100_000));
        var select = withEvents ? null : new[] { "EventId", "EventHash", "CaptureId", "Partner", "ReceivedAt" };
        string? continuation = null;
        do
        {
            var query = new TableQuery(LedgerTables.EntriesPartition(chainId, height, blockHash), null, LedgerTables.LeafKey(leafCount), 1000, continuation, select);
            var page = await tables.Entries.QueryAsync(query, cancellationToken).ConfigureAwait(false);
            entries.AddRange(page.Items.Select(ToEntry));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return entries;
    }

    public async Task<EcPublicJwk?> GetProducerKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        if (_keys.TryGetValue(keyId, out var cached))
        {
            return cached;
        }

        var row = await tables.ProducerKeys.GetEntityIfExistsAsync(LedgerTables.KeysPartition, keyId, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var key = JsonSerializer.Deserialize<EcPublicJwk>(row.GetString("Jwk")) ?? throw new InvalidOperationException($"Producer key {keyId} is stored empty.");
        return _keys.GetOrAdd(keyId, key);
    }

    public async Task<Receipt?> GetReceiptAsync(string eventId, CancellationToken cancellationToken = default)
    {
        if (await FindSealedAsync(eventId, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return null;
        }

        var p = found.Position;
        var block = await GetBlockAsync(p.ChainId, p.Height, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Event index names {p.ChainId} block {p.Height}, which is not stored.");
        var entries = await ReadEntriesAsync(p.ChainId, p.Height, block.BlockHash, block.Header.LeafCount, withEvents: false, cancellationToken).ConfigureAwait(false);
        if (entries.Count != block.Header.LeafCount || entries[(int)p.LeafIndex].EventId != eventId)
        {
            throw new InvalidOperationException($"{p.ChainId} block {p.Height} does not hold event '{eventId}' at leaf {p.LeafIndex}.");
        }

        var leaves = new Hash32[entries.Count];
        for (var i = 0; i < leaves.Length; i++)
        {
            leaves[i] = new LedgerEntry(entries[i].EventId, entries[i].EventHash, entries[i].Partner).ComputeLeafHash();
        }

        var key = await GetProducerKeyAsync(block.Header.KeyId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Producer key {block.Header.KeyId} is not registered.");
        var entryRow = await tables.Entries.GetEntityIfExistsAsync(LedgerTables.EntriesPartition(p.ChainId, p.Height, block.BlockHash), LedgerTables.LeafKey(p.LeafIndex), cancellationToken).ConfigureAwait(false);
        JsonElement? evt = entryRow is null ? null : JsonDocument.Parse(entryRow.GetBinary("Event")).RootElement.Clone();
        return new Receipt(
            Receipt.CurrentFormat, eventId, found.EventHash.ToHex(), entries[(int)p.LeafIndex].Partner, p.ChainId, p.Height, p.LeafIndex, ReceiptHeader.From(block.Header),
            block.BlockHash.ToHex(), MerkleTree.CreateInclusionProof(leaves, p.LeafIndex).Select(h => h.ToHex()).ToList(),
            new ReceiptSignature(key.Algorithm.ToString(), Convert.ToBase64String(block.Signature)), key, evt);
    }

    private async Task<List<TableEntity>> ReadCaptureRowsAsync(string captureId, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        string? continuation = null;
        do
        {
            var page = await tables.Captures.QueryAsync(new TableQuery(captureId, null, null, 1000, continuation), cancellationToken).ConfigureAwait(false);
            rows.AddRange(page.Items);
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return rows;
    }

    private static List<string> EventIdsOf(List<TableEntity> rows) =>
        rows.Where(r => r.RowKey.StartsWith("ids-", StringComparison.Ordinal))
            .OrderBy(r => r.RowKey, StringComparer.Ordinal)
            .SelectMany(r => r.GetString("EventIds").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .ToList();

    private static StoredBlock ToBlock(TableEntity row)
    {
        var header = BlockHeader.Decode(row.GetBinary("Header"));
        return new StoredBlock(header, row.GetBinary("Signature"), header.ComputeHash(), row.GetInt64("LogFrom"), row.GetInt64("LogTo"),
            row.Properties.ContainsKey("TotalEntries") ? row.GetInt64("TotalEntries") : null,
            row.Properties.TryGetValue("LogId", out var logId) ? logId as string : null, row.Timestamp);
    }

    private static StoredEntry ToEntry(TableEntity row) => new(
        long.Parse(row.RowKey, System.Globalization.CultureInfo.InvariantCulture),
        row.GetString("EventId"),
        new Hash32(row.GetBinary("EventHash")),
        row.Properties.TryGetValue("Event", out var evt) ? (byte[])evt : ReadOnlyMemory<byte>.Empty,
        row.GetString("CaptureId"),
        row.GetString("Partner"),
        (DateTimeOffset)row.Properties["ReceivedAt"]);
}
