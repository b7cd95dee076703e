using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Supply.Query;

namespace Btmc.Supply.Capture;

/// <summary>What the ledger knows an event did to one identifier: from the term index once sealed, from the pending
/// claims before (then <see cref="Position"/> is null).</summary>
public sealed record EpcFact(string EventId, EpcRoles Roles, string EventType, string? Action, DateTimeOffset EventTime, string? Parent, LedgerPosition? Position)
{
    public static EpcFact Of(TermHit hit) => new(hit.EventId, hit.Roles, hit.EventType, hit.Action, hit.EventTime, hit.Parent, hit.Position);

    public string Where => Position is { } p ? $"sealed in {p.ChainId} block {p.Height} leaf {p.LeafIndex}" : "accepted and awaiting sealing";
}

/// <summary>One refusal: the identifier, what is wrong, and the recorded event it conflicts with.</summary>
public sealed record ConsistencyConflict(string Epc, string Detail, EpcFact ConflictsWith);

/// <summary>
/// Physical consistency at capture (docs/epcis-capture.md, "Physical consistency"): counterfeit and clone detection.
/// A document is refused as a whole (409, naming the conflicting event) when one of its events
/// <list type="number">
/// <item>commissions an identifier that another event already commissioned;</item>
/// <item>consumes an identifier as a TransformationEvent input that another TransformationEvent already consumed;</item>
/// <item>aggregates a child (AggregationEvent ADD) into a parent while, at that event time, the child is still in
/// another parent (added and not taken out by a DELETE naming it, or by a DELETE of that parent naming no
/// children).</item>
/// </list>
/// An event declared erroneous (an errorDeclaration of it is recorded) no longer counts. Error declarations
/// themselves are not checked.
/// The facts are the sealed events (term index) and the accepted events not sealed yet (claims held here, taken when
/// the capture accepts the event and released when the sealer has indexed it). Checking and claiming happen under
/// per-identifier locks, so two captures cannot both pass the same check.
/// </summary>
public sealed class PhysicalConsistency(TermIndex terms)
{
    private const int Stripes = 256;
    private readonly SemaphoreSlim[] _locks = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly ConcurrentDictionary<string, List<EpcFact>> _claims = new(StringComparer.Ordinal);

    /// <summary>Whether an event's terms take part in any rule (most events do not, and skip the checks).</summary>
    public static bool IsRelevant(EventTerms t) =>
        !t.IsErrorDeclaration && t.Epcs.Any(e => Relevant(t, e));

