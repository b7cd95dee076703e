using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Epcis.Identifiers;
using Btmc.Ledger;
using Btmc.Supply.Access;
using Btmc.Supply.Receipts;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Ownership;

/// <summary>One step of an identifier's history as a caller sees it: the change, its parties, the proving event and its
/// position; for a step whose event the caller may not see, only the event id and position (<see cref="Redacted"/>).</summary>
public sealed record AssetHistoryEntry(string EventId, LedgerPosition? Position, string? Change = null, AssetHolder? From = null, AssetHolder? To = null, DateTimeOffset? EventTime = null, bool? Redacted = null)
{
    public static AssetHistoryEntry Of(OwnershipChange c) => new(c.EventId, c.Position, c.Change, c.From, c.To, c.EventTime);

    public static AssetHistoryEntry RedactedOf(OwnershipChange c) => new(c.EventId, c.Position, Redacted: true);
}

/// <summary>What <c>GET /api/assets/{epc}</c> answers: the identifier's owner, custodian and history.</summary>
public sealed record AssetView(string Epc, AssetHolder Owner, AssetHolder Custodian, IReadOnlyList<AssetHistoryEntry> History);

/// <summary>
/// An asset bundle (<c>btmc-asset/1</c>, docs/trade.md, "Ownership"): an identifier's state and history, a receipt for
/// every event the rules read to derive it (the events of the identifier, of the parents it was in and of the inputs it
/// was made from, and the error declarations that voided some; without its event where the requester may not see it),
/// and the partners' prefixes the rules used to tell parties apart — so that anyone can replay the derivation offline.
/// </summary>
public sealed record AssetBundle(string Format, string Epc, AssetHolder Owner, AssetHolder Custodian, IReadOnlyList<AssetHistoryEntry> History, IReadOnlyList<Receipt> Receipts, IReadOnlyList<PartnerPrefixes> Parties)
{
    public const string CurrentFormat = "btmc-asset/1";

    public string ToJson() => JsonSerializer.Serialize(this, Receipt.JsonOptions);

    public static AssetBundle FromJson(string json) =>
        JsonSerializer.Deserialize<AssetBundle>(json, Receipt.JsonOptions) ?? throw new JsonException("The asset bundle is empty.");

    /// <summary>Whether a JSON document is an asset bundle (by its <c>format</c>), as opposed to a lineage bundle.</summary>
    public static bool IsAssetBundle(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("format", out var f)
            && f.ValueKind == JsonValueKind.String && f.GetString() == CurrentFormat;
    }
}

/// <summary>
/// Who may see an identifier's ownership, and what of it (docs/partners.md, "Visibility"): auditors and operators see
/// everything; a partner sees an identifier under one of its prefixes, one it owns, owned or held, or one its own events
/// name. A history step whose event the partner may not see is redacted to the event id and position.
/// </summary>
public sealed class AssetReader(OwnershipTracker tracker, SupplyReader reader)
{
    /// <summary>The identifier's ownership as <paramref name="caller"/> may see it; null when the ledger records no owner
    /// or the caller may not see the identifier (the same answer, so that absence tells nothing).</summary>
    public async Task<AssetView?> GetAsync(string epc, Caller caller, CancellationToken cancellationToken = default) =>
        await ShownAsync(epc, caller, cancellationToken).ConfigureAwait(false) is { } shown
            ? new AssetView(shown.Derivation.State.Epc, shown.Derivation.State.Owner, shown.Derivation.State.Custodian, shown.History)
            : null;

    /// <summary>The asset bundle of the identifier as <paramref name="caller"/> may see it; null as for <see cref="GetAsync"/>.</summary>
    public async Task<AssetBundle?> BundleAsync(string epc, Caller caller, ReceiptIssuer issuer, CancellationToken cancellationToken = default)
    {
        if (await ShownAsync(epc, caller, cancellationToken).ConfigureAwait(false) is not { } shown)
        {
            return null;
        }

        var (derivation, history, sees) = shown;
        var receipts = new List<Receipt>();
        var ids = derivation.Events.Select(e => e.EventId)
            .Concat(derivation.Events.Where(e => e.Erroneous).Select(e => StoredEvent.ErrorDeclarationId(e.EventId)));
        foreach (var id in ids)
        {
            var receipt = await issuer.GetAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Event {id} proves ownership of {derivation.State.Epc} but has no receipt.");
            receipts.Add(await sees(id).ConfigureAwait(false) ? receipt : receipt with { Event = null });
        }

        var s = derivation.State;
        return new AssetBundle(AssetBundle.CurrentFormat, s.Epc, s.Owner, s.Custodian, history, receipts, derivation.Parties.Partners);
    }

