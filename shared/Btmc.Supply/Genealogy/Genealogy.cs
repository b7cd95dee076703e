using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Access;
using Btmc.Supply.Query;
using Btmc.Supply.Sealing;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Genealogy;

/// <summary>
/// One genealogy edge, always written from the upstream object to the downstream one: an input to an output of a
/// transformation, a child to its parent (aggregation or association). <see cref="EventId"/> and
/// <see cref="Position"/> name the sealed event that makes the edge; <see cref="EndedBy"/> the DELETE that took the
/// child out again, if any.
/// <see cref="ErrorDeclaration"/> is the ledger id of a sealed error declaration of the edge's event, if any: the edge
/// is shown, flagged, since the declaration does not rewrite the event.
/// </summary>
public sealed record TraceEdge(string From, string To, string Kind, string EventId, LedgerPosition Position, string? EndedBy = null, LedgerPosition? EndedAt = null, string? ErrorDeclaration = null);

/// <summary>
/// A trace edge whose event the caller may not see (docs/partners.md, "Visibility"): only the event's hash ID and
/// ledger position, no identifiers and no content. In a lineage bundle its receipt proves the event is sealed there,
/// so a buyer can show a chip's provenance is on the ledger without reading its suppliers' data.
/// </summary>
public sealed record RedactedEdge(string EventId, LedgerPosition Position);

/// <summary>The graph reached from <see cref="Root"/> within <see cref="Depth"/> hops; <see cref="Redacted"/> lists
/// the edges the caller may not see (null in a graph not yet shown to anyone).</summary>
public sealed record TraceGraph(string Root, string Direction, int Depth, IReadOnlyList<string> Nodes, IReadOnlyList<TraceEdge> Edges, bool Truncated, IReadOnlyList<RedactedEdge>? Redacted = null);

/// <summary>
/// Lot genealogy (docs/genealogy.md): walks the term index hop by hop. Upstream from X: the inputs of
/// transformations that output X, and the children aggregated or associated into X. Downstream from X: the outputs
/// of transformations that consumed X, and the parents X was aggregated or associated into. Identifiers are compared
/// in their canonical spelling, so a URN and its Digital Link are one node.
/// </summary>
public sealed class GenealogyTracer(SupplyOptions options, TermIndex terms, SupplyReader reader, SealedEventFilter sealedEvents)
{
    public const int MaxDepth = 50;
    public const int MaxNodes = 10_000;

    /// <summary>
    /// The graph as <paramref name="caller"/> may see it: every edge whose event (or whose ending DELETE or error
    /// declaration) the caller may not see is redacted to its event's hash ID and position, and only the root and the
    /// nodes of edges it sees are named.
    /// </summary>
    public async Task<TraceGraph> TraceAsync(string epc, bool upstream, int depth, Caller caller, CancellationToken cancellationToken = default)
    {
        var graph = await TraceAsync(epc, upstream, depth, cancellationToken).ConfigureAwait(false);
        if (caller.SeesEverything)
        {
            return graph with { Redacted = [] };
        }

        var visible = new Dictionary<string, bool>(StringComparer.Ordinal);
        async Task<bool> SeesAsync(string eventId)
        {
            if (!visible.TryGetValue(eventId, out var sees))
            {
                var view = await reader.GetEventAsync(eventId, cancellationToken).ConfigureAwait(false);
                visible[eventId] = sees = view is not null && EventAccess.CanSee(caller, view.Partner, view.Event);
            }

            return sees;
        }

        var edges = new List<TraceEdge>();
        var redacted = new List<RedactedEdge>();
        foreach (var edge in graph.Edges)
        {
            if (!await SeesAsync(edge.EventId).ConfigureAwait(false))
            {
                redacted.Add(new RedactedEdge(edge.EventId, edge.Position));
                continue;
            }

            var shown = edge;
            if (edge.EndedBy is { } endedBy && !await SeesAsync(endedBy).ConfigureAwait(false))
            {
                redacted.Add(new RedactedEdge(endedBy, edge.EndedAt!));
                shown = shown with { EndedBy = null, EndedAt = null };
            }

            if (edge.ErrorDeclaration is { } declaration && !await SeesAsync(declaration).ConfigureAwait(false))
            {
                shown = shown with { ErrorDeclaration = null };
            }

            edges.Add(shown);
        }

        var named = new HashSet<string>(edges.SelectMany(e => (string[])[e.From, e.To]), StringComparer.Ordinal) { graph.Root };
        return graph with
        {
            Nodes = graph.Nodes.Where(named.Contains).ToList(),
            Edges = edges,
            Redacted = redacted.DistinctBy(r => r.EventId).ToList(),
        };
    }

