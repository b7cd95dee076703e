using System.Text.Json;
using Btmc.Epcis.Identifiers;
using Btmc.Ledger;

namespace Btmc.Supply.Access;

/// <summary>
/// Who may read an event (docs/partners.md, "Visibility"): auditors and operators see every event; a partner sees the
/// events it captured and the events that name an identifier under one of the company prefixes it owns — EPCs and
/// classes in any list, parents, read points and business locations, source and destination parties. Competitors'
/// other events are invisible to it: absent from query results, 404 by id, redacted in a trace.
/// </summary>
public static class EventAccess
{
    private static readonly string[] IdentifierLists = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];
    private static readonly (string List, string Member)[] Parties = [("sourceList", "source"), ("destinationList", "destination")];
    private static readonly string[] QuantityLists = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"];

    public static bool CanSee(Caller caller, string capturedBy, ReadOnlyMemory<byte> eventJson)
    {
        if (SeesWithoutReading(caller, capturedBy) is { } answer)
        {
            return answer;
        }

        using var json = JsonDocument.Parse(eventJson);
        return NamesAPrefixOf(caller, json.RootElement);
    }

    public static bool CanSee(Caller caller, string capturedBy, JsonElement evt) =>
        SeesWithoutReading(caller, capturedBy) ?? NamesAPrefixOf(caller, evt);

    /// <summary>The answer when the event need not be read (most callers: auditors, the capturer, no prefixes, every
    /// prefix), so the common cases skip the JSON parse; null when only the event's identifiers can tell.</summary>
    private static bool? SeesWithoutReading(Caller caller, string capturedBy) =>
        caller.SeesEverything || string.Equals(caller.PartnerId, capturedBy, StringComparison.Ordinal) || caller.Prefixes.Contains(Caller.AnyPrefix) ? true
        : caller.Prefixes.Count == 0 ? false
        : null;

    private static bool NamesAPrefixOf(Caller caller, JsonElement evt) => Identifiers(evt).Any(id => CompanyPrefix.IsUnderAny(id, caller.Prefixes));

    /// <summary>Every identifier an event names, as written.</summary>
    public static IEnumerable<string> Identifiers(JsonElement evt)
    {
        if (evt.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        foreach (var list in IdentifierLists)
        {
            if (evt.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in items.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        yield return item.GetString()!;
                    }
                }
            }
        }

        foreach (var list in QuantityLists)
        {
            if (evt.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in items.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("epcClass", out var cls) && cls.ValueKind == JsonValueKind.String)
                    {
                        yield return cls.GetString()!;
                    }
                }
            }
        }

        if (evt.TryGetProperty("parentID", out var parent) && parent.ValueKind == JsonValueKind.String)
        {
            yield return parent.GetString()!;
        }

        foreach (var place in (string[])["readPoint", "bizLocation"])
        {
            if (evt.TryGetProperty(place, out var at) && at.ValueKind == JsonValueKind.Object && at.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                yield return id.GetString()!;
            }
        }

        foreach (var (list, member) in Parties)
        {
            if (evt.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in items.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty(member, out var party) && party.ValueKind == JsonValueKind.String)
                    {
                        yield return party.GetString()!;
                    }
                }
            }
        }
    }
}