    private async Task<(AssetDerivation Derivation, IReadOnlyList<AssetHistoryEntry> History, Func<string, Task<bool>> Sees)?> ShownAsync(string epc, Caller caller, CancellationToken cancellationToken)
    {
        if (await tracker.DeriveAsync(epc, cancellationToken).ConfigureAwait(false) is not { } derivation)
        {
            return null;
        }

        var visible = new Dictionary<string, bool>(StringComparer.Ordinal);
        async Task<bool> SeesAsync(string eventId)
        {
            if (caller.SeesEverything)
            {
                return true;
            }

            if (!visible.TryGetValue(eventId, out var sees))
            {
                var view = await reader.GetEventAsync(eventId, cancellationToken).ConfigureAwait(false);
                visible[eventId] = sees = view is not null && EventAccess.CanSee(caller, view.Partner, view.Event);
            }

            return sees;
        }

        var state = derivation.State;
        var concerns = caller.SeesEverything
            || caller.Prefixes.Contains(Caller.AnyPrefix)
            || CompanyPrefix.IsUnderAny(state.Epc, caller.Prefixes)
            || state.History.Any(h => h.To.PartnerId == caller.PartnerId || h.From?.PartnerId == caller.PartnerId)
            || derivation.Events.Any(e => e.Capturer == caller.PartnerId && e.Terms.Epcs.Any(x => x.Epc == state.Epc));
        if (!concerns)
        {
            return null;
        }

        var history = new List<AssetHistoryEntry>(state.History.Count);
        foreach (var change in state.History)
        {
            history.Add(await SeesAsync(change.EventId).ConfigureAwait(false) ? AssetHistoryEntry.Of(change) : AssetHistoryEntry.RedactedOf(change));
        }

        return (derivation, history, SeesAsync);
    }
}

/// <summary>The outcome of checking an asset bundle: null <see cref="Failure"/> means every check passed;
/// <see cref="Replayed"/> whether the derivation was replayed (not when some events are redacted).</summary>
public sealed record AssetVerification(string? Failure, int Events, int Steps, IReadOnlyCollection<string> KeyThumbprints, int Redacted = 0, bool Replayed = false)
{
    public bool IsValid => Failure is null;
}

