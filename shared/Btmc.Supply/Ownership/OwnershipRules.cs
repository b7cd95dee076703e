using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Access;
using Btmc.Supply.Query;

namespace Btmc.Supply.Ownership;

/// <summary>Who holds an identifier (owns it, or has custody of it): the registered partner, when the party resolves to
/// one, and the party identifier as the event wrote it, when an event named one. A commissioning partner that named no
/// party has <see cref="Party"/> null; a party under no registered prefix has <see cref="PartnerId"/> null.</summary>
public sealed record AssetHolder(string? PartnerId, string? Party);

/// <summary>One change of an identifier's owner or custodian (<see cref="Change"/> is <c>owner</c> or <c>custodian</c>)
/// and the event that proves it, with its ledger position (null while the event awaits sealing).</summary>
public sealed record OwnershipChange(string Change, AssetHolder? From, AssetHolder To, string EventId, LedgerPosition? Position, DateTimeOffset EventTime)
{
    public const string Owner = "owner";
    public const string Custodian = "custodian";
}

/// <summary>An identifier's current owner and custodian and how they came to be (docs/trade.md, "Ownership").</summary>
public sealed record AssetState(string Epc, AssetHolder Owner, AssetHolder Custodian, IReadOnlyList<OwnershipChange> History)
{
    /// <summary>The change that made the current owner (the last owner change).</summary>
    public OwnershipChange OwnerSince => History.Last(c => c.Change == OwnershipChange.Owner);

    /// <summary>The change that made the current custodian.</summary>
    public OwnershipChange CustodianSince => History.Last(c => c.Change == OwnershipChange.Custodian);
}

/// <summary>A recorded event as the ownership rules read it: its id, where it is sealed (null while pending), the
/// partner that captured it, its terms, and whether it was declared erroneous (then it does not count).</summary>
public sealed record OwnershipEvent(string EventId, LedgerPosition? Position, string Capturer, EventTerms Terms, bool Erroneous = false);

/// <summary>The company prefixes of one registered partner, as the rules used them to tell which partner a party is.</summary>
public sealed record PartnerPrefixes(string PartnerId, IReadOnlyList<string> Prefixes);

/// <summary>An event the ownership rules refuse at capture: the identifier, the member of the event at fault (a JSON
/// Pointer relative to the event), what is wrong, whether it is a conflict with the record (409) or a capture the
/// partner may not make (403), and the change that made the recorded holder.</summary>
public sealed record OwnershipProblem(string Epc, string Member, string Detail, bool Forbidden, OwnershipChange RecordedBy);

/// <summary>
/// Which partner a party is (docs/trade.md, "Parties"), from the registered partners' prefixes: the partner whose prefix
/// covers the party identifier, the identifier itself when none does. Comparing two parties compares their partners
/// when both resolve, their identifiers (canonical spelling) otherwise.
/// </summary>
public sealed class PartyDirectory
{
    private readonly List<Caller> _partners;
    private readonly HashSet<string> _wildcards;

