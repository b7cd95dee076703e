using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Capture;

namespace Btmc.Supply.Storage;

/// <summary>A sealed event's position and hash, from the event index.</summary>
public readonly record struct SealedRef(LedgerPosition Position, Hash32 BlockHash, Hash32 EventHash);

/// <summary>An event as captured, with its ledger position once sealed.</summary>
public sealed record EventView(string EventId, Hash32 EventHash, string Status, ReadOnlyMemory<byte> Event, string CaptureId, string Partner, DateTimeOffset ReceivedAt, LedgerPosition? Position, SignedCapture? Signed = null);

/// <summary>What became of a capture; <see cref="Signed"/> is the partner's signature over the document when it was signed.</summary>
public sealed record CaptureStatus(string CaptureId, string Partner, DateTimeOffset ReceivedAt, int EventCount, int Sealed, int Pending, IReadOnlyList<string> EventIds, IReadOnlyList<string> Errors, IReadOnlyList<string> UnsealedEventIds, SignedCapture? Signed = null);

/// <summary>
/// Publishing's read side: events, captures, blocks, chain heads and receipts, answered from the table store and,
/// for accepted events not yet sealed, from <see cref="PendingEvents"/>.
/// </summary>
public sealed class SupplyReader(SupplyOptions options, SupplyTables tables, PendingEvents pending)
{
    public SupplyTables Tables => tables;

    /// <summary>The blocks, entries and producer keys of every chain.</summary>
    public ChainReader Chain { get; } = new(tables.Chain);

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
            if (await Chain.GetEntryAsync(p.ChainId, p.Height, sealedRef.BlockHash, p.LeafIndex, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                return new EventView(eventId, entry.EventHash, "sealed", entry.Event, entry.CaptureId, entry.Partner, entry.ReceivedAt, p, entry.Signed);
            }
        }

        return pending.TryGet(eventId, out var waiting)
            ? new EventView(eventId, waiting.EventHash, "pending", waiting.Json, waiting.CaptureId, waiting.Partner, waiting.ReceivedAt, null, EventRecord.Decode(waiting.Record).Signed)
            : null;
    }

    /// <summary>The event ids of a recorded capture, or null when no such capture was recorded.</summary>
    public async Task<IReadOnlyList<string>?> GetCaptureEventIdsAsync(string captureId, CancellationToken cancellationToken = default)
    {
        var rows = await ReadCaptureRowsAsync(captureId, cancellationToken).ConfigureAwait(false);
        return rows.Any(r => r.RowKey == SupplyTables.CaptureSummaryRow) ? EventIdsOf(rows) : null;
    }

    public async Task<CaptureStatus?> GetCaptureStatusAsync(string captureId, CancellationToken cancellationToken = default)
    {
        var rows = await ReadCaptureRowsAsync(captureId, cancellationToken).ConfigureAwait(false);
        var summary = rows.FirstOrDefault(r => r.RowKey == SupplyTables.CaptureSummaryRow);
        if (summary is null)
        {
            return null;
        }

        var ids = EventIdsOf(rows);
        var lookups = await Task.WhenAll(ids.Select(id => FindSealedAsync(id, cancellationToken))).ConfigureAwait(false);
        var sealedCount = lookups.Count(l => l is not null);
        var errors = rows.Where(r => r.RowKey.StartsWith("error-", StringComparison.Ordinal)).Select(r => r.GetString("Detail")).ToList();
        return new CaptureStatus(captureId, summary.GetString("Partner"), (DateTimeOffset)summary.Properties["ReceivedAt"], (int)summary.GetInt64("EventCount"),
            sealedCount, ids.Count - sealedCount - errors.Count, ids, errors, ids.Where((_, i) => lookups[i] is null).ToList(), ChainReader.ReadSignature(summary));
    }

    /// <summary>Every supply chain's head, in chain order; the chains are read side by side (a few point reads each).</summary>
    public async Task<IReadOnlyList<ChainHead>> ListChainsAsync(CancellationToken cancellationToken = default)
    {
        var heads = await Task.WhenAll(Enumerable.Range(0, options.Partitions)
            .Select(p => Chain.FindHeadAsync(options.ChainId(p), cancellationToken))).ConfigureAwait(false);
        return heads.OfType<ChainHead>().ToList();
    }

    private Task<List<TableEntity>> ReadCaptureRowsAsync(string captureId, CancellationToken cancellationToken) =>
        tables.Captures.QueryListAsync(new TableQuery(captureId), cancellationToken);

    private static List<string> EventIdsOf(List<TableEntity> rows) =>
        [.. LongText.Join(rows, SupplyTables.CaptureIdsRowPrefix, "EventIds").Split('\n', StringSplitOptions.RemoveEmptyEntries)];
}
