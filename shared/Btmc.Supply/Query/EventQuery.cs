using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis;
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
/// The standard's QueryTooComplexException: the query read <see cref="QueryLimits.RequestBudget"/> index rows or
/// ledger entries in one request without finding one event to answer with (docs/epcis-query.md, "Paging").
/// </summary>
public sealed class QueryTooComplexException(string message) : Exception(message);

/// <summary>
/// The bounds of one request's work (docs/epcis-query.md, "Paging"). A page stops early, with a token, once it holds
/// at least one event and <see cref="PageBudget"/> candidates were read; a request that has read
/// <see cref="RequestBudget"/> candidates without finding one event is refused (QueryTooComplexException), so a page
/// that is not the last is never empty. <see cref="UseIndex"/> false answers every query by a scan of the chains: the
/// reference the indexed paths are tested against (EQ_eventID then matches the events' own eventID only, not their
/// ledger id).
/// </summary>
public sealed record QueryLimits(int PageBudget = QueryLimits.DefaultPageBudget, long RequestBudget = QueryLimits.DefaultRequestBudget, bool UseIndex = true)
{
    /// <summary>Candidates (ledger entries or index rows) read for one page once it holds an event: a hundred Table
    /// storage pages of entries.</summary>
    public const int DefaultPageBudget = 100_000;

    /// <summary>Candidates one request reads at most while it has found nothing: ten page budgets.</summary>
    public const long DefaultRequestBudget = 1_000_000;
}

/// <summary>
/// The EPCIS 2.0 SimpleEventQuery over sealed events (docs/epcis-query.md). Results come in ledger order (chain,
/// height, leaf). The most selective indexed parameter the query gives (<see cref="IndexedParameter"/>) names the
/// candidates, read from the term index in ledger order a page of rows at a time; otherwise the chains are scanned.
/// Every candidate is checked against the whole query and the caller's visibility. The next-page token is an opaque
/// position (the ledger position of the first candidate not yet read).
/// </summary>
public sealed class EventQuery(SupplyOptions options, SupplyReader reader, TermIndex terms, QueryLimits? limits = null)
{
    /// <summary>
    /// The most event-time buckets (hours) a GE/LT_eventTime range is read through the index with: two days. Each
    /// bucket is one index read per chain, side by side; a wider range scans the chains (or uses a business step, when
    /// one is given) rather than open hundreds of reads for one page.
    /// </summary>
    public const int MaxTimeBuckets = 48;

    /// <summary>
    /// The most matching events an ordered or counted query assembles (orderBy, eventCountLimit, maxEventCount need
    /// the whole matching set before the first page); beyond it the query is refused as too large.
    /// </summary>
    public const int MaxWholeResult = 10_000;

    /// <summary>Entries read side by side while a page of candidates is checked.</summary>
    private const int FetchAhead = 32;

    private readonly QueryLimits _limits = limits ?? new QueryLimits();

