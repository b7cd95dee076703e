using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis.Query;
using Btmc.Ledger;
using Btmc.Supply.Access;
using Btmc.Supply.MasterData;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Query;

/// <summary>One page of query results: the matching events as stored, in ledger order, and the token of the next
/// page (null on the last).</summary>
public sealed record QueryPage(IReadOnlyList<ReadOnlyMemory<byte>> Events, string? NextPageToken);

/// <summary>
/// The standard's QueryTooLargeException: more events match than <c>maxEventCount</c> allows (<see cref="Parameter"/>
/// names it), or more than the repository assembles for one ordered or counted answer (<see cref="Parameter"/> null).
/// </summary>
public sealed class QueryTooLargeException(string message, string? parameter) : Exception(message)
{
    public string? Parameter { get; } = parameter;
}

/// <summary>
/// The EPCIS 2.0 SimpleEventQuery over sealed events (docs/epcis-query.md). Results come in ledger order (chain,
/// height, leaf). When the query names event IDs or exact identifiers, the term index narrows the candidates;
/// otherwise the chains are scanned, at most <see cref="ScanBudget"/> entries per page (a page may then hold fewer
/// than perPage events, with a token to go on). The next-page token is an opaque position.
/// </summary>
public sealed class EventQuery(SupplyOptions options, SupplyReader reader, TermIndex terms)
{
    public const int ScanBudget = 100_000;

    /// <summary>
    /// The most matching events an ordered or counted query assembles (orderBy, eventCountLimit, maxEventCount need
    /// the whole matching set before the first page); beyond it the query is refused as too large.
    /// </summary>
    public const int MaxWholeResult = 10_000;

