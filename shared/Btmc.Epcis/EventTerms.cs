using System.Globalization;
using System.Text.Json;
using Btmc.Epcis.Cbv;

namespace Btmc.Epcis;

/// <summary>How an identifier takes part in an event. A quantity element's class carries <see cref="Quantity"/>
/// together with the role of its list.</summary>
[Flags]
public enum EpcRoles
{
    None = 0,

    /// <summary>In <c>epcList</c> (or <c>quantityList</c>).</summary>
    Epc = 1,

    /// <summary>In <c>childEPCs</c> (or <c>childQuantityList</c>).</summary>
    Child = 2,

    /// <summary>The <c>parentID</c>.</summary>
    Parent = 4,

    /// <summary>In <c>inputEPCList</c> (or <c>inputQuantityList</c>).</summary>
    Input = 8,

    /// <summary>In <c>outputEPCList</c> (or <c>outputQuantityList</c>).</summary>
    Output = 16,

    /// <summary>A class of objects from a quantity list, not one instance.</summary>
    Quantity = 32,

    /// <summary>Commissioned by this event: an ObjectEvent ADD with business step commissioning.</summary>
    Commissioned = 64,

    /// <summary>The parent of an AggregationEvent or AssociationEvent DELETE that names no children: all of them
    /// are taken out.</summary>
    AllChildren = 128,
}

/// <summary>One identifier of an event, in its canonical spelling (<see cref="EventTerms.CanonicalEpc"/>), and its roles.</summary>
public readonly record struct EpcTerm(string Epc, EpcRoles Roles);

/// <summary>A source or destination of an event: whether it is one or the other, its CBV type as a bare word
/// (<c>owning_party</c>, <c>possessing_party</c>, <c>location</c>) and the party or place as written.</summary>
public sealed record EventParty(bool IsSource, string Type, string Id);

/// <summary>A business transaction an event names: its CBV type as a bare word (<c>po</c>, <c>desadv</c>, <c>inv</c>; empty
/// when not given) and its URI as written.</summary>
public sealed record EventBizTransaction(string Type, string Id);

