using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Ownership;
using Btmc.Supply.Query;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Capture;

/// <summary>What the ledger knows an event did to one identifier: from the term index once sealed, from the claims
/// table before (then <see cref="Position"/> is null).</summary>
public sealed record EpcFact(string EventId, EpcRoles Roles, string EventType, string? Action, DateTimeOffset EventTime, string? Parent, LedgerPosition? Position)
{
    public static EpcFact Of(TermHit hit) => new(hit.EventId, hit.Roles, hit.EventType, hit.Action, hit.EventTime, hit.Parent, hit.Position);

    public string Where => Position is { } p ? $"sealed in {p.ChainId} block {p.Height} leaf {p.LeafIndex}" : "accepted and awaiting sealing";
}

/// <summary>One refusal: the identifier, what is wrong, and the recorded event it conflicts with. <see cref="Member"/>, when
/// set, is the member of the event at fault (a JSON Pointer relative to the event; otherwise the identifier's own);
/// <see cref="Forbidden"/> marks an ownership refusal of who captures (403) rather than a conflict with the record.</summary>
public sealed record ConsistencyConflict(string Epc, string Detail, EpcFact ConflictsWith, string? Member = null, bool Forbidden = false);

/// <summary>The roles a claim row is kept under (the row key of a claim's head row).</summary>
public static class ClaimRoles
{
    /// <summary>The identifier's commissioning (rule 1).</summary>
    public const string Commissioned = "commissioned";

    /// <summary>The identifier's consumption as a TransformationEvent input (rule 2).</summary>
    public const string Consumed = "consumed";

    /// <summary>The identifier's aggregations: ADDs and DELETEs naming it as a child, DELETEs emptying it as a parent (rule 3).</summary>
    public const string Aggregation = "aggregation";

    /// <summary>The identifier's moves between owners or custodians: events naming a source and a destination party
    /// (docs/trade.md, "Ownership"). Versioning them makes two concurrent shipments of one lot conflict.</summary>
    public const string Ownership = "ownership";
}

/// <summary>The states of <see cref="ClaimRecord.State"/>.</summary>
public static class ClaimStates
{
    /// <summary>Claimed by a capture that has not appended its events yet (or never will: a crash).</summary>
    public const string Pending = "pending";

    /// <summary>The event is on the supply-events stream: the claim holds until the event is declared erroneous.</summary>
    public const string Durable = "durable";
}

/// <summary>
/// One claim: what an accepted event does to one identifier in one role, as a row of the claims table
/// (docs/storage-layout.md, "claims"). <see cref="ETag"/> is the row's as last read or written.
/// </summary>
public sealed record ClaimRecord(string Epc, string Role, string EventId, string CaptureId, EpcRoles Roles, string EventType, string? Action, DateTimeOffset EventTime, string? Parent, string State, DateTimeOffset ClaimedAt)
{
    public string PartitionKey { get; } = PhysicalConsistency.ClaimPartition(Epc);

    public string RowKey { get; } = PhysicalConsistency.ClaimRow(Role, EventId);

    public string? ETag { get; init; }

    public EpcFact Fact => new(EventId, Roles, EventType, Action, EventTime, Parent, null);

    /// <summary>The partner that captured the event (null in rows written before ownership was tracked).</summary>
    public string? Capturer { get; init; }

    /// <summary>The event's sources and destinations, for the ownership rules (none when it names none).</summary>
    public IReadOnlyList<EventParty> Parties { get; init; } = [];

    /// <summary>The event as the ownership rules read it before it is sealed: only this identifier, with its roles.</summary>
    public OwnershipEvent? AsOwnershipEvent() => Capturer is null ? null
        : new OwnershipEvent(EventId, null, Capturer, new EventTerms(EventType, Action, EventTime, null, null, false, Parent, [new EpcTerm(Epc, Roles)], Parties));
}

/// <summary>The claim rows one capture wrote, and when it took them (see <see cref="PhysicalConsistency.ClaimLease"/>).</summary>
public sealed record ConsistencyClaims(string CaptureId, DateTimeOffset ClaimedAt, IReadOnlyList<ClaimRecord> Rows);