    public PartyDirectory(IEnumerable<PartnerPrefixes> partners)
    {
        Partners = partners.OrderBy(p => p.PartnerId, StringComparer.Ordinal).ToList();
        _partners = Partners.Select(p => new Caller(p.PartnerId, PartnerRoles.Partner, p.Prefixes, [])).ToList();
        _wildcards = Partners.Where(p => p.Prefixes.Contains(Caller.AnyPrefix)).Select(p => p.PartnerId).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The directory of the registry's partners (their owned prefixes; granted prefixes name no party).</summary>
    public static PartyDirectory Of(IEnumerable<Caller> partners) =>
        new(partners.Select(p => new PartnerPrefixes(p.PartnerId, p.Prefixes)));

    public IReadOnlyList<PartnerPrefixes> Partners { get; }

    /// <summary>The holder a party identifier names.</summary>
    public AssetHolder HolderOf(string party) => new(Parties.PartnerOf(party, _partners), party);

    /// <summary>Whether two party identifiers are one party.</summary>
    public bool Same(string a, string b)
    {
        var pa = Parties.PartnerOf(a, _partners);
        var pb = Parties.PartnerOf(b, _partners);
        return pa is not null || pb is not null ? pa == pb : EventTerms.CanonicalEpc(a) == EventTerms.CanonicalEpc(b);
    }

    /// <summary>
    /// Whether <paramref name="party"/> is <paramref name="holder"/>: the same party identifier, or the same registered
    /// partner. A partner holding the wildcard prefix that commissioned without naming a party also speaks for every
    /// party no partner's prefix covers: on a one-company ledger (the embedded default) its own party GLNs resolve to no
    /// partner, and must still be able to ship what it made. <paramref name="exactly"/> leaves that out: a destination
    /// is the holder only when it is the same party or partner, so the wildcard partner can still ship to an outsider.
    /// </summary>
    public bool Is(string party, AssetHolder holder, bool exactly = false)
    {
        if (holder.Party is { } named && EventTerms.CanonicalEpc(named) == EventTerms.CanonicalEpc(party))
        {
            return true;
        }

        var partner = Parties.PartnerOf(party, _partners);
        return partner is not null
            ? partner == holder.PartnerId
            : !exactly && holder.Party is null && holder.PartnerId is { } id && _wildcards.Contains(id);
    }

    /// <summary>Whether a capturing partner speaks for <paramref name="holder"/>: it is that partner, or holds the
    /// wildcard prefix and the holder is a party no partner's prefix covers.</summary>
    public bool SpeaksFor(string partnerId, AssetHolder holder) =>
        holder.PartnerId is { } id ? id == partnerId : _wildcards.Contains(partnerId);
}

/// <summary>
/// The ownership rules (docs/trade.md, "Ownership"), a pure fold over recorded events with no I/O, so that the backend
/// and an offline verifier of an asset bundle reach the same owner from the same events. Apply events in ledger order
/// (<see cref="Order"/>); <see cref="Check"/> says what a new event may not do before it is applied.
/// <list type="bullet">
/// <item>The partner that commissions an identifier (ObjectEvent ADD commissioning; for a quantity class, the first
/// ObjectEvent ADD naming it) owns it and has custody of it, unless the event names a destination owning_party
/// (possessing_party): then that party does.</item>
/// <item>An event naming a source owning_party S and a destination owning_party D that are different parties
/// transfers ownership from S to D of every identifier it names (epcList, quantity classes, parentID, childEPCs, and
/// what is aggregated into them) that S owns; when D owns it already the event confirms (a receiving after the
/// shipping) and changes nothing; when neither owns it, it changes nothing. possessing_party does the same for custody.</item>
/// <item>A TransformationEvent's outputs are owned by the owner of its inputs when they share one, else by the capturing
/// partner; the capturing partner has custody.</item>
/// <item>A child aggregated into a parent (AggregationEvent ADD, until a DELETE naming it or emptying the parent)
/// follows the parent's changes of owner and custodian.</item>
/// <item>An event declared erroneous, and an error declaration itself, do not count.</item>
/// </list>
/// </summary>
public sealed class OwnershipFold(PartyDirectory parties)
{
    private readonly Dictionary<string, Holding> _assets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _children = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _parentOf = new(StringComparer.Ordinal);

    public PartyDirectory Parties => parties;

    /// <summary>Orders events as the rules read them: by event time, then ledger position (pending events last), then id.</summary>
    public static IEnumerable<OwnershipEvent> Order(IEnumerable<OwnershipEvent> events) =>
        events.DistinctBy(e => e.EventId, StringComparer.Ordinal).Order(Comparer<OwnershipEvent>.Create(static (a, b) =>
        {
            var c = a.Terms.EventTime.CompareTo(b.Terms.EventTime);
            if (c == 0)
            {
                c = (a.Position, b.Position) switch
                {
                    (null, null) => 0,
                    (null, _) => 1,
                    (_, null) => -1,
                    var (pa, pb) => TermIndex.ComparePositions(pa!, pb!),
                };
            }

            return c != 0 ? c : string.CompareOrdinal(a.EventId, b.EventId);
        }));

    /// <summary>The state every identifier the events give an owner ends in.</summary>
    public static IReadOnlyDictionary<string, AssetState> Replay(IEnumerable<OwnershipEvent> events, PartyDirectory parties)
    {
        var fold = new OwnershipFold(parties);
        foreach (var e in Order(events))
        {
            fold.Apply(e);
        }

        return fold.States();
    }

    /// <summary>The identifier's state (canonical spelling), or null when no counted event gave it an owner.</summary>
    public AssetState? StateOf(string epc) =>
        _assets.TryGetValue(EventTerms.CanonicalEpc(epc), out var h) ? h.ToState() : null;

    public IReadOnlyDictionary<string, AssetState> States() =>
        _assets.ToDictionary(a => a.Key, a => a.Value.ToState(), StringComparer.Ordinal);