    /// <summary>
    /// Checks the events, in order, against the recorded facts and each other; claims the facts of every event that
    /// passes. Returns the conflicts per event index (empty when all passed). When anything conflicts, the claims of
    /// this call are released again, so a refused document leaves nothing behind.
    /// </summary>
    /// <param name="isDeclaredErroneous">Whether an error declaration of the event is recorded: such an event's facts
    /// no longer count (its corrective events may redo what it did).</param>
    public async Task<IReadOnlyList<(int Index, ConsistencyConflict Conflict)>> CheckAndClaimAsync(
        IReadOnlyList<(int Index, string EventId, EventTerms Terms)> events, Func<string, CancellationToken, Task<bool>> isDeclaredErroneous, CancellationToken cancellationToken)
    {
        var relevant = events.Where(e => IsRelevant(e.Terms)).ToList();
        if (relevant.Count == 0)
        {
            return [];
        }

        // Lock every identifier the rules read: the event's own, and the parents a child may still be in (read under
        // the child's lock: a parent's DELETE-all is claimed under the parent's lock, which is also taken here when
        // the same document names that parent; a concurrent DELETE-all elsewhere can only make a refusal stale).
        var stripes = relevant.SelectMany(e => e.Terms.Epcs.Where(x => Relevant(e.Terms, x)).Select(x => Stripe(x.Epc))).Distinct().Order().ToList();
        foreach (var stripe in stripes)
        {
            await _locks[stripe].WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        var claimed = new List<(string Epc, EpcFact Fact)>();
        var conflicts = new List<(int, ConsistencyConflict)>();
        try
        {
            var facts = new Dictionary<string, List<EpcFact>>(StringComparer.Ordinal);
            foreach (var (index, eventId, t) in relevant)
            {
                foreach (var term in t.Epcs.Where(x => Relevant(t, x)))
                {
                    var known = await FactsAsync(term.Epc, facts, cancellationToken).ConfigureAwait(false);
                    var conflict = await CheckAsync(eventId, t, term, known, facts, isDeclaredErroneous, cancellationToken).ConfigureAwait(false);
                    if (conflict is not null)
                    {
                        conflicts.Add((index, conflict));
                    }
                }

                foreach (var term in t.Epcs.Where(x => Relevant(t, x)))
                {
                    var fact = new EpcFact(eventId, term.Roles, t.EventType, t.Action, t.EventTime, t.Parent, null);
                    facts[term.Epc].Add(fact);
                    Claim(term.Epc, fact);
                    claimed.Add((term.Epc, fact));
                }
            }

            if (conflicts.Count > 0)
            {
                foreach (var (epc, fact) in claimed)
                {
                    Unclaim(epc, fact.EventId);
                }
            }

            return conflicts;
        }
        finally
        {
            foreach (var stripe in stripes)
            {
                _locks[stripe].Release();
            }
        }
    }

    /// <summary>Claims an accepted event's facts without checking (events read back from the log at start).</summary>
    public void ClaimUnchecked(string eventId, EventTerms t)
    {
        if (t.IsErrorDeclaration)
        {
            return;
        }

        foreach (var term in t.Epcs.Where(x => Relevant(t, x)))
        {
            Claim(term.Epc, new EpcFact(eventId, term.Roles, t.EventType, t.Action, t.EventTime, t.Parent, null));
        }
    }

    /// <summary>Releases the claims of an event once the sealer has written its term rows.</summary>
    public void Release(string eventId, EventTerms t)
    {
        if (t.IsErrorDeclaration)
        {
            return;
        }

        foreach (var term in t.Epcs.Where(x => Relevant(t, x)))
        {
            Unclaim(term.Epc, eventId);
        }
    }

    public int ClaimCount => _claims.Count;

    private async Task<ConsistencyConflict?> CheckAsync(string eventId, EventTerms t, EpcTerm term, List<EpcFact> known, Dictionary<string, List<EpcFact>> facts,
        Func<string, CancellationToken, Task<bool>> isDeclaredErroneous, CancellationToken cancellationToken)
    {
        var others = new List<EpcFact>(known.Count);
        foreach (var fact in known)
        {
            if (fact.EventId != eventId && !await isDeclaredErroneous(fact.EventId, cancellationToken).ConfigureAwait(false))
            {
                others.Add(fact);
            }
        }

        if ((term.Roles & EpcRoles.Commissioned) != 0
            && others.FirstOrDefault(f => (f.Roles & EpcRoles.Commissioned) != 0) is { } commissioned)
        {
            return new ConsistencyConflict(term.Epc, $"'{term.Epc}' is commissioned again: event {commissioned.EventId} commissioned it ({commissioned.Where}). A second commissioning of one identifier indicates a clone.", commissioned);
        }

        if (IsConsumedInput(t, term)
            && others.FirstOrDefault(f => f.EventType == "TransformationEvent" && (f.Roles & (EpcRoles.Input | EpcRoles.Quantity)) == EpcRoles.Input) is { } consumed)
        {
            return new ConsistencyConflict(term.Epc, $"'{term.Epc}' is consumed again as a transformation input: event {consumed.EventId} consumed it ({consumed.Where}).", consumed);
        }

        if (IsAggregatedChild(t, term) && await CurrentParentAsync(others, t.EventTime, facts, cancellationToken).ConfigureAwait(false) is { } current && current.Parent != t.Parent)
        {
            return new ConsistencyConflict(term.Epc, $"'{term.Epc}' is aggregated into '{t.Parent}' but is still in '{current.Parent}': event {current.EventId} put it there ({current.Where}) and no DELETE took it out before this event's time.", current);
        }

        return null;
    }

    /// <summary>The aggregation that holds the child at <paramref name="at"/>, if any.</summary>
    private async Task<EpcFact?> CurrentParentAsync(List<EpcFact> childFacts, DateTimeOffset at, Dictionary<string, List<EpcFact>> facts, CancellationToken cancellationToken)
    {
        EpcFact? current = null;
        foreach (var f in childFacts.Where(f => f.EventType == "AggregationEvent" && (f.Roles & EpcRoles.Child) != 0 && f.EventTime <= at).OrderBy(f => f.EventTime))
        {
            if (f.Action == "ADD")
            {
                current = f;
            }
            else if (f.Action == "DELETE" && current is not null && f.Parent == current.Parent)
            {
                current = null;
            }
        }

        if (current?.Parent is not { } parent)
        {
            return null;
        }

        var parentFacts = await FactsAsync(parent, facts, cancellationToken).ConfigureAwait(false);
        var emptied = parentFacts.Any(f => f.EventType == "AggregationEvent" && f.Action == "DELETE" && (f.Roles & EpcRoles.AllChildren) != 0
            && f.EventTime >= current.EventTime && f.EventTime <= at);
        return emptied ? null : current;
    }

    private async Task<List<EpcFact>> FactsAsync(string epc, Dictionary<string, List<EpcFact>> facts, CancellationToken cancellationToken)
    {
        if (facts.TryGetValue(epc, out var known))
        {
            return known;
        }

        // Claims first, sealed rows second: the sealer writes an event's term rows before it releases the claim
        // (and does so without these locks), so every event is seen in at least one of the two reads. Reading the
        // rows first could miss an event sealed and released in between.
        var claimed = new List<EpcFact>();
        if (_claims.TryGetValue(epc, out var claims))
        {
            lock (claims)
            {
                claimed.AddRange(claims);
            }
        }

        var hits = await terms.FindEpcAsync(epc, cancellationToken).ConfigureAwait(false);
        // An error declaration repeats the event it declares erroneous; it is no fact of its own (as with claims).
        known = hits.Where(h => !h.EventId.EndsWith(StoredEvent.ErrorDeclarationFragment, StringComparison.Ordinal)).Select(EpcFact.Of).ToList();

        // A claim and its sealed row can both exist for a moment; the sealed one says more.
        known.AddRange(claimed.Where(c => known.All(k => k.EventId != c.EventId)));
        facts[epc] = known;
        return known;
    }

    private static bool Relevant(EventTerms t, EpcTerm term) =>
        (term.Roles & EpcRoles.Commissioned) != 0
        || IsConsumedInput(t, term)
        || IsAggregatedChild(t, term)
        || (t.EventType == "AggregationEvent" && t.Action == "DELETE" && (term.Roles & (EpcRoles.Child | EpcRoles.AllChildren)) != 0);

    private static bool IsConsumedInput(EventTerms t, EpcTerm term) =>
        t.EventType == "TransformationEvent" && (term.Roles & (EpcRoles.Input | EpcRoles.Quantity)) == EpcRoles.Input;

    private static bool IsAggregatedChild(EventTerms t, EpcTerm term) =>
        t.EventType == "AggregationEvent" && t.Action == "ADD" && t.Parent is not null && (term.Roles & (EpcRoles.Child | EpcRoles.Quantity)) == EpcRoles.Child;

    private void Claim(string epc, EpcFact fact)
    {
        while (true)
        {
            var list = _claims.GetOrAdd(epc, _ => []);
            lock (list)
            {
                // An emptied list is dropped from the map under its lock; adding to a dropped list would lose the claim.
                if (_claims.TryGetValue(epc, out var current) && ReferenceEquals(current, list))
                {
                    list.Add(fact);
                    return;
                }
            }
        }
    }

    private void Unclaim(string epc, string eventId)
    {
        if (!_claims.TryGetValue(epc, out var list))
        {
            return;
        }

        lock (list)
        {
            list.RemoveAll(f => f.EventId == eventId);
            if (list.Count == 0)
            {
                _claims.TryRemove(new KeyValuePair<string, List<EpcFact>>(epc, list));
            }
        }
    }

    private static int Stripe(string epc)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(epc), digest);
        return digest[0];
    }
}