/// <summary>What <c>PhysicalConsistency.CheckAndClaimAsync</c> found: the conflicts per event index (then nothing
/// was claimed), or the claims it took.</summary>
public sealed record ConsistencyOutcome(IReadOnlyList<(int Index, ConsistencyConflict Conflict)> Conflicts, ConsistencyClaims Claims);

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
/// <para>
/// The facts are the sealed events (term index) and the accepted events' claims in the claims table, shared by every
/// server on the table store. A claim is one row per identifier, role and event, beside a head row per identifier
/// and role (<see cref="ClaimRoles"/>) whose ETag versions that role: a capture reads the rows, checks, and writes its
/// claims in one transaction per identifier that replaces each head it read with its ETag (or inserts a head that was
/// absent). Of two servers that checked the same state, only one transaction commits; the other gets 409 or 412,
/// reads again and finds the winner's claim. In-process locks per identifier only spare such round trips; memory holds
/// nothing the checks rely on.
/// </para>
/// <para>
/// A claim is <see cref="ClaimStates.Pending"/> until the capture's events are on the supply-events stream, then
/// <see cref="ClaimStates.Durable"/>. A pending claim older than <see cref="ClaimLease"/> whose event is neither sealed
/// nor pending in this process belongs to a capture that died between claim and append (kill -9): it no longer
/// counts, and the next claim on that identifier and role deletes it in its transaction. Claims of sealed events are
/// deleted the same way (the term index holds them now), so claim rows do not pile up for identifiers in use, and so
/// are claims of events declared erroneous: a corrective event takes the identifier over.
/// </para>
/// </summary>
public sealed class PhysicalConsistency(TermIndex terms, SupplyTables tables, PendingEvents pending, SupplyReader reader, TimeProvider time)
{
    /// <summary>
    /// How long a pending claim holds without its event being sealed or pending here. It must outlast any capture's
    /// claim-to-append time, or a slow capture's claim could be taken over while its events are still being appended:
    /// a capture publishes only while its claims are younger than <see cref="PublishWithin"/>, and a publication ends
    /// within about 7 minutes at worst (Event Hubs: 4 tries of at most 100 s, Azure.Core's network timeout, plus
    /// back-off; the embedded log appends in milliseconds). So 10 minutes; after a kill -9 between claim and append,
    /// the identifiers are free again at most that long afterwards.
    /// </summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(10);

    /// <summary>A capture whose claims are older than this when it is about to publish refuses instead (503, nothing
    /// accepted): its store writes were slow, and publishing then could outlast <see cref="ClaimLease"/>.</summary>
    public static readonly TimeSpan PublishWithin = TimeSpan.FromMinutes(2);

    /// <summary>How often a capture reads and checks again after another server's claim changed what it read.</summary>
    public const int MaxClaimAttempts = 8;

    private const int Stripes = 256;
    private const int ParallelReads = 16;
    private readonly SemaphoreSlim[] _locks = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>The ownership rules' view of the ledger; when set, captures with a known capturer are checked against
    /// them too (docs/trade.md, "Ownership", "At capture").</summary>
    public OwnershipTracker? Ownership { get; set; }

    /// <summary>Whether an event's terms take part in any rule (most events do not, and skip the checks).</summary>
    public static bool IsRelevant(EventTerms t) =>
        !t.IsErrorDeclaration && t.Epcs.Any(e => Relevant(t, e));

    /// <summary>The claims-table PartitionKey of an identifier (canonical spelling): its term key, escaped as the
    /// term index escapes it, so an identifier's claims are one partition and one transaction.</summary>
    public static string ClaimPartition(string canonicalEpc) => TermIndex.EpcKey(canonicalEpc);

