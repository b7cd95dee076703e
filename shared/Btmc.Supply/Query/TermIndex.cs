using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Query;

/// <summary>A sealed event that names a term, as the term index records it.</summary>
/// <summary>A sealed event that names a term, as the term index records it; <see cref="Parent"/> is the event's
/// parentID (canonical), if it has one.</summary>
public sealed record TermHit(LedgerPosition Position, Hash32 BlockHash, string EventId, EpcRoles Roles, string EventType, string? Action, DateTimeOffset EventTime, string? Parent);

/// <summary>
/// The term index (docs/epcis-query.md): for every sealed event, one row per identifier it names (in its canonical
/// spelling, <see cref="EventTerms.CanonicalEpc"/>, with its roles) and one row for its own eventID. It answers
/// "which events name this EPC / this eventID" for queries and genealogy, and "what happened to this EPC" for the
/// physical consistency checks.
/// <para>
/// Tables <c>terms{s}</c>, s = the first byte of SHA-256(term key) modulo the chain count, so that a lookup reads one
/// table and the sealers' writes spread over all of them. PartitionKey: the next hex digit of that hash, so a sealer
/// writes a block's rows in at most 16 batches per table and a hot identifier cannot make a hot partition of its own.
/// RowKey: <c>{term key}|{chain:D3}{height:D19}{leaf:D10}</c>, so one term's rows are one key range, in ledger order. Term key: <c>e:</c> + identifier,
/// <c>i:</c> + eventID or <c>b:</c> + business transaction URI, with the characters Table storage forbids in keys (and <c>%</c>, <c>|</c>)
/// percent-encoded; a key longer than <see cref="MaxPlainKeyLength"/> becomes <c>e~</c>/<c>i~</c> + SHA-256 hex,
/// with the whole term kept in the row.
/// </para>
/// </summary>
public sealed class TermIndex(SupplyTables tables, SupplyOptions options)
{
    public const int MaxPlainKeyLength = 480;

    public static string EpcKey(string canonicalEpc) => Key('e', canonicalEpc);

    public static string EventIdKey(string eventId) => Key('i', eventId);

    /// <summary>Writes the rows of one block's entries (idempotent: same rows, same keys).</summary>
    public async Task WriteAsync(int partition, long height, Hash32 blockHash, IReadOnlyList<(long LeafIndex, string EventId, EventTerms Terms)> entries, CancellationToken cancellationToken)
    {
        var byBucket = new Dictionary<(int Shard, string Bucket), List<TableTransactionAction>>();
        var blockHashBytes = blockHash.ToArray();
        foreach (var (leaf, eventId, terms) in entries)
        {
            foreach (var term in terms.Epcs)
            {
                Add(byBucket, Row('e', term.Epc, partition, height, leaf, blockHashBytes, eventId, terms, term.Roles));
            }

            if (terms.OwnEventId is { Length: > 0 } own)
            {
                Add(byBucket, Row('i', own, partition, height, leaf, blockHashBytes, eventId, terms, EpcRoles.None));
            }

            foreach (var transaction in terms.BizTransactions.Select(b => b.Id).Distinct(StringComparer.Ordinal))
            {
                Add(byBucket, Row('b', transaction, partition, height, leaf, blockHashBytes, eventId, terms, EpcRoles.None));
            }
        }

        // The shards are separate tables (separate writers on SQLite): write them side by side.
        await Task.WhenAll(byBucket.GroupBy(b => b.Key.Shard).Select(async shard =>
        {
            var table = tables.Terms(shard.Key);
            foreach (var (_, actions) in shard)
            {
                await TableTransactions.SubmitAsync(table, actions, cancellationToken).ConfigureAwait(false);
            }
        })).ConfigureAwait(false);
    }

    /// <summary>Every sealed event that names the identifier (canonical spelling), in event-time order.</summary>
    public Task<IReadOnlyList<TermHit>> FindEpcAsync(string canonicalEpc, CancellationToken cancellationToken = default) =>
        FindAsync('e', canonicalEpc, cancellationToken);

    /// <summary>Every sealed event whose <c>bizTransactionList</c> names the business transaction <paramref name="uri"/>
    /// (as written), in event-time order (docs/trade.md, "Orders and invoices").</summary>
    public Task<IReadOnlyList<TermHit>> FindBizTransactionAsync(string uri, CancellationToken cancellationToken = default) =>
        FindAsync('b', uri, cancellationToken);

