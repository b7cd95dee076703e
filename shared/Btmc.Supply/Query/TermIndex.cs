using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Query;

/// <summary>A sealed event that names a term, as the term index records it; <see cref="Parent"/> is the event's
/// parentID (canonical), if it has one.</summary>
public sealed record TermHit(LedgerPosition Position, Hash32 BlockHash, string EventId, EpcRoles Roles, string EventType, string? Action, DateTimeOffset EventTime, string? Parent);

/// <summary>A term as the index keys it: its kind (<c>e</c>, <c>i</c>, <c>b</c>, <c>r</c>, <c>l</c>, <c>s</c>, <c>t</c>) and
/// its text; the per-chain kinds carry their chain in the text (<see cref="TermIndex"/>).</summary>
public readonly record struct TermKey(char Kind, string Term);

/// <summary>One row of a term as a query streams it: the event's ledger position (chain index, height, leaf) and the
/// hash of its block, enough to read the entry.</summary>
public readonly record struct TermRow(int Chain, long Height, long Leaf, Hash32 BlockHash);

/// <summary>
/// The term index (docs/epcis-query.md, docs/storage-layout.md): for every sealed event, one row per identifier it
/// names (in its canonical spelling, <see cref="EventTerms.CanonicalEpc"/>, with its roles), one row for its own
/// eventID, one per business transaction it names (canonical spelling), and one each for its read point, business
/// location, business step (CBV bare word) and the UTC hour of its eventTime. It answers "which events name this EPC
/// / this eventID / this transaction" for queries, genealogy and trade, "what happened to this EPC" for the physical
/// consistency checks, and gives the query planner (<see cref="EventQuery"/>) its candidates in ledger order.
/// <para>
/// Tables <c>terms{s}</c>, s = the first byte of SHA-256(term key) modulo the chain count, so that a lookup reads one
/// table and the sealers' writes spread over all of them. PartitionKey: the next hex digit of that hash, so a sealer
/// writes a block's rows in at most 16 batches per table and a hot identifier cannot make a hot partition of its own.
/// RowKey: <c>{term key}|{chain:D3}{height:D19}{leaf:D10}</c>, so one term's rows are one key range, in ledger order. Term key: <c>e:</c> + identifier,
/// <c>i:</c> + eventID, <c>b:</c> + business transaction URI (canonical) or one of the wide terms below, with the
/// characters Table storage forbids in keys (and <c>%</c>, <c>|</c>) percent-encoded; a key longer than
/// <see cref="MaxPlainKeyLength"/> becomes its kind + <c>~</c> + SHA-256 hex, with the whole term kept in the row.
/// </para>
/// <para>
/// The wide terms, which many events share (a read point, a business location, a business step, an hour of event
/// time), are keyed per chain: <c>r:{chain:D3}:{readPoint}</c>, <c>l:{chain:D3}:{bizLocation}</c>,
/// <c>s:{chain:D3}:{bizStep}</c>, <c>t:{chain:D3}:{yyyyMMddHH}</c>. Each sealer then writes its own keys, which hash to
/// their own tables and partitions, instead of every sealer appending to one hot partition per busy dock or per
/// current hour; and since ledger order is chain-major, a query reads a wide term chain after chain, never merging
/// chains.
/// </para>
/// </summary>
public sealed class TermIndex(SupplyTables tables, SupplyOptions options)
{
    public const int MaxPlainKeyLength = 480;

    /// <summary>The most rows one read of <see cref="ReadFromAsync"/> asks for.</summary>
    private const int MaxReadPage = 1000;

    public static string EpcKey(string canonicalEpc) => Key('e', canonicalEpc);

    public static string EventIdKey(string eventId) => Key('i', eventId);

    /// <summary>The time bucket of the <c>t:</c> rows: one UTC hour. At 1,000,000 events over 30 days that is about
    /// 1,400 events an hour (about 90 per chain of 16), so one bucket is a page or two of the index, and a one-day
    /// range is 24 or 25 buckets.</summary>
    public static readonly TimeSpan TimeBucket = TimeSpan.FromHours(1);

    /// <summary>An identifier's term (canonical spelling, as <see cref="EventTerms.CanonicalEpc"/> gives it).</summary>
    public static TermKey Epc(string canonicalEpc) => new('e', canonicalEpc);