    /// <summary>Runs the query as <paramref name="caller"/>: events it may not see (docs/partners.md) are simply not in the result.</summary>
    public async Task<QueryPage> RunAsync(EpcisQuery query, Caller caller, CancellationToken cancellationToken = default)
    {
        query = await ResolveMasterDataAsync(query, caller, cancellationToken).ConfigureAwait(false);
        var candidates = await IndexedCandidatesAsync(query, cancellationToken).ConfigureAwait(false);
        if (query.NeedsWholeResult)
        {
            return await WholeResultAsync(query, caller, candidates, cancellationToken).ConfigureAwait(false);
        }

        var start = query.NextPageToken is { } token ? Cursor.Parse(token, options.Partitions) : new Cursor(0, 0, 0);
        return candidates is null
            ? await ScanAsync(query, caller, start, cancellationToken).ConfigureAwait(false)
            : await FromCandidatesAsync(query, caller, start, candidates, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The master data WD_, EQ_ATTR_ and HASATTR_ resolve against (docs/epcis-query.md, "Master data"); null: none.</summary>
    public MasterDataStore? MasterData { get; init; }

    /// <summary>Turns the query's master-data parameters into identifier sets, from the master data the caller may use, once per run
    /// (a query run, or a subscription's delivery).</summary>
    public async Task<EpcisQuery> ResolveMasterDataAsync(EpcisQuery query, Caller caller, CancellationToken cancellationToken) =>
        query.NeedsMasterData && MasterData is not null ? query.Resolve(await MasterData.ViewForAsync(caller, cancellationToken).ConfigureAwait(false)) : query;

    /// <summary>Candidate positions from the term index, or null when the query has nothing indexed to go by.</summary>
    private async Task<List<(LedgerPosition Position, Hash32 BlockHash)>?> IndexedCandidatesAsync(EpcisQuery query, CancellationToken cancellationToken)
    {
        List<TermHit> hits;
        if (query.EventIds is { Count: > 0 } ids)
        {
            hits = [];
            foreach (var id in ids)
            {
                hits.AddRange(await terms.FindEventIdAsync(id, cancellationToken).ConfigureAwait(false));
                // By ledger id: a hash ID names the event and also an error declaration of it, which has the same
                // hash ID but is sealed under its own ledger id (StoredEvent.LedgerId).
                var ledgerIds = id.EndsWith(Epcis.StoredEvent.ErrorDeclarationFragment, StringComparison.Ordinal)
                    ? [id]
                    : new[] { id, Epcis.StoredEvent.ErrorDeclarationId(id) };
                foreach (var ledgerId in ledgerIds)
                {
                    if (await reader.FindSealedAsync(ledgerId, cancellationToken).ConfigureAwait(false) is { } byLedgerId)
                    {
                        hits.Add(new TermHit(byLedgerId.Position, byLedgerId.BlockHash, ledgerId, Epcis.EpcRoles.None, string.Empty, null, default, null));
                    }
                }
            }
        }
        else if (new[] { query.MatchEpc, query.MatchParentId, query.MatchInputEpc, query.MatchOutputEpc, query.MatchAnyEpc }
                     .FirstOrDefault(f => f is { Patterns.Count: 0, ExactEpcs.Count: > 0 }) is { } filter)
        {
            hits = [];
            foreach (var epc in filter.ExactEpcs)
            {
                hits.AddRange(await terms.FindEpcAsync(epc, cancellationToken).ConfigureAwait(false));
            }
        }
        else
        {
            return null;
        }

        return hits
            .Select(h => (h.Position, h.BlockHash))
            .DistinctBy(h => h.Position)
            .OrderBy(h => h.Position, Comparer<LedgerPosition>.Create(TermIndex.ComparePositions))
            .ToList();
    }

    private async Task<QueryPage> FromCandidatesAsync(EpcisQuery query, Caller caller, Cursor start, List<(LedgerPosition Position, Hash32 BlockHash)> candidates, CancellationToken cancellationToken)
    {
        // Candidates found by EQ_eventID already name one of the IDs: as their own eventID (term index) or as their
        // ledger id, the CBV hash ID, which the stored eventID need not be. Matching eventID again would drop the latter.
        var rest = query.EventIds is null ? query : query with { EventIds = null };
        var events = new List<ReadOnlyMemory<byte>>();
        foreach (var (position, blockHash) in candidates)
        {
            var at = new Cursor(ChainIndex(position.ChainId), position.Height, position.LeafIndex);
            if (at.CompareTo(start) < 0)
            {
                continue;
            }

            if (events.Count == query.PerPage)
            {
                return new QueryPage(events, at.ToToken());
            }

            var entry = await reader.Chain.GetEntryAsync(position.ChainId, position.Height, blockHash, position.LeafIndex, cancellationToken).ConfigureAwait(false);
            if (entry is not null && Matches(rest, entry.Event) && EventAccess.CanSee(caller, entry.Partner, entry.Event))
            {
                events.Add(entry.Event);
            }
        }

        return new QueryPage(events, null);
    }

    private async Task<QueryPage> ScanAsync(EpcisQuery query, Caller caller, Cursor start, CancellationToken cancellationToken)
    {
        var events = new List<ReadOnlyMemory<byte>>();
        var scanned = 0;
        for (var chain = start.Chain; chain < options.Partitions; chain++)
        {
            var chainId = options.ChainId(chain);
            var head = await reader.Chain.FindHeadAsync(chainId, cancellationToken).ConfigureAwait(false);
            for (var height = chain == start.Chain ? start.Height : 0; head is not null && height <= head.Height; height++)
            {
                var block = await reader.Chain.GetBlockAsync(chainId, height, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"{chainId} block {height} is missing below the head.");
                var entries = await reader.Chain.ReadEntriesAsync(chainId, height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
                var from = chain == start.Chain && height == start.Height ? start.Leaf : 0;
                for (var leaf = from; leaf < entries.Count; leaf++)
                {
                    if (events.Count == query.PerPage || scanned == ScanBudget)
                    {
                        return new QueryPage(events, new Cursor(chain, height, leaf).ToToken());
                    }

                    scanned++;
                    if (Matches(query, entries[(int)leaf].Event) && EventAccess.CanSee(caller, entries[(int)leaf].Partner, entries[(int)leaf].Event))
                    {
                        events.Add(entries[(int)leaf].Event);
                    }
                }
            }
        }

        return new QueryPage(events, null);
    }

    /// <summary>
    /// Ordered or counted queries: every matching event the caller may see is gathered (in ledger order), then
    /// ordered, limited and paged. The page token names the first event of the next page by its order key and ledger
    /// position, so a next page is never empty while the matching set stays as it was.
    /// </summary>
    private async Task<QueryPage> WholeResultAsync(EpcisQuery query, Caller caller, List<(LedgerPosition Position, Hash32 BlockHash)>? candidates, CancellationToken cancellationToken)
    {
        var start = query.NextPageToken is { } token ? Ranked.ParseToken(token, options.Partitions) : null;
        // One more than allowed is enough to know the answer is too large.
        var ceiling = query.MaxEventCount is { } max ? Math.Min(max, MaxWholeResult) : MaxWholeResult;
        var matches = new List<Ranked>();

        void Add(Cursor at, string partner, ReadOnlyMemory<byte> json, EpcisQuery match)
        {
            if (!EventAccess.CanSee(caller, partner, json))
            {
                return;
            }

            using var document = JsonDocument.Parse(json);
            if (!match.Matches(document.RootElement))
            {
                return;
            }

            if (matches.Count == ceiling)
            {
                throw query.MaxEventCount is { } limit && limit <= MaxWholeResult
                    ? new QueryTooLargeException($"More than maxEventCount={limit} events match the query.", "maxEventCount")
                    : new QueryTooLargeException($"More than {MaxWholeResult} events match an ordered or counted query; narrow it.", null);
            }

            DateTimeOffset? key = null;
            var field = query.OrderBy == EpcisOrderField.RecordTime ? "recordTime" : "eventTime";
            if (query.OrderBy is not null && document.RootElement.TryGetProperty(field, out var time)
                && time.ValueKind == JsonValueKind.String && time.TryGetDateTimeOffset(out var instant))
            {
                key = instant;
            }

            matches.Add(new Ranked(key, at, json));
        }

        if (candidates is not null)
        {
            // As in FromCandidatesAsync: candidates by EQ_eventID already name one of the IDs.
            var rest = query.EventIds is null ? query : query with { EventIds = null };
            foreach (var (position, blockHash) in candidates)
            {
                var entry = await reader.Chain.GetEntryAsync(position.ChainId, position.Height, blockHash, position.LeafIndex, cancellationToken).ConfigureAwait(false);
                if (entry is not null)
                {
                    Add(new Cursor(ChainIndex(position.ChainId), position.Height, position.LeafIndex), entry.Partner, entry.Event, rest);
                }
            }
        }
        else
        {
            for (var chain = 0; chain < options.Partitions; chain++)
            {
                var chainId = options.ChainId(chain);
                var head = await reader.Chain.FindHeadAsync(chainId, cancellationToken).ConfigureAwait(false);
                for (var height = 0L; head is not null && height <= head.Height; height++)
                {
                    var block = await reader.Chain.GetBlockAsync(chainId, height, cancellationToken).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"{chainId} block {height} is missing below the head.");
                    var entries = await reader.Chain.ReadEntriesAsync(chainId, height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
                    for (var leaf = 0; leaf < entries.Count; leaf++)
                    {
                        Add(new Cursor(chain, height, leaf), entries[leaf].Partner, entries[leaf].Event, query);
                    }
                }
            }
        }

        var order = Ranked.Comparer(query.OrderBy is not null && !query.OrderAscending);
        IEnumerable<Ranked> result = query.OrderBy is null ? matches : matches.Order(order);
        if (query.EventCountLimit is { } count)
        {
            result = result.Take(count);
        }

        if (start is not null)
        {
            result = result.SkipWhile(r => order.Compare(r, start) < 0);
        }

        var page = result.Take(query.PerPage + 1).ToList();
        return page.Count > query.PerPage
            ? new QueryPage(page.Take(query.PerPage).Select(r => r.Event).ToList(), page[^1].ToToken())
            : new QueryPage(page.Select(r => r.Event).ToList(), null);
    }

    private static bool Matches(EpcisQuery query, ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        return query.Matches(document.RootElement);
    }

    private int ChainIndex(string chainId)
    {
        for (var p = 0; p < options.Partitions; p++)
        {
            if (options.ChainId(p) == chainId)
            {
                return p;
            }
        }

        throw new InvalidOperationException($"Unknown chain {chainId}.");
    }

    /// <summary>
    /// A matching event with its order key (null when unordered, or when the event lacks the field: such events come
    /// last, as the standard lets them be anywhere) and ledger position, which breaks ties.
    /// </summary>
    private sealed record Ranked(DateTimeOffset? Key, Cursor At, ReadOnlyMemory<byte> Event)
    {
        public static IComparer<Ranked> Comparer(bool descending) => Comparer<Ranked>.Create((a, b) =>
        {
            var c = (a.Key, b.Key) switch
            {
                ({ } x, { } y) => descending ? y.CompareTo(x) : x.CompareTo(y),
                (null, { }) => 1,
                ({ }, null) => -1,
                _ => 0,
            };
            return c != 0 ? c : a.At.CompareTo(b.At);
        });

        public string ToToken() => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"o1.{(Key is { } key ? key.UtcTicks.ToString(CultureInfo.InvariantCulture) : "-")}.{At.Chain}.{At.Height}.{At.Leaf}")));

        /// <summary>A token of an ordered page (its event is the first of the page); the event bytes are not needed to compare.</summary>
        public static Ranked ParseToken(string token, int partitions)
        {
            try
            {
                var parts = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(token)).Split('.');
                if (parts.Length == 5 && parts[0] == "o1"
                    && (parts[1] == "-" || long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var chain) && chain >= 0 && chain < partitions
                    && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var height)
                    && long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var leaf))
                {
                    DateTimeOffset? key = parts[1] == "-" ? null : new DateTimeOffset(long.Parse(parts[1], CultureInfo.InvariantCulture), TimeSpan.Zero);
                    return new Ranked(key, new Cursor(chain, height, leaf), ReadOnlyMemory<byte>.Empty);
                }
            }
            catch (Exception ex) when (ex is FormatException or ArgumentOutOfRangeException)
            {
            }

            throw new FormatException("nextPageToken is not a token this server issued for an ordered or counted query.");
        }
    }

    /// <summary>A position in ledger order; the page token is its base64url text.</summary>
    private readonly record struct Cursor(int Chain, long Height, long Leaf) : IComparable<Cursor>
    {
        public int CompareTo(Cursor other)
        {
            var c = Chain.CompareTo(other.Chain);
            if (c == 0)
            {
                c = Height.CompareTo(other.Height);
            }

            return c != 0 ? c : Leaf.CompareTo(other.Leaf);
        }

        public string ToToken() => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"v1.{Chain}.{Height}.{Leaf}")));

        public static Cursor Parse(string token, int partitions)
        {
            try
            {
                var parts = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(token)).Split('.');
                if (parts.Length == 4 && parts[0] == "v1"
                    && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var chain) && chain >= 0 && chain < partitions
                    && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var height)
                    && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var leaf))
                {
                    return new Cursor(chain, height, leaf);
                }
            }
            catch (FormatException)
            {
            }

            throw new FormatException("nextPageToken is not a token this server issued.");
        }
    }
}