    /// <summary>The whole graph, for a caller that sees everything (the server's own checks).</summary>
    public async Task<TraceGraph> TraceAsync(string epc, bool upstream, int depth, CancellationToken cancellationToken = default)
    {
        var root = EventTerms.CanonicalEpc(epc);
        var hitsCache = new Dictionary<string, IReadOnlyList<TermHit>>(StringComparer.Ordinal);
        var eventCache = new Dictionary<string, EventTerms>(StringComparer.Ordinal);
        var nodes = new List<string> { root };
        var seen = new HashSet<string>(StringComparer.Ordinal) { root };
        var edges = new Dictionary<(string, string, string), TraceEdge>();
        var frontier = new List<string> { root };
        var truncated = false;
        for (var hop = 0; hop < depth && frontier.Count > 0 && !truncated; hop++)
        {
            // One round of lookups per hop: every frontier node's term rows at once, then every event to read.
            // Error declarations name the same objects as the events they correct; they make no edges of their own.
            var lookups = (await Task.WhenAll(frontier.Select(n => terms.FindEpcAsync(n, cancellationToken))).ConfigureAwait(false))
                .Select(hits => (IReadOnlyList<TermHit>)hits.Where(h => !h.EventId.EndsWith(StoredEvent.ErrorDeclarationFragment, StringComparison.Ordinal)).ToList())
                .ToArray();
            for (var i = 0; i < frontier.Count; i++)
            {
                hitsCache[frontier[i]] = lookups[i];
            }

            var toRead = lookups.SelectMany(h => h).Where(h => NeedsEvent(h, upstream) && !eventCache.ContainsKey(h.EventId)).DistinctBy(h => h.EventId).ToList();
            var read = await Task.WhenAll(toRead.Select(h => ReadEventAsync(h, cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < toRead.Count; i++)
            {
                eventCache[toRead[i].EventId] = read[i];
            }

            var next = new List<string>();
            for (var n = 0; n < frontier.Count; n++)
            {
                var node = frontier[n];
                foreach (var hit in lookups[n])
                {
                    foreach (var (from, to, kind) in Neighbours(node, hit, upstream, eventCache))
                    {
                        edges.TryAdd((from, to, hit.EventId), new TraceEdge(from, to, kind, hit.EventId, hit.Position));
                        var other = upstream ? from : to;
                        if (seen.Add(other))
                        {
                            if (nodes.Count == MaxNodes)
                            {
                                truncated = true;
                                continue;
                            }

                            nodes.Add(other);
                            next.Add(other);
                        }
                    }
                }
            }

            frontier = next;
        }

        var declared = await DeclaredErroneousAsync(edges.Values.Select(e => e.EventId), cancellationToken).ConfigureAwait(false);
        var annotated = new List<TraceEdge>(edges.Count);
        foreach (var edge in edges.Values)
        {
            var withEnd = edge.Kind == "transformation" ? edge : await WithEndAsync(edge, hitsCache, cancellationToken).ConfigureAwait(false);
            annotated.Add(declared.TryGetValue(edge.EventId, out var declaration) ? withEnd with { ErrorDeclaration = declaration } : withEnd);
        }

        return new TraceGraph(root, upstream ? "upstream" : "downstream", depth, nodes, annotated, truncated);
    }

    /// <summary>The events among <paramref name="eventIds"/> that a sealed error declaration names, with its id.</summary>
    private async Task<Dictionary<string, string>> DeclaredErroneousAsync(IEnumerable<string> eventIds, CancellationToken cancellationToken)
    {
        // The sealed-event filter rules out almost every id without a read.
        var candidates = eventIds.Distinct(StringComparer.Ordinal)
            .Select(id => (Id: id, Declaration: StoredEvent.ErrorDeclarationId(id)))
            .Where(c => sealedEvents.MightContain(EventKey.For(c.Declaration, options.Partitions)))
            .ToList();
        var found = await Task.WhenAll(candidates.Select(c => reader.FindSealedAsync(c.Declaration, cancellationToken))).ConfigureAwait(false);
        var declared = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (found[i] is not null)
            {
                declared[candidates[i].Id] = candidates[i].Declaration;
            }
        }

        return declared;
    }

    private static bool IsContainment(TermHit hit) =>
        hit.EventType is "AggregationEvent" or "AssociationEvent" && hit.Action is "ADD" or "OBSERVE";

    private static bool NeedsEvent(TermHit hit, bool upstream) =>
        (hit.EventType == "TransformationEvent" && (hit.Roles & (upstream ? EpcRoles.Output : EpcRoles.Input)) != 0)
        || (upstream && IsContainment(hit) && (hit.Roles & EpcRoles.Parent) != 0);

    private static IEnumerable<(string From, string To, string Kind)> Neighbours(string node, TermHit hit, bool upstream, Dictionary<string, EventTerms> events)
    {
        var kind = hit.EventType == "AggregationEvent" ? "aggregation" : "association";
        if (hit.EventType == "TransformationEvent" && (hit.Roles & (upstream ? EpcRoles.Output : EpcRoles.Input)) != 0)
        {
            var role = upstream ? EpcRoles.Input : EpcRoles.Output;
            return events[hit.EventId].Epcs.Where(e => (e.Roles & role) != 0 && e.Epc != node)
                .Select(e => upstream ? (e.Epc, node, "transformation") : (node, e.Epc, "transformation"));
        }

        if (IsContainment(hit) && upstream && (hit.Roles & EpcRoles.Parent) != 0)
        {
            return events[hit.EventId].Epcs.Where(e => (e.Roles & EpcRoles.Child) != 0 && e.Epc != node).Select(e => (e.Epc, node, kind));
        }

        if (IsContainment(hit) && !upstream && (hit.Roles & EpcRoles.Child) != 0 && hit.Parent is { } parent && parent != node)
        {
            return [(node, parent, kind)];
        }

        return [];
    }

    /// <summary>Marks a containment edge with the first DELETE after it that took the child out.</summary>
    private async Task<TraceEdge> WithEndAsync(TraceEdge edge, Dictionary<string, IReadOnlyList<TermHit>> hitsCache, CancellationToken cancellationToken)
    {
        var added = (await HitsAsync(edge.From, hitsCache, cancellationToken).ConfigureAwait(false)).FirstOrDefault(h => h.EventId == edge.EventId);
        var since = added?.EventTime ?? DateTimeOffset.MinValue;
        var childDeletes = (await HitsAsync(edge.From, hitsCache, cancellationToken).ConfigureAwait(false))
            .Where(h => h.Action == "DELETE" && (h.Roles & EpcRoles.Child) != 0 && h.Parent == edge.To && h.EventTime >= since);
        var parentDeletes = (await HitsAsync(edge.To, hitsCache, cancellationToken).ConfigureAwait(false))
            .Where(h => h.Action == "DELETE" && (h.Roles & EpcRoles.AllChildren) != 0 && h.EventTime >= since);
        var end = childDeletes.Concat(parentDeletes).Where(h => h.EventId != edge.EventId).OrderBy(h => h.EventTime).FirstOrDefault();
        return end is null ? edge : edge with { EndedBy = end.EventId, EndedAt = end.Position };
    }

    private async Task<IReadOnlyList<TermHit>> HitsAsync(string epc, Dictionary<string, IReadOnlyList<TermHit>> cache, CancellationToken cancellationToken)
    {
        if (!cache.TryGetValue(epc, out var hits))
        {
            cache[epc] = hits = await terms.FindEpcAsync(epc, cancellationToken).ConfigureAwait(false);
        }

        return hits;
    }

    private async Task<EventTerms> ReadEventAsync(TermHit hit, CancellationToken cancellationToken)
    {
        var p = hit.Position;
        var entry = await reader.Chain.GetEntryAsync(p.ChainId, p.Height, hit.BlockHash, p.LeafIndex, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The term index names {p.ChainId} block {p.Height} leaf {p.LeafIndex}, which is not stored.");
        using var json = JsonDocument.Parse(entry.Event);
        return EventTerms.Of(json.RootElement);
    }
}