/// <summary>
/// What the ledger indexes of an event (docs/epcis-query.md): its type, action, time, business step, own eventID,
/// whether it declares an error, and every identifier it names with that identifier's roles; and, for ownership and
/// trade (docs/trade.md), its sources and destinations and the business transactions it names.
/// </summary>
public sealed record EventTerms(
    string EventType,
    string? Action,
    DateTimeOffset EventTime,
    string? BizStep,
    string? OwnEventId,
    bool IsErrorDeclaration,
    string? Parent,
    IReadOnlyList<EpcTerm> Epcs,
    IReadOnlyList<EventParty>? Parties = null,
    IReadOnlyList<EventBizTransaction>? BizTransactions = null)
{
    /// <summary>The event's sources and destinations (none when it names none).</summary>
    public IReadOnlyList<EventParty> Parties { get; init; } = Parties ?? [];

    /// <summary>The business transactions the event names (none when it names none).</summary>
    public IReadOnlyList<EventBizTransaction> BizTransactions { get; init; } = BizTransactions ?? [];

    /// <summary>The event's <c>readPoint.id</c> in its canonical spelling (<see cref="CanonicalEpc"/>), if it has one:
    /// the term index keys it so that <c>EQ_readPoint</c> finds any spelling of the same location.</summary>
    public string? ReadPoint { get; init; }

    /// <summary>The event's <c>bizLocation.id</c> in its canonical spelling, if it has one.</summary>
    public string? BizLocation { get; init; }

    private static readonly (string Member, EpcRoles Role, bool Quantity)[] Lists =
    [
        ("epcList", EpcRoles.Epc, false), ("childEPCs", EpcRoles.Child, false),
        ("inputEPCList", EpcRoles.Input, false), ("outputEPCList", EpcRoles.Output, false),
        ("quantityList", EpcRoles.Epc, true), ("childQuantityList", EpcRoles.Child, true),
        ("inputQuantityList", EpcRoles.Input, true), ("outputQuantityList", EpcRoles.Output, true),
    ];

    /// <summary>The terms of a structurally valid event (see <see cref="EpcisDocumentReader"/>).</summary>
    public static EventTerms Of(JsonElement evt)
    {
        var type = evt.GetProperty("type").GetString() ?? string.Empty;
        var action = OptionalString(evt, "action");
        var bizStep = OptionalString(evt, "bizStep") is { } step ? CbvWord(step, "BizStep", "bizstep") : null;
        var roles = new Dictionary<string, EpcRoles>(StringComparer.Ordinal);
        foreach (var (member, role, quantity) in Lists)
        {
            if (!evt.TryGetProperty(member, out var list) || list.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var item in list.EnumerateArray())
            {
                var id = quantity
                    ? item.ValueKind == JsonValueKind.Object && item.TryGetProperty("epcClass", out var cls) ? cls.GetString() : null
                    : item.GetString();
                if (!string.IsNullOrEmpty(id))
                {
                    Add(roles, CanonicalEpc(id), quantity ? role | EpcRoles.Quantity : role);
                }
            }
        }

        var parent = OptionalString(evt, "parentID") is { } parentId ? CanonicalEpc(parentId) : null;
        if (parent is not null)
        {
            var childless = action == "DELETE" && !roles.Values.Any(r => (r & EpcRoles.Child) != 0);
            Add(roles, parent, childless ? EpcRoles.Parent | EpcRoles.AllChildren : EpcRoles.Parent);
        }

        if (type == "ObjectEvent" && action == "ADD" && bizStep == "commissioning")
        {
            foreach (var key in roles.Keys.ToList())
            {
                if ((roles[key] & (EpcRoles.Epc | EpcRoles.Quantity)) == EpcRoles.Epc)
                {
                    roles[key] |= EpcRoles.Commissioned;
                }
            }
        }

        var time = DateTimeOffset.Parse(evt.GetProperty("eventTime").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        return new EventTerms(type, action, time, bizStep, OptionalString(evt, "eventID"), evt.TryGetProperty("errorDeclaration", out _), parent,
            roles.Select(r => new EpcTerm(r.Key, r.Value)).ToList(), PartiesOf(evt), BizTransactionsOf(evt))
        {
            ReadPoint = PlaceOf(evt, "readPoint"),
            BizLocation = PlaceOf(evt, "bizLocation"),
        };
    }

    private static string? PlaceOf(JsonElement evt, string member) =>
        evt.TryGetProperty(member, out var place) && place.ValueKind == JsonValueKind.Object && OptionalString(place, "id") is { Length: > 0 } id
            ? CanonicalEpc(id)
            : null;

    private static List<EventParty>? PartiesOf(JsonElement evt)
    {
        List<EventParty>? parties = null;
        foreach (var (list, member, isSource) in (ReadOnlySpan<(string, string, bool)>)[("sourceList", "source", true), ("destinationList", "destination", false)])
        {
            if (!evt.TryGetProperty(list, out var items) || items.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object && OptionalString(item, member) is { Length: > 0 } id)
                {
                    (parties ??= []).Add(new EventParty(isSource, OptionalString(item, "type") is { } t ? CbvWord(t, "SDT", "sdt") : string.Empty, id));
                }
            }
        }

        return parties;
    }

    private static List<EventBizTransaction>? BizTransactionsOf(JsonElement evt)
    {
        if (!evt.TryGetProperty("bizTransactionList", out var items) || items.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        List<EventBizTransaction>? found = null;
        foreach (var item in items.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && OptionalString(item, "bizTransaction") is { Length: > 0 } id)
            {
                (found ??= []).Add(new EventBizTransaction(OptionalString(item, "type") is { } t ? CbvWord(t, "BTT", "btt") : string.Empty, id));
            }
        }

        return found;
    }

    /// <summary>
    /// The spelling an identifier is indexed and compared under: the canonical GS1 Digital Link URI for anything that
    /// carries a GS1 key (EPC URNs and Digital Link URIs alike), the identifier as written otherwise.
    /// </summary>
    public static string CanonicalEpc(string id) => DigitalLinkNormaliser.Normalise(id) ?? id;

    /// <summary>A CBV vocabulary value as its bare word (<c>shipping</c>) whichever way it was written: bare, as a
    /// https://ref.gs1.org/cbv/{vocabulary}-{word} URI, as the compact IRI cbv:{vocabulary}-{word}, or as a
    /// urn:epcglobal:cbv:{urnVocabulary}:{word} URN (the spellings the query's CbvFilter matches too).
    /// Any other URI is returned as written.</summary>
    public static string CbvWord(string value, string vocabulary, string urnVocabulary)
    {
        foreach (var prefix in (string[])[$"https://ref.gs1.org/cbv/{vocabulary}-", $"cbv:{vocabulary}-"])
        {
            if (value.StartsWith(prefix, StringComparison.Ordinal))
            {
                return value[prefix.Length..];
            }
        }

        var urn = $"urn:epcglobal:cbv:{urnVocabulary}:";
        return value.StartsWith(urn, StringComparison.Ordinal) ? value[urn.Length..] : value;
    }

    private static void Add(Dictionary<string, EpcRoles> roles, string id, EpcRoles role) =>
        roles[id] = roles.TryGetValue(id, out var had) ? had | role : role;

    private static string? OptionalString(JsonElement evt, string name) =>
        evt.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