/// <summary>
/// Checks an asset bundle offline (docs/trade.md, "Ownership", "Proof"): every receipt verifies; every history step
/// has the receipt of its event at its position, and a shown step is stated by its event (its destination party, or the
/// capturing partner for a commissioning or transformation); and, when no event is redacted, replaying the bundle's
/// events with <see cref="OwnershipFold"/> and the bundle's party prefixes gives exactly the stated owner, custodian
/// and history. Like a lineage bundle, it cannot prove that no event was left out.
/// </summary>
public static class AssetVerifier
{
    public static AssetVerification Verify(AssetBundle bundle, EcPublicJwk? trustedKey = null)
    {
        if (bundle.Format != AssetBundle.CurrentFormat)
        {
            return Fail($"unknown asset bundle format '{bundle.Format}' (expected {AssetBundle.CurrentFormat})");
        }

        var thumbprints = new HashSet<string>(StringComparer.Ordinal);
        var receipts = new Dictionary<string, Receipt>(StringComparer.Ordinal);
        var events = new Dictionary<string, EventTerms>(StringComparer.Ordinal);
        foreach (var receipt in bundle.Receipts)
        {
            var check = ReceiptVerifier.Verify(receipt, trustedKey);
            if (!check.IsValid)
            {
                return Fail($"receipt of {receipt.EventId}: {check.Failure}");
            }

            thumbprints.Add(check.KeyThumbprint!);
            receipts[receipt.EventId] = receipt;
            if (receipt.Event is JsonElement evt)
            {
                events[receipt.EventId] = EventTerms.Of(evt);
            }
        }

        foreach (var step in bundle.History)
        {
            if (!receipts.TryGetValue(step.EventId, out var receipt))
            {
                return Fail($"history step of event {step.EventId} has no receipt");
            }

            if (step.Position is not { } p || receipt.ChainId != p.ChainId || receipt.Height != p.Height || receipt.LeafIndex != p.LeafIndex)
            {
                return Fail($"history step of event {step.EventId}: its receipt is at {receipt.ChainId} block {receipt.Height} leaf {receipt.LeafIndex}, not where the step says");
            }

            if (step.Redacted != true && StatedBy(step, receipt, events.GetValueOrDefault(step.EventId)) is { } failure)
            {
                return Fail($"history step of event {step.EventId}: {failure}");
            }
        }

        var redacted = bundle.Receipts.Count(r => r.Event is null);
        if (redacted > 0)
        {
            return new AssetVerification(null, events.Count, bundle.History.Count, thumbprints, redacted);
        }

        var replay = Replay(bundle, events, receipts);
        var epc = EventTerms.CanonicalEpc(bundle.Epc);
        if (!replay.TryGetValue(epc, out var state))
        {
            return Fail($"replaying the bundle's events gives {epc} no owner");
        }

        if (state.Owner != bundle.Owner || state.Custodian != bundle.Custodian)
        {
            return Fail($"replaying the bundle's events gives owner {Describe(state.Owner)} and custodian {Describe(state.Custodian)}, not {Describe(bundle.Owner)} and {Describe(bundle.Custodian)}");
        }

        var replayed = state.History.Select(AssetHistoryEntry.Of).ToList();
        if (!replayed.SequenceEqual(bundle.History))
        {
            return Fail("replaying the bundle's events gives another history than the bundle states");
        }

        return new AssetVerification(null, events.Count, bundle.History.Count, thumbprints, 0, Replayed: true);

        AssetVerification Fail(string reason) => new(reason, 0, 0, []);
    }

    private static IReadOnlyDictionary<string, AssetState> Replay(AssetBundle bundle, Dictionary<string, EventTerms> events, Dictionary<string, Receipt> receipts)
    {
        var declared = events.Where(e => e.Value.IsErrorDeclaration && e.Key.EndsWith(StoredEvent.ErrorDeclarationFragment, StringComparison.Ordinal))
            .Select(e => e.Key[..^StoredEvent.ErrorDeclarationFragment.Length]).ToHashSet(StringComparer.Ordinal);
        var replayable = events.Where(e => !e.Value.IsErrorDeclaration).Select(e =>
        {
            var r = receipts[e.Key];
            return new OwnershipEvent(e.Key, new LedgerPosition(r.ChainId, r.Height, r.LeafIndex), r.Partner, e.Value, declared.Contains(e.Key));
        });
        return OwnershipFold.Replay(replayable, new PartyDirectory(bundle.Parties));
    }

    /// <summary>Whether the step's event names the step's new holder: as its destination party of the step's kind, or,
    /// where no party is named (a commissioning, a transformation), as the partner that captured it.</summary>
    private static string? StatedBy(AssetHistoryEntry step, Receipt receipt, EventTerms? t)
    {
        if (t is null)
        {
            return "its receipt does not carry its event";
        }

        if (step.To is not { } to || step.Change is not (OwnershipChange.Owner or OwnershipChange.Custodian))
        {
            return "it names no change or no new holder";
        }

        var type = step.Change == OwnershipChange.Owner ? "owning_party" : "possessing_party";
        var named = to.Party is { } party
            ? t.Parties.Any(p => !p.IsSource && p.Type == type && EventTerms.CanonicalEpc(p.Id) == EventTerms.CanonicalEpc(party))
            : to.PartnerId == receipt.Partner;
        return named ? null : $"event {step.EventId} does not name {Describe(to)} as the new {step.Change}";
    }

    private static string Describe(AssetHolder h) => h.Party ?? h.PartnerId ?? "nobody";
}