    /// <summary>Applies one event (after every event it follows).</summary>
    public void Apply(OwnershipEvent e)
    {
        var t = e.Terms;
        if (e.Erroneous || t.IsErrorDeclaration)
        {
            return;
        }

        var fresh = new HashSet<string>(StringComparer.Ordinal);
        if (t.EventType == "ObjectEvent" && t.Action == "ADD")
        {
            var owner = Destination(t, "owning_party") is { } d ? parties.HolderOf(d) : new AssetHolder(e.Capturer, null);
            var custodian = Destination(t, "possessing_party") is { } p ? parties.HolderOf(p) : new AssetHolder(e.Capturer, null);
            foreach (var term in t.Epcs.Where(x => (x.Roles & EpcRoles.Commissioned) != 0 || (x.Roles & (EpcRoles.Epc | EpcRoles.Quantity)) == (EpcRoles.Epc | EpcRoles.Quantity)))
            {
                // A second commissioning is refused at capture (docs/epcis-capture.md); the first one stands.
                if (!_assets.ContainsKey(term.Epc))
                {
                    Begin(term.Epc, owner, custodian, e);
                    fresh.Add(term.Epc);
                }
            }
        }

        if (t.EventType == "TransformationEvent")
        {
            var inputOwners = t.Epcs.Where(x => (x.Roles & EpcRoles.Input) != 0 && _assets.ContainsKey(x.Epc))
                .Select(x => _assets[x.Epc].Owner).ToList();
            var common = inputOwners.Count > 0 && inputOwners.All(o => o == inputOwners[0]) ? inputOwners[0] : null;
            foreach (var term in t.Epcs.Where(x => (x.Roles & EpcRoles.Output) != 0 && !_assets.ContainsKey(x.Epc)))
            {
                Begin(term.Epc, common ?? new AssetHolder(e.Capturer, null), new AssetHolder(e.Capturer, null), e);
            }

            return;
        }

        if (t.EventType == "AggregationEvent" && t.Parent is { } parent)
        {
            var named = t.Epcs.Where(x => (x.Roles & EpcRoles.Child) != 0).Select(x => x.Epc).ToList();
            if (t.Action == "ADD")
            {
                foreach (var child in named)
                {
                    Detach(child);
                    (_children.TryGetValue(parent, out var set) ? set : _children[parent] = new HashSet<string>(StringComparer.Ordinal)).Add(child);
                    _parentOf[child] = parent;
                }
            }
            else if (t.Action == "DELETE")
            {
                foreach (var child in named.Count > 0 ? named : _children.GetValueOrDefault(parent)?.ToList() ?? [])
                {
                    if (_parentOf.GetValueOrDefault(child) == parent)
                    {
                        Detach(child);
                    }
                }
            }
        }

        foreach (var epc in Targets(t).Where(x => !fresh.Contains(x)))
        {
            if (_assets.TryGetValue(epc, out var holding))
            {
                Transfer(holding, t, "owning_party", OwnershipChange.Owner, e);
                Transfer(holding, t, "possessing_party", OwnershipChange.Custodian, e);
            }
        }
    }

    /// <summary>
    /// What a new event, captured by <paramref name="capturer"/>, may not do given the state so far (docs/trade.md,
    /// "Ownership", "At capture"): a shipping event whose source owning_party is not the recorded owner conflicts with the
    /// record (409); an event that moves ownership or custody away from its recorded holder may only be captured by a
    /// partner that speaks for the owner or the custodian (403). Identifiers with no recorded owner are not checked.
    /// </summary>
    public IReadOnlyList<OwnershipProblem> Check(EventTerms t, string capturer)
    {
        var problems = new List<OwnershipProblem>();
        if (t.IsErrorDeclaration || t.EventType == "TransformationEvent")
        {
            return problems;
        }

        foreach (var epc in Targets(t))
        {
            if (!_assets.TryGetValue(epc, out var holding))
            {
                continue;
            }

            var state = holding.ToState();
            if (t.BizStep == "shipping" && Party(t, "owning_party", source: true) is { } shipper && !parties.Is(shipper.Id, holding.Owner))
            {
                problems.Add(new OwnershipProblem(epc, $"/sourceList/{shipper.Index}",
                    $"'{epc}' is shipped by '{shipper.Id}', which is not its recorded owner: {Describe(holding.Owner)} owns it since event {state.OwnerSince.EventId}{Where(state.OwnerSince)}. Only the owner may ship it.",
                    Forbidden: false, state.OwnerSince));
                continue;
            }

            foreach (var (type, held, since) in (ReadOnlySpan<(string, AssetHolder, OwnershipChange)>)[("owning_party", holding.Owner, state.OwnerSince), ("possessing_party", holding.Custodian, state.CustodianSince)])
            {
                if (MovesAway(t, type, held) is { } sourceAt
                    && !parties.SpeaksFor(capturer, holding.Owner) && !parties.SpeaksFor(capturer, holding.Custodian))
                {
                    problems.Add(new OwnershipProblem(epc, $"/sourceList/{sourceAt}",
                        $"'{epc}' is moved away from {Describe(held)}, its recorded {(type == "owning_party" ? "owner" : "custodian")} since event {since.EventId}{Where(since)}, by partner '{capturer}': only its owner or custodian may capture that.",
                        Forbidden: true, since));
                    break;
                }
            }
        }

        return problems;
    }