    /// <summary>Every sealed event whose own eventID is <paramref name="eventId"/>, in event-time order.</summary>
    public Task<IReadOnlyList<TermHit>> FindEventIdAsync(string eventId, CancellationToken cancellationToken = default) =>
        FindAsync('i', eventId, cancellationToken);

    private async Task<IReadOnlyList<TermHit>> FindAsync(char kind, string term, CancellationToken cancellationToken)
    {
        var key = Key(kind, term);
        var (shard, bucket) = Place(key, tables.Partitions);
        var hits = new List<TermHit>();
        await foreach (var row in tables.Terms(shard).QueryAllAsync(new TableQuery(bucket, key + "|", key + "}"), cancellationToken).ConfigureAwait(false))
        {
            if (row.Properties.TryGetValue("Term", out var whole) && (string)whole != term)
            {
                continue;
            }

            hits.Add(new TermHit(
                new LedgerPosition(options.ChainId((int)row.GetInt64("Chain")), row.GetInt64("Height"), row.GetInt64("LeafIndex")),
                new Hash32(row.GetBinary("BlockHash")),
                row.GetString("EventId"),
                (EpcRoles)(int)row.GetInt64("Roles"),
                row.GetString("EventType"),
                row.GetString("Action") is { Length: > 0 } action ? action : null,
                (DateTimeOffset)row.Properties["EventTime"],
                row.Properties.TryGetValue("Parent", out var parent) ? (string)parent : null));
        }

        hits.Sort((a, b) =>
        {
            var byTime = a.EventTime.CompareTo(b.EventTime);
            return byTime != 0 ? byTime : ComparePositions(a.Position, b.Position);
        });
        return hits;
    }

    /// <summary>Orders positions by chain, then height, then leaf.</summary>
    public static int ComparePositions(LedgerPosition a, LedgerPosition b)
    {
        var c = string.CompareOrdinal(a.ChainId, b.ChainId);
        if (c == 0)
        {
            c = a.Height.CompareTo(b.Height);
        }

        return c != 0 ? c : a.LeafIndex.CompareTo(b.LeafIndex);
    }

    private (int Shard, string Bucket, TableEntity Entity) Row(char kind, string term, int chain, long height, long leaf, byte[] blockHash, string eventId, EventTerms terms, EpcRoles roles)
    {
        var key = Key(kind, term);
        var properties = new Dictionary<string, object>
        {
            ["Roles"] = (long)roles,
            ["Chain"] = (long)chain,
            ["EventId"] = eventId,
            ["BlockHash"] = blockHash,
            ["Height"] = height,
            ["LeafIndex"] = leaf,
            ["EventType"] = terms.EventType,
            ["Action"] = terms.Action ?? string.Empty,
            ["EventTime"] = terms.EventTime,
        };
        if (key[1] == '~')
        {
            properties["Term"] = term;
        }

        if (terms.Parent is not null)
        {
            properties["Parent"] = terms.Parent;
        }

        var (shard, bucket) = Place(key, tables.Partitions);
        return (shard, bucket, new TableEntity(bucket, string.Create(CultureInfo.InvariantCulture, $"{key}|{chain:D3}{height:D19}{leaf:D10}"), properties));
    }

    private static void Add(Dictionary<(int, string), List<TableTransactionAction>> byBucket, (int Shard, string Bucket, TableEntity Entity) row)
    {
        if (!byBucket.TryGetValue((row.Shard, row.Bucket), out var actions))
        {
            byBucket[(row.Shard, row.Bucket)] = actions = [];
        }

        actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, row.Entity));
    }

    /// <summary>The table (shard) and partition (bucket) of a term key: from SHA-256 of the key.</summary>
    private static (int Shard, string Bucket) Place(string key, int shards)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
        return (digest[0] % shards, Convert.ToHexStringLower(digest[1..2])[..1]);
    }

    private static string Key(char kind, string term)
    {
        var escaped = Escape(term);
        return escaped.Length <= MaxPlainKeyLength
            ? $"{kind}:{escaped}"
            : $"{kind}~{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(term)))}";
    }

    private static string Escape(string term)
    {
        var plain = true;
        foreach (var c in term)
        {
            if (MustEscape(c))
            {
                plain = false;
                break;
            }
        }

        if (plain)
        {
            return term;
        }

        var sb = new StringBuilder(term.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(term))
        {
            // Non-ASCII is allowed in keys except C1 controls; escaping all of it keeps the rule simple.
            if (b < 0x80 && !MustEscape((char)b))
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static bool MustEscape(char c) => c is '/' or '\\' or '#' or '?' or '%' or '|' or < ' ' or >= '\u007f';
}
