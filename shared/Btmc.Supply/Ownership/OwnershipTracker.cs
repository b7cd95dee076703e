using System.Text.Json;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Query;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Ownership;

/// <summary>An identifier's ownership as derived, with every sealed event the rules read to derive it and the party
/// directory they used: what an asset bundle proves it with.</summary>
public sealed record AssetDerivation(AssetState State, IReadOnlyList<OwnershipEvent> Events, PartyDirectory Parties);

/// <summary>
/// Derives ownership from the ledger (docs/trade.md, "Ownership"): reads the sealed events that bear on an identifier
/// from the term index and folds them with <see cref="OwnershipFold"/>. What bears on it: every event naming it, and
/// every event naming a parent it was aggregated into (a parent's shipment moves its children) or an input of the
/// transformation that made it (the output's owner is the inputs' owner), followed up to <see cref="MaxIdentifiers"/>
/// identifiers. Unredacted and unchecked against a caller: endpoints filter what they show.
/// </summary>
public sealed class OwnershipTracker(TermIndex terms, SupplyReader reader)
{
    /// <summary>How many identifiers one derivation follows at most (parents and inputs, at any depth).</summary>
    public const int MaxIdentifiers = 256;

    /// <summary>The registered partners, whose prefixes tell which partner a party is. Set by the server from the
    /// governance chain's partner registry (it changes while the server runs, so it is read at each derivation).</summary>
    public Func<IReadOnlyCollection<Caller>> Partners { get; set; } = () => [];

    /// <summary>The identifier's owner, custodian and history; null when no sealed event gave it an owner.</summary>
    public async Task<AssetState?> GetAsync(string epc, CancellationToken cancellationToken = default) =>
        (await DeriveAsync(epc, cancellationToken).ConfigureAwait(false))?.State;

    /// <summary>The identifier's state and the events it was derived from; null when no sealed event gave it an owner.</summary>
    public async Task<AssetDerivation?> DeriveAsync(string epc, CancellationToken cancellationToken = default)
    {
        var root = EventTerms.CanonicalEpc(epc);
        var parties = PartyDirectory.Of(Partners());
        var events = await CollectAsync([root], cancellationToken).ConfigureAwait(false);
        var fold = new OwnershipFold(parties);
        var ordered = OwnershipFold.Order(events).ToList();
        foreach (var e in ordered)
        {
            fold.Apply(e);
        }

        return fold.StateOf(root) is { } state ? new AssetDerivation(state, ordered, parties) : null;
    }

    /// <summary>
    /// A fold of every sealed event bearing on <paramref name="epcs"/> and of <paramref name="unsealed"/> (events accepted
    /// and not sealed yet, from the claims table), ready to check new events against: capture's view of ownership.
    /// </summary>
    public async Task<OwnershipFold> FoldAsync(IEnumerable<string> epcs, IEnumerable<OwnershipEvent> unsealed, CancellationToken cancellationToken = default)
    {
        var fold = new OwnershipFold(PartyDirectory.Of(Partners()));
        var events = await CollectAsync(epcs.Select(EventTerms.CanonicalEpc), cancellationToken).ConfigureAwait(false);
        foreach (var e in OwnershipFold.Order(events.Concat(unsealed)))
        {
            fold.Apply(e);
        }

        return fold;
    }

    /// <summary>Every sealed event bearing on the identifiers (see the class), each marked when a sealed error
    /// declaration of it exists. An error declaration names what its event names, so it is among the same rows.</summary>
    private async Task<List<OwnershipEvent>> CollectAsync(IEnumerable<string> roots, CancellationToken cancellationToken)
    {
        var hits = new Dictionary<string, TermHit>(StringComparer.Ordinal);
        var declared = new HashSet<string>(StringComparer.Ordinal);
        var read = new Dictionary<string, (string Partner, EventTerms Terms)>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var frontier = roots.Where(seen.Add).ToList();
        while (frontier.Count > 0)
        {
            // One round of reads per hop: every frontier identifier's term rows at once.
            var found = await Task.WhenAll(frontier.Select(epc => terms.FindEpcAsync(epc, cancellationToken))).ConfigureAwait(false);
            var next = new List<string>();
            var inputsOf = new List<TermHit>();
            foreach (var hit in found.SelectMany(h => h))
            {
                if (hit.EventId.EndsWith(StoredEvent.ErrorDeclarationFragment, StringComparison.Ordinal))
                {
                    declared.Add(hit.EventId[..^StoredEvent.ErrorDeclarationFragment.Length]);
                    continue;
                }

                hits.TryAdd(hit.EventId, hit);
                if (hit.EventType == "AggregationEvent" && hit.Action == "ADD" && (hit.Roles & EpcRoles.Child) != 0 && hit.Parent is { } parent)
                {
                    next.Add(parent);
                }
                else if (hit.EventType == "TransformationEvent" && (hit.Roles & EpcRoles.Output) != 0)
                {
                    inputsOf.Add(hit);
                }
            }

            foreach (var (hit, evt) in inputsOf.Zip(await ReadAllAsync(inputsOf, read, cancellationToken).ConfigureAwait(false)))
            {
                next.AddRange(evt.Terms.Epcs.Where(x => (x.Roles & EpcRoles.Input) != 0).Select(x => x.Epc));
            }

            frontier = next.Where(epc => seen.Count < MaxIdentifiers && seen.Add(epc)).ToList();
        }

        var all = hits.Values.ToList();
        var events = await ReadAllAsync(all, read, cancellationToken).ConfigureAwait(false);
        return all.Zip(events, (hit, evt) => new OwnershipEvent(hit.EventId, hit.Position, evt.Partner, evt.Terms, declared.Contains(hit.EventId))).ToList();
    }

    private async Task<(string Partner, EventTerms Terms)[]> ReadAllAsync(List<TermHit> hits, Dictionary<string, (string Partner, EventTerms Terms)> read, CancellationToken cancellationToken)
    {
        var missing = hits.Where(h => !read.ContainsKey(h.EventId)).DistinctBy(h => h.EventId).ToList();
        var got = await Task.WhenAll(missing.Select(h => ReadAsync(h, cancellationToken))).ConfigureAwait(false);
        for (var i = 0; i < missing.Count; i++)
        {
            read[missing[i].EventId] = got[i];
        }

        return hits.Select(h => read[h.EventId]).ToArray();
    }

    private async Task<(string Partner, EventTerms Terms)> ReadAsync(TermHit hit, CancellationToken cancellationToken)
    {
        var p = hit.Position;
        var entry = await reader.Chain.GetEntryAsync(p.ChainId, p.Height, hit.BlockHash, p.LeafIndex, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The term index names {p.ChainId} block {p.Height} leaf {p.LeafIndex}, which is not stored.");
        using var json = JsonDocument.Parse(entry.Event);
        return (entry.Partner, EventTerms.Of(json.RootElement));
    }
}