    /// <summary>Whether the event is one the ownership rules check at capture or can change a holder with: it names a
    /// source and a destination of one party type that are different parties, or it is a shipping naming a source
    /// owning_party (checked against the owner even when it names no destination).</summary>
    public static bool IsTransfer(EventTerms t) =>
        !t.IsErrorDeclaration && t.EventType != "TransformationEvent"
        && ((t.BizStep == "shipping" && t.Parties.Any(p => p.IsSource && p.Type == "owning_party"))
        || ((string[])["owning_party", "possessing_party"]).Any(type =>
            t.Parties.FirstOrDefault(p => p.IsSource && p.Type == type) is { } s
            && t.Parties.FirstOrDefault(p => !p.IsSource && p.Type == type) is { } d
            && EventTerms.CanonicalEpc(s.Id) != EventTerms.CanonicalEpc(d.Id)));

    /// <summary>The source index when the event moves the identifier away from <paramref name="held"/>: the source is the
    /// holder and the destination a different party that does not hold it.</summary>
    private int? MovesAway(EventTerms t, string type, AssetHolder held) =>
        Party(t, type, source: true) is { } s && Destination(t, type) is { } d
        && !parties.Same(s.Id, d) && parties.Is(s.Id, held) && !parties.Is(d, held, exactly: true) ? s.Index : null;

    private void Transfer(Holding holding, EventTerms t, string type, string change, OwnershipEvent e)
    {
        if (Party(t, type, source: true)?.Id is not { } source || Destination(t, type) is not { } destination || parties.Same(source, destination))
        {
            return;
        }

        var held = change == OwnershipChange.Owner ? holding.Owner : holding.Custodian;
        if (parties.Is(destination, held, exactly: true) || !parties.Is(source, held))
        {
            // Confirmed (the destination holds it already: a receiving after its shipping), or not the source's to move.
            return;
        }

        var to = parties.HolderOf(destination);
        holding.History.Add(new OwnershipChange(change, held, to, e.EventId, e.Position, e.Terms.EventTime));
        if (change == OwnershipChange.Owner)
        {
            holding.Owner = to;
        }
        else
        {
            holding.Custodian = to;
        }
    }

    private void Begin(string epc, AssetHolder owner, AssetHolder custodian, OwnershipEvent e)
    {
        var holding = new Holding(epc, owner, custodian);
        holding.History.Add(new OwnershipChange(OwnershipChange.Owner, null, owner, e.EventId, e.Position, e.Terms.EventTime));
        holding.History.Add(new OwnershipChange(OwnershipChange.Custodian, null, custodian, e.EventId, e.Position, e.Terms.EventTime));
        _assets[epc] = holding;
    }

    private void Detach(string child)
    {
        if (_parentOf.Remove(child, out var parent) && _children.TryGetValue(parent, out var set))
        {
            set.Remove(child);
        }
    }

    /// <summary>The identifiers an event's parties speak of: those it names (not as transformation inputs or outputs),
    /// and everything aggregated into them, at any depth.</summary>
    private List<string> Targets(EventTerms t)
    {
        var found = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>(t.Epcs.Where(x => (x.Roles & (EpcRoles.Epc | EpcRoles.Child | EpcRoles.Parent)) != 0).Select(x => x.Epc));
        while (queue.TryDequeue(out var epc))
        {
            if (!seen.Add(epc))
            {
                continue;
            }

            found.Add(epc);
            foreach (var child in _children.GetValueOrDefault(epc) ?? [])
            {
                queue.Enqueue(child);
            }
        }

        return found;
    }

    private static PartyAt? Party(EventTerms t, string type, bool source)
    {
        var index = 0;
        foreach (var p in t.Parties.Where(p => p.IsSource == source))
        {
            if (p.Type == type)
            {
                return new PartyAt(index, p.Id);
            }

            index++;
        }

        return null;
    }

    private static string? Destination(EventTerms t, string type) => Party(t, type, source: false)?.Id;

    private static string Describe(AssetHolder h) =>
        h.PartnerId is { } id ? (h.Party is { } p ? $"partner '{id}' ('{p}')" : $"partner '{id}'") : $"party '{h.Party}'";

    private static string Where(OwnershipChange c) =>
        c.Position is { } p ? $" (sealed in {p.ChainId} block {p.Height} leaf {p.LeafIndex})" : " (accepted and awaiting sealing)";

    /// <summary>A source or destination and its index in its list (for the pointer of a refusal).</summary>
    private readonly record struct PartyAt(int Index, string Id);

    private sealed class Holding(string epc, AssetHolder owner, AssetHolder custodian)
    {
        public AssetHolder Owner { get; set; } = owner;

        public AssetHolder Custodian { get; set; } = custodian;

        public List<OwnershipChange> History { get; } = [];

        public AssetState ToState() => new(epc, Owner, Custodian, History.ToList());
    }
}