    /// <summary>The RowKey of an event's claim in a role: the role, '|', and SHA-256 of the event id in hex (an event
    /// id holds characters keys forbid).</summary>
    public static string ClaimRow(string role, string eventId)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(eventId), digest);
        return role + "|" + Convert.ToHexStringLower(digest);
    }

    /// <summary>
    /// Checks the events, in order, against the recorded facts and each other; claims the facts of every event when
    /// all pass. Returns the conflicts per event index (then nothing is claimed), or the claims taken.
    /// </summary>
    public Task<ConsistencyOutcome> CheckAndClaimAsync(string captureId, IReadOnlyList<(int Index, string EventId, EventTerms Terms)> events, CancellationToken cancellationToken) =>
        CheckAndClaimAsync(captureId, capturer: null, events, cancellationToken);

    /// <summary>
    /// As <see cref="CheckAndClaimAsync(string, IReadOnlyList{ValueTuple{int, string, EventTerms}}, CancellationToken)"/>,
    /// and, with <paramref name="capturer"/> and <see cref="Ownership"/> set, checks the ownership rules too: in the same
    /// attempt, over the same claim rows, so that the conditional write covers them (two concurrent shipments of one lot
    /// by its owner cannot both be accepted, on any two servers).
    /// </summary>
    public async Task<ConsistencyOutcome> CheckAndClaimAsync(string captureId, string? capturer, IReadOnlyList<(int Index, string EventId, EventTerms Terms)> events, CancellationToken cancellationToken)
    {
        var relevant = events.Where(e => IsRelevant(e.Terms)).ToList();
        if (relevant.Count == 0)
        {
            return new ConsistencyOutcome([], new ConsistencyClaims(captureId, time.GetUtcNow(), []));
        }

        // Lock every identifier the rules read: the event's own, and the parents a child may still be in (read under
        // the child's lock: a parent's DELETE-all is claimed under the parent's lock, which is also taken here when
        // the same document names that parent; a concurrent DELETE-all elsewhere can only make a refusal stale).
        // Other servers do not take these locks: the conditional writes decide between them.
        var stripes = relevant.SelectMany(e => e.Terms.Epcs.Where(x => Relevant(e.Terms, x)).Select(x => Stripe(x.Epc))).Distinct().Order().ToList();
        foreach (var stripe in stripes)
        {
            await _locks[stripe].WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var claimedAt = time.GetUtcNow();
                var view = new ClaimView();
                await view.LoadAsync(this, relevant.SelectMany(e => e.Terms.Epcs.Where(x => Relevant(e.Terms, x)).Select(x => x.Epc)).Distinct(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
                var conflicts = new List<(int, ConsistencyConflict)>();
                var toClaim = new List<ClaimRecord>();
                foreach (var (index, eventId, t) in relevant)
                {
                    foreach (var term in t.Epcs.Where(x => Relevant(t, x)))
                    {
                        var known = await view.FactsAsync(this, term.Epc, cancellationToken).ConfigureAwait(false);
                        var conflict = await CheckAsync(eventId, t, term, known, view, cancellationToken).ConfigureAwait(false);
                        if (conflict is not null)
                        {
                            conflicts.Add((index, conflict));
                        }
                    }

                    foreach (var term in t.Epcs.Where(x => Relevant(t, x)))
                    {
                        (await view.FactsAsync(this, term.Epc, cancellationToken).ConfigureAwait(false)).Add(new EpcFact(eventId, term.Roles, t.EventType, t.Action, t.EventTime, t.Parent, null));
                        toClaim.AddRange(RolesOf(t, term).Select(role =>
                            new ClaimRecord(term.Epc, role, eventId, captureId, term.Roles, t.EventType, t.Action, t.EventTime, t.Parent, ClaimStates.Pending, claimedAt)
                            {
                                Capturer = capturer,
                                Parties = t.Parties,
                            }));
                    }
                }

                if (conflicts.Count == 0 && capturer is not null && Ownership is not null && relevant.Any(e => OwnershipFold.IsTransfer(e.Terms)))
                {
                    conflicts.AddRange(await CheckOwnershipAsync(capturer, events, relevant, view, cancellationToken).ConfigureAwait(false));
                }

                if (conflicts.Count > 0)
                {
                    return new ConsistencyOutcome(conflicts, new ConsistencyClaims(captureId, claimedAt, []));
                }

                var written = new ConcurrentBag<ClaimRecord>();
                bool committed;
                try
                {
                    var outcomes = await Task.WhenAll(toClaim.GroupBy(c => c.Epc, StringComparer.Ordinal)
                        .Select(group => TryWriteAsync(group.ToList(), view.Rows[group.Key], claimedAt, written, cancellationToken))).ConfigureAwait(false);
                    committed = outcomes.All(ok => ok);
                }
                catch
                {
                    await ReleaseAsync(new ConsistencyClaims(captureId, claimedAt, [.. written]), CancellationToken.None).ConfigureAwait(false);
                    throw;
                }

                var claims = new ConsistencyClaims(captureId, claimedAt, [.. written]);
                if (committed)
                {
                    return new ConsistencyOutcome([], claims);
                }

                // Another server claimed on one of these identifiers since they were read: undo, read and check again.
                await ReleaseAsync(claims, CancellationToken.None).ConfigureAwait(false);
                if (attempt == MaxClaimAttempts)
                {
                    throw new Refused(RefusalKind.Busy, "body",
                        $"The identifiers of this document were claimed by other captures {MaxClaimAttempts} times while it was checked. Nothing of this document was accepted; send it again.",
                        "Claims contended");
                }
            }
        }
        finally
        {
            foreach (var stripe in stripes)
            {
                _locks[stripe].Release();
            }
        }
    }

    /// <summary>
    /// The ownership rules over this attempt's reads: the sealed events bearing on the identifiers the document's
    /// transfers name, and the accepted-but-unsealed events claimed on them (on any server), then the document's events
    /// in order, each checked before it is applied. Unsealed events elsewhere that bear on them only through a parent
    /// are not seen (a stale acceptance across servers, documented in docs/trade.md).
    /// </summary>
    private async Task<List<(int, ConsistencyConflict)>> CheckOwnershipAsync(string capturer, IReadOnlyList<(int Index, string EventId, EventTerms Terms)> events,
        List<(int Index, string EventId, EventTerms Terms)> relevant, ClaimView view, CancellationToken cancellationToken)
    {
        var named = relevant.Where(e => OwnershipFold.IsTransfer(e.Terms)).SelectMany(e => e.Terms.Epcs.Where(x => IsOwnershipMove(e.Terms, x) && view.Rows.ContainsKey(x.Epc)).Select(x => x.Epc))
            .Distinct(StringComparer.Ordinal).ToList();
        var unsealed = new List<OwnershipEvent>();
        foreach (var epc in named)
        {
            var rows = view.Rows[epc];
            unsealed.AddRange(rows.Claims.Where(c => !rows.Lapsed.Contains(c) && c.Role is ClaimRoles.Ownership or ClaimRoles.Commissioned)
                .Select(c => c.AsOwnershipEvent()).OfType<OwnershipEvent>());
        }

        var fold = await Ownership!.FoldAsync(named, unsealed, cancellationToken).ConfigureAwait(false);
        var conflicts = new List<(int, ConsistencyConflict)>();
        foreach (var (index, eventId, t) in events)
        {
            foreach (var problem in fold.Check(t, capturer))
            {
                var by = problem.RecordedBy;
                conflicts.Add((index, new ConsistencyConflict(problem.Epc, problem.Detail,
                    new EpcFact(by.EventId, EpcRoles.None, string.Empty, null, by.EventTime, null, by.Position), problem.Member, problem.Forbidden)));
            }

            fold.Apply(new OwnershipEvent(eventId, null, capturer, t));
        }

        return conflicts;
    }

    /// <summary>Whether a capture's claims are too old for it to publish now (see <see cref="PublishWithin"/>).</summary>
    public bool IsTooOldToPublish(ConsistencyClaims claims) =>
        claims.Rows.Count > 0 && time.GetUtcNow() - claims.ClaimedAt > PublishWithin;

    /// <summary>Marks a capture's claims durable once its events are on the supply-events stream: from then on they hold
    /// until their event is declared erroneous. One transaction per identifier.</summary>
    public async Task MarkDurableAsync(ConsistencyClaims claims, CancellationToken cancellationToken)
    {
        // Unconditional: whatever happened to the row since (another capture of the same event took it over, say),
        // the event is durable now, and the row must say so.
        await Task.WhenAll(claims.Rows.GroupBy(c => c.PartitionKey, StringComparer.Ordinal).Select(group =>
            TableTransactions.SubmitAsync(tables.Claims, group.Select(c => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                ToEntity(c with { State = ClaimStates.Durable }))).ToList(), cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes a capture's pending claims (its document was refused after all, or its append failed), so they block
    /// nothing. A row another capture has taken over since (a different capture id, or durable) stays. A failure here
    /// leaves pending claims, which lapse after <see cref="ClaimLease"/>.
    /// </summary>
    public async Task ReleaseAsync(ConsistencyClaims claims, CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(claims.Rows, new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken }, async (claim, ct) =>
        {
            var row = await tables.Claims.GetEntityIfExistsAsync(claim.PartitionKey, claim.RowKey, ct).ConfigureAwait(false);
            if (row is null || FromEntity(row) is not { State: ClaimStates.Pending } current || current.CaptureId != claims.CaptureId)
            {
                return;
            }

            try
            {
                await tables.Claims.DeleteEntityAsync(claim.PartitionKey, claim.RowKey, row.ETag!, ct).ConfigureAwait(false);
            }
            catch (TableStoreException ex) when (ex.Status == 412)
            {
                // Changed since it was read: another capture of the same event holds it now.
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Claims an accepted event's facts without checking: events read back from the log at start, which are durable
    /// (the log holds them), so their claims are written durable. Bumps each head, so a check that read the rows
    /// before this write cannot commit on them.
    /// </summary>
    public async Task ClaimUncheckedAsync(string captureId, string eventId, EventTerms t, CancellationToken cancellationToken) =>
        await ClaimUncheckedAsync(captureId, capturer: null, eventId, t, cancellationToken).ConfigureAwait(false);

    /// <summary>As <see cref="ClaimUncheckedAsync(string, string, EventTerms, CancellationToken)"/>, recording the capturing
    /// partner for the ownership rules.</summary>
    public async Task ClaimUncheckedAsync(string captureId, string? capturer, string eventId, EventTerms t, CancellationToken cancellationToken)
    {
        if (t.IsErrorDeclaration)
        {
            return;
        }

        var now = time.GetUtcNow();
        var byEpc = t.Epcs.Where(x => Relevant(t, x)).Select(term => (term.Epc, Actions: RolesOf(t, term).SelectMany(role => new[]
        {
            new TableTransactionAction(TableTransactionActionType.UpsertMerge, Head(term.Epc, role, now)),
            new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(new ClaimRecord(term.Epc, role, eventId, captureId, term.Roles, t.EventType, t.Action, t.EventTime, t.Parent, ClaimStates.Durable, now)
            {
                Capturer = capturer,
                Parties = t.Parties,
            })),
        }).ToList()));
        foreach (var (_, actions) in byEpc)
        {
            await TableTransactions.SubmitAsync(tables.Claims, actions, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every claim row of an identifier (canonical spelling), in row-key order.</summary>
    public async Task<IReadOnlyList<ClaimRecord>> ReadClaimsAsync(string canonicalEpc, CancellationToken cancellationToken = default) =>
        (await ReadRowsAsync(canonicalEpc, cancellationToken).ConfigureAwait(false)).Claims;

    private async Task<ConsistencyConflict?> CheckAsync(string eventId, EventTerms t, EpcTerm term, List<EpcFact> known, ClaimView view, CancellationToken cancellationToken)
    {
        var others = new List<EpcFact>(known.Count);
        foreach (var fact in known)
        {
            if (fact.EventId == eventId)
            {
                continue;
            }

            if (!await IsDeclaredErroneousAsync(fact.EventId, cancellationToken).ConfigureAwait(false))
            {
                others.Add(fact);
            }
            else if (fact.Position is null)
            {
                // Its claim no longer counts: a claim written on this identifier takes it over (deletes its row).
                view.Lapse(term.Epc, fact.EventId);
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

        if (IsAggregatedChild(t, term) && await CurrentParentAsync(others, t.EventTime, view, cancellationToken).ConfigureAwait(false) is { } current && current.Parent != t.Parent)
        {
            return new ConsistencyConflict(term.Epc, $"'{term.Epc}' is aggregated into '{t.Parent}' but is still in '{current.Parent}': event {current.EventId} put it there ({current.Where}) and no DELETE took it out before this event's time.", current);
        }

        return null;
    }

    /// <summary>The aggregation that holds the child at <paramref name="at"/>, if any.</summary>
    private async Task<EpcFact?> CurrentParentAsync(List<EpcFact> childFacts, DateTimeOffset at, ClaimView view, CancellationToken cancellationToken)
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

        var parentFacts = await view.FactsAsync(this, parent, cancellationToken).ConfigureAwait(false);
        var emptied = parentFacts.Any(f => f.EventType == "AggregationEvent" && f.Action == "DELETE" && (f.Roles & EpcRoles.AllChildren) != 0
            && f.EventTime >= current.EventTime && f.EventTime <= at);
        return emptied ? null : current;
    }

    /// <summary>An error declaration of the event is accepted here or sealed. (One accepted on another server and not
    /// sealed yet is not seen: the corrective event is refused until it is, a stale refusal, never a wrong acceptance.)</summary>
    private async Task<bool> IsDeclaredErroneousAsync(string eventId, CancellationToken cancellationToken)
    {
        var declaration = StoredEvent.ErrorDeclarationId(eventId);
        return pending.TryGet(declaration, out _) || await reader.FindSealedAsync(declaration, cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>
    /// Writes the claims on one identifier in one transaction: each role's head replaced with the ETag read (inserted
    /// when none was read), each claim added (or, when the same event's claim row exists, replaced with its ETag), and
    /// the rows of those roles that no longer count deleted with theirs. False when another writer got there first.
    /// </summary>
    private async Task<bool> TryWriteAsync(List<ClaimRecord> claims, EpcRows rows, DateTimeOffset claimedAt, ConcurrentBag<ClaimRecord> written, CancellationToken cancellationToken)
    {
        var epc = claims[0].Epc;
        var roles = claims.Select(c => c.Role).Distinct(StringComparer.Ordinal).ToList();
        var actions = new List<TableTransactionAction>();
        var claimOf = new List<ClaimRecord?>();
        foreach (var role in roles)
        {
            actions.Add(rows.Heads.TryGetValue(role, out var etag)
                ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, Head(epc, role, claimedAt), etag)
                : new TableTransactionAction(TableTransactionActionType.Add, Head(epc, role, claimedAt)));
            claimOf.Add(null);
        }

        foreach (var claim in claims)
        {
            if (rows.Claims.FirstOrDefault(r => r.RowKey == claim.RowKey) is { } existing)
            {
                // The same event claimed before (a retry of a capture that failed, or the event captured again): this
                // capture's claim now, durable if the event already is.
                var state = existing.State == ClaimStates.Durable ? ClaimStates.Durable : ClaimStates.Pending;
                actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(claim with { State = state }), existing.ETag!));
                claimOf.Add(claim with { State = state });
            }
            else
            {
                actions.Add(new TableTransactionAction(TableTransactionActionType.Add, ToEntity(claim)));
                claimOf.Add(claim);
            }
        }

        foreach (var lapsed in rows.Lapsed.Where(r => roles.Contains(r.Role) && claims.All(c => c.RowKey != r.RowKey)))
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(lapsed.PartitionKey, lapsed.RowKey, new Dictionary<string, object>()), lapsed.ETag!));
            claimOf.Add(null);
        }

        // More than 100 actions (one identifier named by very many events of one document) take several transactions:
        // only the first holds the heads, which is what makes the write conditional; the rest add claims.
        var at = 0;
        foreach (var chunk in TableTransactions.Split(actions))
        {
            try
            {
                var etags = await tables.Claims.SubmitTransactionAsync(chunk, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < chunk.Count; i++)
                {
                    if (claimOf[at + i] is { } claim)
                    {
                        written.Add(claim with { ETag = etags[i] });
                    }
                }
            }
            catch (TableStoreException ex) when (ex.Status is 404 or 409 or 412)
            {
                return false;
            }

            at += chunk.Count;
        }

        return true;
    }

    /// <summary>Reads an identifier's claim rows, then its sealed facts (in that order, see <see cref="ClaimView"/>).</summary>
    private async Task<EpcRows> LoadAsync(string epc, CancellationToken cancellationToken)
    {
        var rows = await ReadRowsAsync(epc, cancellationToken).ConfigureAwait(false);
        var hits = await terms.FindEpcAsync(epc, cancellationToken).ConfigureAwait(false);
        // An error declaration repeats the event it declares erroneous; it is no fact of its own (as with claims).
        var known = hits.Where(h => !h.EventId.EndsWith(StoredEvent.ErrorDeclarationFragment, StringComparison.Ordinal)).Select(EpcFact.Of).ToList();
        var sealedIds = new HashSet<string>(hits.Select(h => h.EventId), StringComparer.Ordinal);
        var now = time.GetUtcNow();
        foreach (var claim in rows.Claims)
        {
            if (sealedIds.Contains(claim.EventId))
            {
                // The term index says more (where it is sealed); the row may go.
                rows.Lapsed.Add(claim);
            }
            else if (claim.State == ClaimStates.Pending && now - claim.ClaimedAt >= ClaimLease && !pending.TryGet(claim.EventId, out _)
                && await reader.FindSealedAsync(claim.EventId, cancellationToken).ConfigureAwait(false) is null)
            {
                // Its capture died between claim and append: the event is nowhere, and the claim no longer counts.
                rows.Lapsed.Add(claim);
            }
            else if (known.All(k => k.EventId != claim.EventId))
            {
                known.Add(claim.Fact);
            }
        }

        rows.Facts = known;
        return rows;
    }

    private async Task<EpcRows> ReadRowsAsync(string epc, CancellationToken cancellationToken)
    {
        var rows = new EpcRows();
        await foreach (var row in tables.Claims.QueryAllAsync(new TableQuery(ClaimPartition(epc)), cancellationToken).ConfigureAwait(false))
        {
            if (row.RowKey.Contains('|', StringComparison.Ordinal))
            {
                rows.Claims.Add(FromEntity(row));
            }
            else
            {
                rows.Heads[row.RowKey] = row.ETag!;
            }
        }

        return rows;
    }

    private static TableEntity Head(string epc, string role, DateTimeOffset at) =>
        new(ClaimPartition(epc), role, new Dictionary<string, object> { ["Epc"] = epc, ["UpdatedAt"] = at });

    private static TableEntity ToEntity(ClaimRecord c)
    {
        var properties = new Dictionary<string, object>
        {
            ["Epc"] = c.Epc,
            ["Role"] = c.Role,
            ["EventId"] = c.EventId,
            ["CaptureId"] = c.CaptureId,
            ["Roles"] = (long)c.Roles,
            ["EventType"] = c.EventType,
            ["Action"] = c.Action ?? string.Empty,
            ["EventTime"] = c.EventTime,
            ["State"] = c.State,
            ["ClaimedAt"] = c.ClaimedAt,
        };
        if (c.Parent is not null)
        {
            properties["Parent"] = c.Parent;
        }

        if (c.Capturer is not null)
        {
            properties["Capturer"] = c.Capturer;
        }

        if (c.Parties.Count > 0)
        {
            properties["Parties"] = JsonSerializer.Serialize(c.Parties);
        }

        return new TableEntity(c.PartitionKey, c.RowKey, properties);
    }

    private static ClaimRecord FromEntity(TableEntity row) => new(
        row.GetString("Epc"),
        row.GetString("Role"),
        row.GetString("EventId"),
        row.GetString("CaptureId"),
        (EpcRoles)(int)row.GetInt64("Roles"),
        row.GetString("EventType"),
        row.GetString("Action") is { Length: > 0 } action ? action : null,
        (DateTimeOffset)row.Properties["EventTime"],
        row.Properties.TryGetValue("Parent", out var parent) ? (string)parent : null,
        row.GetString("State"),
        (DateTimeOffset)row.Properties["ClaimedAt"])
    {
        ETag = row.ETag,
        Capturer = row.Properties.TryGetValue("Capturer", out var capturer) ? (string)capturer : null,
        Parties = row.Properties.TryGetValue("Parties", out var parties) ? JsonSerializer.Deserialize<List<EventParty>>((string)parties) ?? [] : [],
    };

    private static bool Relevant(EventTerms t, EpcTerm term) =>
        (term.Roles & EpcRoles.Commissioned) != 0
        || IsConsumedInput(t, term)
        || IsAggregation(t, term)
        || IsOwnershipMove(t, term);

    /// <summary>The claim roles of an identifier in an event (a relevant term has at least one).</summary>
    private static IEnumerable<string> RolesOf(EventTerms t, EpcTerm term)
    {
        if ((term.Roles & EpcRoles.Commissioned) != 0)
        {
            yield return ClaimRoles.Commissioned;
        }

        if (IsConsumedInput(t, term))
        {
            yield return ClaimRoles.Consumed;
        }

        if (IsAggregation(t, term))
        {
            yield return ClaimRoles.Aggregation;
        }

        if (IsOwnershipMove(t, term))
        {
            yield return ClaimRoles.Ownership;
        }
    }

    /// <summary>
    /// An identifier whose ownership the event records (docs/trade.md, "Ownership"): one it moves between parties and
    /// names directly, or a quantity class an ObjectEvent ADD names (its first such ADD makes the owner, and a lot's
    /// commissioning has no clone rule of its own to claim it). Commissioned instances are claimed as commissioned.
    /// </summary>
    private static bool IsOwnershipMove(EventTerms t, EpcTerm term) =>
        ((term.Roles & (EpcRoles.Epc | EpcRoles.Child | EpcRoles.Parent)) != 0 && OwnershipFold.IsTransfer(t))
        || (t.EventType == "ObjectEvent" && t.Action == "ADD" && !t.IsErrorDeclaration && (term.Roles & (EpcRoles.Epc | EpcRoles.Quantity)) == (EpcRoles.Epc | EpcRoles.Quantity));

    private static bool IsAggregation(EventTerms t, EpcTerm term) =>
        IsAggregatedChild(t, term)
        || (t.EventType == "AggregationEvent" && t.Action == "DELETE" && (term.Roles & (EpcRoles.Child | EpcRoles.AllChildren)) != 0);

    private static bool IsConsumedInput(EventTerms t, EpcTerm term) =>
        t.EventType == "TransformationEvent" && (term.Roles & (EpcRoles.Input | EpcRoles.Quantity)) == EpcRoles.Input;

    private static bool IsAggregatedChild(EventTerms t, EpcTerm term) =>
        t.EventType == "AggregationEvent" && t.Action == "ADD" && t.Parent is not null && (term.Roles & (EpcRoles.Child | EpcRoles.Quantity)) == EpcRoles.Child;

    private static int Stripe(string epc)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(epc), digest);
        return digest[0];
    }

    /// <summary>An identifier's claim rows as read: the heads' ETags by role, the claims, and those that no longer
    /// count (sealed, or lapsed pending); <see cref="Facts"/> what the checks go by.</summary>
    private sealed class EpcRows
    {
        public Dictionary<string, string> Heads { get; } = new(StringComparer.Ordinal);

        public List<ClaimRecord> Claims { get; } = [];

        public List<ClaimRecord> Lapsed { get; } = [];

        public List<EpcFact> Facts { get; set; } = [];
    }

    /// <summary>
    /// One attempt's reads. Claim rows are read before sealed rows: the sealer writes an event's term rows before any
    /// capture deletes its claim, so every event is seen in at least one of the two reads. Reading the term rows first
    /// could miss an event sealed, and its claim deleted, in between.
    /// </summary>
    private sealed class ClaimView
    {
        private readonly ConcurrentDictionary<string, EpcRows> _rows = new(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, EpcRows> Rows => _rows;

        /// <summary>Reads the identifiers side by side (a document commissioning a hundred items reads a hundred partitions).</summary>
        public Task LoadAsync(PhysicalConsistency owner, IEnumerable<string> epcs, CancellationToken cancellationToken) =>
            Parallel.ForEachAsync(epcs, new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken }, async (epc, ct) =>
                _rows[epc] = await owner.LoadAsync(epc, ct).ConfigureAwait(false));

        public void Lapse(string epc, string eventId)
        {
            var rows = _rows[epc];
            rows.Lapsed.AddRange(rows.Claims.Where(c => c.EventId == eventId && !rows.Lapsed.Contains(c)));
        }

        public async Task<List<EpcFact>> FactsAsync(PhysicalConsistency owner, string epc, CancellationToken cancellationToken)
        {
            if (!_rows.TryGetValue(epc, out var rows))
            {
                _rows[epc] = rows = await owner.LoadAsync(epc, cancellationToken).ConfigureAwait(false);
            }

            return rows.Facts;
        }
    }
}