    /// <summary>A business transaction's term: its URI in the canonical spelling (<see cref="EventTerms.CanonicalEpc"/>,
    /// as the query's <c>EQ_bizTransaction_*</c> compares it).</summary>
    public static TermKey BizTransaction(string canonicalUri) => new('b', canonicalUri);

    /// <summary>The term of a read point (canonical spelling) on one chain.</summary>
    public static TermKey ReadPoint(int chain, string canonicalUri) => new('r', Wide(chain, canonicalUri));

    /// <summary>The term of a business location (canonical spelling) on one chain.</summary>
    public static TermKey BizLocation(int chain, string canonicalUri) => new('l', Wide(chain, canonicalUri));

    /// <summary>The term of a business step (CBV bare word, <see cref="EventTerms.CbvWord"/>; other URIs as written) on one chain.</summary>
    public static TermKey BizStep(int chain, string word) => new('s', Wide(chain, word));

    /// <summary>The term of the event-time bucket that holds <paramref name="instant"/> on one chain.</summary>
    public static TermKey Hour(int chain, DateTimeOffset instant) =>
        new('t', Wide(chain, instant.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture)));

    /// <summary>The start of the bucket that holds <paramref name="instant"/>.</summary>
    public static DateTimeOffset BucketStart(DateTimeOffset instant)
    {
        var utc = instant.UtcTicks;
        return new DateTimeOffset(utc - (utc % TimeBucket.Ticks), TimeSpan.Zero);
    }

    /// <summary>The version of the rows a block's terms get: 2 added read point, location, step and hour rows and
    /// keyed business transactions canonically.</summary>
    public const int LayoutVersion = 2;

    /// <summary>The partition of the <c>chains</c> table holding, per chain, the layout version all its blocks carry.</summary>
    public const string LayoutPartition = "termindex";

    private volatile bool _complete;

    /// <summary>
    /// True once every chain's blocks carry rows of <see cref="LayoutVersion"/>. Until then the queries that need the
    /// newer rows (read point, location, step, hour, business transaction) scan instead: a ledger sealed by an earlier
    /// version lacks them for its older blocks, and an index that misses events would answer wrongly, not slowly.
    /// </summary>
    public bool Complete => _complete;

    /// <summary>
    /// Brings every chain's blocks to <see cref="LayoutVersion"/> (at start). This call reads each chain's marker row
    /// and marks the chains that have no block yet; it returns null when that was all (a new ledger, or one brought up
    /// to date before), or else the rest of the work, to run in the background: a chain whose marker is older gets its
    /// blocks' rows written again, up to the head seen when it began (blocks sealed after that are written by this
    /// version), then its marker. Writes are idempotent, so two instances doing it at once, or a run cut short and
    /// restarted, do no harm.
    /// </summary>
    public async Task<Func<CancellationToken, Task>?> StartBackfillAsync(ChainReader chains, CancellationToken cancellationToken = default)
    {
        var behind = new List<(int Partition, ChainHead Head)>();
        for (var partition = 0; partition < options.Partitions; partition++)
        {
            var chainId = options.ChainId(partition);
            var marker = await chains.Tables.Heads.GetEntityIfExistsAsync(LayoutPartition, chainId, cancellationToken).ConfigureAwait(false);
            if (marker?.Properties.TryGetValue("Version", out var version) == true && Convert.ToInt64(version, CultureInfo.InvariantCulture) >= LayoutVersion)
            {
                continue;
            }

            if (await chains.FindHeadAsync(chainId, cancellationToken).ConfigureAwait(false) is { } head)
            {
                behind.Add((partition, head));
            }
            else
            {
                await MarkAsync(chains, chainId, -1, cancellationToken).ConfigureAwait(false);
            }
        }

        if (behind.Count == 0)
        {
            _complete = true;
            return null;
        }

        return async ct =>
        {
            foreach (var (partition, head) in behind)
            {
                for (var height = 0L; height <= head.Height; height++)
                {
                    var block = await chains.GetBlockAsync(head.ChainId, height, ct).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"{head.ChainId} block {height} is missing below the head.");
                    var entries = await chains.ReadEntriesAsync(head.ChainId, height, block.BlockHash, block.Header.LeafCount, withEvents: true, ct).ConfigureAwait(false);
                    var rows = new List<(long, string, EventTerms)>(entries.Count);
                    foreach (var entry in entries)
                    {
                        using var json = System.Text.Json.JsonDocument.Parse(entry.Event);
                        rows.Add((entry.LeafIndex, entry.EventId, EventTerms.Of(json.RootElement)));
                    }

                    await WriteAsync(partition, height, block.BlockHash, rows, ct).ConfigureAwait(false);
                }

                await MarkAsync(chains, head.ChainId, head.Height, ct).ConfigureAwait(false);
            }

            _complete = true;
        };
    }

    private static Task MarkAsync(ChainReader chains, string chainId, long through, CancellationToken cancellationToken) =>
        chains.Tables.Heads.UpsertEntityAsync(new TableEntity(LayoutPartition, chainId, new Dictionary<string, object>
        {
            ["Version"] = (long)LayoutVersion,
            ["Through"] = through,
        }), TableUpdateMode.Replace, cancellationToken);

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

            // Canonical, as the query compares them (EQ_bizTransaction_* matches any spelling of the same URI).
            foreach (var transaction in terms.BizTransactions.Select(b => EventTerms.CanonicalEpc(b.Id)).Distinct(StringComparer.Ordinal))
            {
                Add(byBucket, Row('b', transaction, partition, height, leaf, blockHashBytes, eventId, terms, EpcRoles.None));
            }

            foreach (var wide in WideTerms(partition, terms))
            {
                Add(byBucket, Row(wide.Kind, wide.Term, partition, height, leaf, blockHashBytes, eventId, terms, EpcRoles.None));
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
    /// (in any spelling of it), in event-time order (docs/trade.md, "Orders and invoices").</summary>
    public Task<IReadOnlyList<TermHit>> FindBizTransactionAsync(string uri, CancellationToken cancellationToken = default) =>
        FindAsync('b', EventTerms.CanonicalEpc(uri), cancellationToken);

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

    /// <summary>
    /// The rows of one term from a ledger position on (inclusive), in ledger order, read a page at a time so that a
    /// term of a million rows is never held at once: the first page <paramref name="firstPage"/> rows (what a query
    /// page needs when most candidates match), each next one twice as many, up to 1,000 (Table storage's page).
    /// </summary>
    public async IAsyncEnumerable<TermRow> ReadFromAsync(TermKey term, int chain, long height, long leaf, int firstPage,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var key = Key(term.Kind, term.Term);
        var (shard, bucket) = Place(key, tables.Partitions);
        var hashed = key[1] == '~';
        var table = tables.Terms(shard);
        var query = new TableQuery(bucket, string.Create(CultureInfo.InvariantCulture, $"{key}|{chain:D3}{height:D19}{leaf:D10}"), key + "}",
            Math.Clamp(firstPage, 1, MaxReadPage), Select: hashed ? ["Chain", "Height", "LeafIndex", "BlockHash", "Term"] : ["Chain", "Height", "LeafIndex", "BlockHash"]);
        while (true)
        {
            var page = await table.QueryAsync(query, cancellationToken).ConfigureAwait(false);
            foreach (var row in page.Items)
            {
                if (hashed && (!row.Properties.TryGetValue("Term", out var whole) || (string)whole != term.Term))
                {
                    continue;
                }

                yield return new TermRow((int)row.GetInt64("Chain"), row.GetInt64("Height"), row.GetInt64("LeafIndex"), new Hash32(row.GetBinary("BlockHash")));
            }

            if (page.ContinuationToken is not { } next)
            {
                yield break;
            }

            query = query with { ContinuationToken = next, MaxPerPage = Math.Min(query.MaxPerPage * 2, MaxReadPage) };
        }
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

    /// <summary>The per-chain terms of an event: read point, business location, business step, event-time hour.</summary>
    private static IEnumerable<TermKey> WideTerms(int chain, EventTerms terms)
    {
        if (terms.ReadPoint is { } readPoint)
        {
            yield return ReadPoint(chain, readPoint);
        }

        if (terms.BizLocation is { } bizLocation)
        {
            yield return BizLocation(chain, bizLocation);
        }

        if (terms.BizStep is { Length: > 0 } bizStep)
        {
            yield return BizStep(chain, bizStep);
        }

        yield return Hour(chain, terms.EventTime);
    }

    private static string Wide(int chain, string value) => string.Create(CultureInfo.InvariantCulture, $"{chain:D3}:{value}");

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
