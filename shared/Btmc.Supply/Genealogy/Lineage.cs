using System.Text.Json;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Receipts;

namespace Btmc.Supply.Genealogy;

/// <summary>
/// A lineage bundle (docs/genealogy.md, "Lineage proof"): a trace graph and a receipt for every event its edges
/// name, so that each edge can be checked offline against a sealed, signed event.
/// </summary>
/// <remarks><see cref="Redacted"/> lists the edges the requester may not see; each has a receipt without its event,
/// which proves only that the event is sealed where the edge says.</remarks>
public sealed record LineageBundle(string Format, string Root, string Direction, int Depth, IReadOnlyList<TraceEdge> Edges, IReadOnlyList<Receipt> Receipts, bool Truncated, IReadOnlyList<RedactedEdge>? Redacted = null)
{
    public const string CurrentFormat = "btmc-lineage/1";

    public string ToJson() => JsonSerializer.Serialize(this, Receipt.JsonOptions);

    public static LineageBundle FromJson(string json) =>
        JsonSerializer.Deserialize<LineageBundle>(json, Receipt.JsonOptions) ?? throw new JsonException("The lineage bundle is empty.");

    /// <summary>The bundle of a trace: the receipts of every event on its edges (and of the DELETEs that end them).</summary>
    public static async Task<LineageBundle> BuildAsync(TraceGraph graph, ReceiptIssuer issuer, CancellationToken cancellationToken = default)
    {
        var ids = graph.Edges.Select(e => e.EventId)
            .Concat(graph.Edges.Where(e => e.EndedBy is not null).Select(e => e.EndedBy!))
            .Concat(graph.Edges.Where(e => e.ErrorDeclaration is not null).Select(e => e.ErrorDeclaration!))
            .Distinct(StringComparer.Ordinal).ToList();
        var redacted = graph.Redacted ?? [];
        var receipts = new List<Receipt>(ids.Count + redacted.Count);
        foreach (var id in ids)
        {
            receipts.Add(await issuer.GetAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Event {id} is on the trace but has no receipt."));
        }

        foreach (var edge in redacted.Where(r => !ids.Contains(r.EventId, StringComparer.Ordinal)))
        {
            var receipt = await issuer.GetAsync(edge.EventId, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Event {edge.EventId} is on the trace but has no receipt.");
            receipts.Add(receipt with { Event = null });
        }

        return new LineageBundle(CurrentFormat, graph.Root, graph.Direction, graph.Depth, graph.Edges, receipts, graph.Truncated, redacted.Count == 0 ? null : redacted);
    }
}

/// <summary>The outcome of checking a lineage bundle: null <see cref="Failure"/> means every check passed.</summary>
public sealed record LineageVerification(string? Failure, int Events, int Edges, IReadOnlyCollection<string> KeyThumbprints, int Redacted = 0)
{
    public bool IsValid => Failure is null;
}

/// <summary>
/// Checks a lineage bundle offline: every receipt verifies (<see cref="ReceiptVerifier"/>, optionally against a
/// trusted producer key) and carries its event; every edge is stated by its event (the right roles, the right parent,
/// the position the receipt proves); every end of containment is a DELETE of that parent; and every edge is connected
/// to the root. It proves that each edge shown happened as sealed; it cannot prove that no edge was left out.
/// </summary>
public static class LineageVerifier
{
    public static LineageVerification Verify(LineageBundle bundle, EcPublicJwk? trustedKey = null)
    {
        if (bundle.Format != LineageBundle.CurrentFormat)
        {
            return Fail($"unknown lineage format '{bundle.Format}' (expected {LineageBundle.CurrentFormat})");
        }

        var events = new Dictionary<string, (Receipt Receipt, EventTerms Terms)>(StringComparer.Ordinal);
        var redacted = bundle.Redacted ?? [];
        var redactedIds = redacted.Select(r => r.EventId).ToHashSet(StringComparer.Ordinal);
        var proven = new Dictionary<string, Receipt>(StringComparer.Ordinal);
        var thumbprints = new HashSet<string>(StringComparer.Ordinal);
        foreach (var receipt in bundle.Receipts)
        {
            var check = ReceiptVerifier.Verify(receipt, trustedKey);
            if (!check.IsValid)
            {
                return Fail($"receipt of {receipt.EventId}: {check.Failure}");
            }

            thumbprints.Add(check.KeyThumbprint!);
            if (receipt.Event is JsonElement evt)
            {
                events[receipt.EventId] = (receipt, EventTerms.Of(evt));
            }
            else if (redactedIds.Contains(receipt.EventId))
            {
                proven[receipt.EventId] = receipt;
            }
            else
            {
                return Fail($"receipt of {receipt.EventId} does not carry its event");
            }
        }

        foreach (var edge in redacted)
        {
            var receipt = proven.GetValueOrDefault(edge.EventId) ?? events.GetValueOrDefault(edge.EventId).Receipt;
            if (receipt is null)
            {
                return Fail($"redacted edge of event {edge.EventId} has no receipt");
            }

            if (receipt.ChainId != edge.Position.ChainId || receipt.Height != edge.Position.Height || receipt.LeafIndex != edge.Position.LeafIndex)
            {
                return Fail($"redacted edge of event {edge.EventId}: its receipt is at {receipt.ChainId} block {receipt.Height} leaf {receipt.LeafIndex}, not where the edge says");
            }
        }

        var root = EventTerms.CanonicalEpc(bundle.Root);
        foreach (var edge in bundle.Edges)
        {
            if (StatedBy(edge, events) is { } failure)
            {
                return Fail($"edge {edge.From} -> {edge.To}: {failure}");
            }
        }

        // Behind a redacted edge the graph goes on through nodes the requester may not see, so edges there cannot be
        // tied to the root offline; without redactions every edge must be.
        if (redacted.Count == 0 && Unconnected(root, bundle.Edges) is { } stray)
        {
            return Fail($"edge {stray.From} -> {stray.To} is not connected to the root {root}");
        }

        return new LineageVerification(null, events.Count, bundle.Edges.Count, thumbprints, redacted.Count);

        LineageVerification Fail(string reason) => new(reason, 0, 0, []);
    }

    private static string? StatedBy(TraceEdge edge, Dictionary<string, (Receipt Receipt, EventTerms Terms)> events)
    {
        if (!events.TryGetValue(edge.EventId, out var made))
        {
            return $"no receipt for its event {edge.EventId}";
        }

        if (made.Receipt.ChainId != edge.Position.ChainId || made.Receipt.Height != edge.Position.Height || made.Receipt.LeafIndex != edge.Position.LeafIndex)
        {
            return $"its event is at {made.Receipt.ChainId} block {made.Receipt.Height} leaf {made.Receipt.LeafIndex}, not where the edge says";
        }

        var t = made.Terms;
        var from = Roles(t, edge.From);
        var to = Roles(t, edge.To);
        switch (edge.Kind)
        {
            case "transformation":
                if (t.EventType != "TransformationEvent" || (from & EpcRoles.Input) == 0 || (to & EpcRoles.Output) == 0)
                {
                    return $"event {edge.EventId} does not transform {edge.From} into {edge.To}";
                }

                break;
            case "aggregation" or "association":
                var type = edge.Kind == "aggregation" ? "AggregationEvent" : "AssociationEvent";
                if (t.EventType != type || t.Action is not ("ADD" or "OBSERVE") || (from & EpcRoles.Child) == 0 || t.Parent != edge.To)
                {
                    return $"event {edge.EventId} does not put {edge.From} into {edge.To}";
                }

                break;
            default:
                return $"unknown edge kind '{edge.Kind}'";
        }

        if (edge.ErrorDeclaration is { } declaration
            && (declaration != StoredEvent.ErrorDeclarationId(edge.EventId) || !events.TryGetValue(declaration, out var declared) || !declared.Terms.IsErrorDeclaration))
        {
            return $"no receipt of the error declaration {declaration} of its event";
        }

        if (edge.EndedBy is { } endedBy)
        {
            if (!events.TryGetValue(endedBy, out var ended))
            {
                return $"no receipt for the event {endedBy} that ends it";
            }

            var e = ended.Terms;
            if (e.EventType != t.EventType || e.Action != "DELETE" || e.Parent != edge.To
                || ((Roles(e, edge.From) & EpcRoles.Child) == 0 && (Roles(e, edge.To) & EpcRoles.AllChildren) == 0))
            {
                return $"event {endedBy} does not take {edge.From} out of {edge.To}";
            }
        }

        return null;
    }

    private static EpcRoles Roles(EventTerms t, string epc) =>
        t.Epcs.FirstOrDefault(e => e.Epc == EventTerms.CanonicalEpc(epc)).Roles;

    private static TraceEdge? Unconnected(string root, IReadOnlyList<TraceEdge> edges)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal) { root };
        var remaining = edges.ToList();
        bool progress;
        do
        {
            progress = false;
            for (var i = remaining.Count - 1; i >= 0; i--)
            {
                var e = remaining[i];
                if (reached.Contains(e.From) || reached.Contains(e.To))
                {
                    reached.Add(e.From);
                    reached.Add(e.To);
                    remaining.RemoveAt(i);
                    progress = true;
                }
            }
        }
        while (progress);
        return remaining.FirstOrDefault();
    }
}