    /// <summary>Runs the query as <paramref name="caller"/>: events it may not see (docs/partners.md) are simply not in the result.</summary>
    public async Task<QueryPage> RunAsync(EpcisQuery query, Caller caller, CancellationToken cancellationToken = default)
    {
        query = await ResolveMasterDataAsync(query, caller, cancellationToken).ConfigureAwait(false);
        var plan = _limits.UseIndex ? PlanOf(query, terms.Complete) : null;
        var byEventId = query.EventIds is { Count: > 0 } && _limits.UseIndex ? await EventIdCandidatesAsync(query.EventIds, cancellationToken).ConfigureAwait(false) : null;
        if (query.NeedsWholeResult)
        {
            return await WholeResultAsync(query, caller, byEventId, plan, cancellationToken).ConfigureAwait(false);
        }

        var start = query.NextPageToken is { } token ? Cursor.Parse(token, options.Partitions) : new Cursor(0, 0, 0);
        if (byEventId is not null)
        {
            // Candidates found by EQ_eventID already name one of the IDs: as their own eventID (term index) or as
            // their ledger id, the CBV hash ID, which the stored eventID need not be. Matching eventID again would drop the latter.
            var byId = new PageBuilder(query with { EventIds = null }, caller, _limits);
            return await FromCandidatesAsync(byId, byEventId.Where(c => c.At.CompareTo(start) >= 0).ToAsyncEnumerable(), cancellationToken).ConfigureAwait(false);
        }

        var page = new PageBuilder(query, caller, _limits);

        return plan is null
            ? await ScanAsync(page, start, cancellationToken).ConfigureAwait(false)
            : await FromCandidatesAsync(page, CandidatesAsync(plan, start, query.PerPage, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The master data WD_, EQ_ATTR_ and HASATTR_ resolve against (docs/epcis-query.md, "Master data"); null: none.</summary>
    public MasterDataStore? MasterData { get; init; }

    /// <summary>Turns the query's master-data parameters into identifier sets, from the master data the caller may use, once per run
    /// (a query run, or a subscription's delivery).</summary>
    public async Task<EpcisQuery> ResolveMasterDataAsync(EpcisQuery query, Caller caller, CancellationToken cancellationToken) =>
        query.NeedsMasterData && MasterData is not null ? query.Resolve(await MasterData.ViewForAsync(caller, cancellationToken).ConfigureAwait(false)) : query;

    /// <summary>
    /// The parameter whose index rows give a query's candidates (docs/epcis-query.md, "Planning"), most selective first:
    /// EQ_eventID, an exact MATCH_* identifier, EQ_bizTransaction_*, EQ_readPoint, EQ_bizLocation, a GE/LT_eventTime
    /// range of at most <see cref="MaxTimeBuckets"/> hours, EQ_bizStep; null when the chains are scanned.
    /// </summary>
    public static string? IndexedParameter(EpcisQuery query) =>
        query.EventIds is { Count: > 0 } ? "EQ_eventID" : PlanOf(query, complete: true)?.Parameter;

    /// <summary>The term rows a query's candidates come from: the same terms on every chain (<see cref="Global"/>), or
    /// terms of each chain (<see cref="PerChain"/>, the wide terms).</summary>
    private sealed record TermPlan(string Parameter, IReadOnlyList<TermKey>? Global, Func<int, IEnumerable<TermKey>>? PerChain);

    /// <param name="complete">Whether every block carries the rows of <see cref="TermIndex.LayoutVersion"/>
    /// (<see cref="TermIndex.Complete"/>); until then only identifier rows, which every version wrote, are used.</param>
    private static TermPlan? PlanOf(EpcisQuery query, bool complete)
    {
        if (query.EventIds is { Count: > 0 })
        {
            return null;
        }

        foreach (var (name, filter) in (ReadOnlySpan<(string, EpcFilter?)>)[("MATCH_epc", query.MatchEpc), ("MATCH_parentID", query.MatchParentId),
                     ("MATCH_inputEPC", query.MatchInputEpc), ("MATCH_outputEPC", query.MatchOutputEpc), ("MATCH_anyEPC", query.MatchAnyEpc)])
        {
            if (filter is { Patterns.Count: 0, ExactEpcs.Count: > 0 })
            {
                return new TermPlan(name, filter.ExactEpcs.Select(TermIndex.Epc).ToList(), null);
            }
        }

        if (!complete)
        {
            return null;
        }

        if (query.BizTransactions?.FirstOrDefault(f => f.Uris is { Patterns.Count: 0, ExactEpcs.Count: > 0 }) is { } transaction)
        {
            return new TermPlan("EQ_bizTransaction_" + transaction.Type, transaction.Uris.ExactEpcs.Select(TermIndex.BizTransaction).ToList(), null);
        }

        if (query.ReadPoints is { Patterns.Count: 0, ExactEpcs.Count: > 0 } readPoints)
        {
            return new TermPlan("EQ_readPoint", null, chain => readPoints.ExactEpcs.Select(uri => TermIndex.ReadPoint(chain, uri)));
        }

        if (query.BizLocations is { Patterns.Count: 0, ExactEpcs.Count: > 0 } bizLocations)
        {
            return new TermPlan("EQ_bizLocation", null, chain => bizLocations.ExactEpcs.Select(uri => TermIndex.BizLocation(chain, uri)));
        }

        if (query is { GeEventTime: { } from, LtEventTime: { } to })
        {
            // Buckets [start of from's hour, start of the hour of the last instant before to].
            var first = TermIndex.BucketStart(from);
            var count = to <= from ? 0 : ((TermIndex.BucketStart(to.AddTicks(-1)) - first).Ticks / TermIndex.TimeBucket.Ticks) + 1;
            if (count <= MaxTimeBuckets)
            {
                return new TermPlan("GE_eventTime", null, chain => Enumerable.Range(0, (int)count).Select(h => TermIndex.Hour(chain, first + (h * TermIndex.TimeBucket))));
            }
        }

        if (query.BizSteps is { Values.Count: > 0 } steps)
        {
            // The index holds the bare word of a CBV step, as CbvFilter compares any of its spellings.
            var words = steps.Values.Select(v => EventTerms.CbvWord(v, "BizStep", "bizstep")).Distinct(StringComparer.Ordinal).ToList();
            return new TermPlan("EQ_bizStep", null, chain => words.Select(word => TermIndex.BizStep(chain, word)));
        }

        return null;
    }

    /// <summary>Candidates by EQ_eventID: by own eventID (term index) and by ledger id, in ledger order.</summary>
    private async Task<List<Candidate>> EventIdCandidatesAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var hits = new List<(LedgerPosition Position, Hash32 BlockHash)>();
        foreach (var id in ids)
        {
            hits.AddRange((await terms.FindEventIdAsync(id, cancellationToken).ConfigureAwait(false)).Select(h => (h.Position, h.BlockHash)));
            // By ledger id: a hash ID names the event and also an error declaration of it, which has the same
            // hash ID but is sealed under its own ledger id (StoredEvent.LedgerId).
            var ledgerIds = id.EndsWith(Epcis.StoredEvent.ErrorDeclarationFragment, StringComparison.Ordinal)
                ? [id]
                : new[] { id, Epcis.StoredEvent.ErrorDeclarationId(id) };
            foreach (var ledgerId in ledgerIds)
            {
                if (await reader.FindSealedAsync(ledgerId, cancellationToken).ConfigureAwait(false) is { } byLedgerId)
                {
                    hits.Add((byLedgerId.Position, byLedgerId.BlockHash));
                }
            }
        }

        return hits
            .Select(h => new Candidate(new Cursor(ChainIndex(h.Position.ChainId), h.Position.Height, h.Position.LeafIndex), h.BlockHash))
            .DistinctBy(c => c.At)
            .OrderBy(c => c.At)
            .ToList();
    }

    /// <summary>
    /// The candidates of a plan from <paramref name="start"/> on, in ledger order, each once: the rows of its terms
    /// merged (the global terms at once; the wide terms chain after chain, since ledger order is chain-major).
    /// </summary>
    private async IAsyncEnumerable<Candidate> CandidatesAsync(TermPlan plan, Cursor start, int perPage, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (plan.Global is { } global)
        {
            await foreach (var candidate in MergeAsync(global, start, perPage, cancellationToken).ConfigureAwait(false))
            {
                yield return candidate;
            }

            yield break;
        }

        for (var chain = start.Chain; chain < options.Partitions; chain++)
        {
            var from = chain == start.Chain ? start : new Cursor(chain, 0, 0);
            await foreach (var candidate in MergeAsync(plan.PerChain!(chain).ToList(), from, perPage, cancellationToken).ConfigureAwait(false))
            {
                yield return candidate;
            }
        }
    }

    /// <summary>A k-way merge of the terms' rows in ledger order (each term's rows are in ledger order already),
    /// an event named by several of the terms coming once. Each term holds one page of rows at a time.</summary>
    private async IAsyncEnumerable<Candidate> MergeAsync(IReadOnlyList<TermKey> keys, Cursor from, int perPage, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The first read of each term asks for a page's worth (plus the row that tells whether another page
        // follows); later reads grow (TermIndex.ReadFromAsync), so a selective query does not pay a round trip per page.
        var rows = keys.Select(k => terms.ReadFromAsync(k, from.Chain, from.Height, from.Leaf, perPage + 1, cancellationToken).GetAsyncEnumerator(cancellationToken)).ToList();
        try
        {
            var has = await Task.WhenAll(rows.Select(r => r.MoveNextAsync().AsTask())).ConfigureAwait(false);
            var heap = new PriorityQueue<int, Cursor>();
            for (var i = 0; i < rows.Count; i++)
            {
                if (has[i])
                {
                    heap.Enqueue(i, At(rows[i].Current));
                }
            }

            Cursor? last = null;
            while (heap.TryDequeue(out var i, out var at))
            {
                if (last != at)
                {
                    last = at;
                    yield return new Candidate(at, rows[i].Current.BlockHash);
                }

                if (await rows[i].MoveNextAsync().ConfigureAwait(false))
                {
                    heap.Enqueue(i, At(rows[i].Current));
                }
            }
        }
        finally
        {
            foreach (var row in rows)
            {
                await row.DisposeAsync().ConfigureAwait(false);
            }
        }

        static Cursor At(TermRow row) => new(row.Chain, row.Height, row.Leaf);
    }

    /// <summary>A page from candidates in ledger order: their entries read a few at a time, side by side, and checked in order.</summary>
    private async Task<QueryPage> FromCandidatesAsync(PageBuilder page, IAsyncEnumerable<Candidate> candidates, CancellationToken cancellationToken)
    {
        var batch = new List<Candidate>(FetchAhead);
        await foreach (var candidate in candidates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            batch.Add(candidate);
            if (batch.Count >= Math.Clamp(page.Room, 1, FetchAhead) && await CheckAsync(batch).ConfigureAwait(false) is { } full)
            {
                return full;
            }
        }

        return await CheckAsync(batch).ConfigureAwait(false) ?? page.Last();

        async Task<QueryPage?> CheckAsync(List<Candidate> pending)
        {
            if (pending.Count == 0)
            {
                return null;
            }

            if (page.StopAt(pending[0].At) is { } stopped)
            {
                return stopped;
            }

            var entries = await Task.WhenAll(pending.Select(c => reader.Chain.GetEntryAsync(options.ChainId(c.At.Chain), c.At.Height, c.BlockHash, c.At.Leaf, cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < pending.Count; i++)
            {
                if (page.StopAt(pending[i].At) is { } full)
                {
                    return full;
                }

                page.Offer(entries[i]?.Partner, entries[i]?.Event);
            }

            pending.Clear();
            return null;
        }
    }

    private async Task<QueryPage> ScanAsync(PageBuilder page, Cursor start, CancellationToken cancellationToken)
    {
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
                    if (page.StopAt(new Cursor(chain, height, leaf)) is { } full)
                    {
                        return full;
                    }

                    page.Offer(entries[(int)leaf].Partner, entries[(int)leaf].Event);
                }
            }
        }

        return page.Last();
    }

    /// <summary>
    /// Ordered or counted queries: every matching event the caller may see is gathered (in ledger order), then
    /// ordered, limited and paged. The page token names the first event of the next page by its order key and ledger
    /// position, so a next page is never empty while the matching set stays as it was.
    /// </summary>
    private async Task<QueryPage> WholeResultAsync(EpcisQuery query, Caller caller, List<Candidate>? byEventId, TermPlan? plan, CancellationToken cancellationToken)
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

        if (byEventId is not null || plan is not null)
        {
            // As in RunAsync: candidates by EQ_eventID already name one of the IDs.
            var rest = byEventId is not null ? query with { EventIds = null } : query;
            var candidates = byEventId?.ToAsyncEnumerable() ?? CandidatesAsync(plan!, new Cursor(0, 0, 0), EpcisQuery.MaxPerPage, cancellationToken);
            await foreach (var candidate in candidates.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                var entry = await reader.Chain.GetEntryAsync(options.ChainId(candidate.At.Chain), candidate.At.Height, candidate.BlockHash, candidate.At.Leaf, cancellationToken).ConfigureAwait(false);
                if (entry is not null)
                {
                    Add(candidate.At, entry.Partner, entry.Event, rest);
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

    /// <summary>A candidate event: its ledger position and its block's hash.</summary>
    private readonly record struct Candidate(Cursor At, Hash32 BlockHash);

    /// <summary>
    /// One page as it fills (docs/epcis-query.md, "Paging"): the events that match and that the caller may see, and the
    /// rule of where it stops. It stops, with the position of the next candidate as the token, when it is full or when
    /// it holds an event and has read the page budget; it never stops empty before the end, but refuses the query when
    /// the request budget is spent without a match.
    /// </summary>
    private sealed class PageBuilder(EpcisQuery query, Caller caller, QueryLimits limits)
    {
        private readonly List<ReadOnlyMemory<byte>> _events = [];
        private long _read;

        /// <summary>Events the page still has room for.</summary>
        public int Room => query.PerPage - _events.Count;

        /// <summary>The finished page when it stops before the candidate at <paramref name="next"/>, else null.</summary>
        public QueryPage? StopAt(Cursor next)
        {
            if (_events.Count == query.PerPage || (_events.Count > 0 && _read >= limits.PageBudget))
            {
                return new QueryPage(_events, next.ToToken());
            }

            if (_read >= limits.RequestBudget)
            {
                throw new QueryTooComplexException(string.Create(CultureInfo.InvariantCulture,
                    $"The query read {_read} events without finding one that matches; give an indexed parameter (docs/epcis-query.md) or a narrower one."));
            }

            return null;
        }

        /// <summary>Checks a candidate (a missing entry, null, counts as read).</summary>
        public void Offer(string? partner, ReadOnlyMemory<byte>? json)
        {
            _read++;
            if (json is { } evt && Matches(query, evt) && EventAccess.CanSee(caller, partner!, evt))
            {
                _events.Add(evt);
            }
        }

        /// <summary>The last page: nothing follows.</summary>
        public QueryPage Last() => new(_events, null);
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
