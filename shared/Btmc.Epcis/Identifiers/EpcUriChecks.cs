using System.Text.Json;

namespace Btmc.Epcis.Identifiers;

/// <summary>
/// Applies <see cref="EpcUri.Check"/> to every identifier of one JSON-LD EPCIS event, in the role its member gives it.
/// Only string values are checked: a missing member, a non-string or a wrongly shaped list is the structural check's
/// concern (<see cref="EpcisDocumentReader"/>), so it is skipped here rather than reported twice.
/// </summary>
public static class EpcUriChecks
{
    private static readonly string[] EpcLists = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];
    private static readonly string[] QuantityLists = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"];

    /// <summary>Longest part of an identifier quoted in a problem's detail.</summary>
    private const int QuotedLength = 120;

    /// <summary>
    /// Adds to <paramref name="problems"/> one problem per unacceptable identifier in <paramref name="evt"/>, pointing at it
    /// (<paramref name="eventPointer"/> + <c>/epcList/2</c>, <c>/parentID</c>, <c>/quantityList/0/epcClass</c>,
    /// <c>/readPoint/id</c>, <c>/bizLocation/id</c>, <c>/sourceList/0/source</c>, <c>/destinationList/0/destination</c>,
    /// <c>/bizTransactionList/0/bizTransaction</c>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="eventPointer"/> or <paramref name="problems"/> is null.</exception>
    public static void CheckEvent(JsonElement evt, int? eventIndex, string eventPointer, List<EpcisProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(eventPointer);
        ArgumentNullException.ThrowIfNull(problems);
        if (evt.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var name in EpcLists)
        {
            if (evt.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var item in list.EnumerateArray())
                {
                    Check(item, EpcUriRole.Instance, eventIndex, new Where(eventPointer, name, i, null), problems);
                    i++;
                }
            }
        }

        if (evt.TryGetProperty("parentID", out var parent))
        {
            Check(parent, EpcUriRole.Instance, eventIndex, new Where(eventPointer, "parentID", -1, null), problems);
        }

        foreach (var name in QuantityLists)
        {
            ForEachMember(evt, name, "epcClass", EpcUriRole.Class, eventIndex, eventPointer, problems);
        }

        foreach (var name in (ReadOnlySpan<string>)["readPoint", "bizLocation"])
        {
            if (evt.TryGetProperty(name, out var location) && location.ValueKind == JsonValueKind.Object && location.TryGetProperty("id", out var id))
            {
                Check(id, EpcUriRole.Location, eventIndex, new Where(eventPointer, name, -1, "id"), problems);
            }
        }

        ForEachMember(evt, "sourceList", "source", EpcUriRole.Other, eventIndex, eventPointer, problems);
        ForEachMember(evt, "destinationList", "destination", EpcUriRole.Other, eventIndex, eventPointer, problems);
        ForEachMember(evt, "bizTransactionList", "bizTransaction", EpcUriRole.Other, eventIndex, eventPointer, problems);
    }

    private static void ForEachMember(JsonElement evt, string listName, string member, EpcUriRole role, int? eventIndex, string eventPointer, List<EpcisProblem> problems)
    {
        if (!evt.TryGetProperty(listName, out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty(member, out var value))
            {
                Check(value, role, eventIndex, new Where(eventPointer, listName, i, member), problems);
            }

            i++;
        }
    }

    private static void Check(JsonElement value, EpcUriRole role, int? eventIndex, Where where, List<EpcisProblem> problems)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return;
        }

        var text = value.GetString() ?? string.Empty;
        if (EpcUri.Check(text, role) is { } reason)
        {
            var quoted = text.Length <= QuotedLength ? text : string.Concat(text.AsSpan(0, QuotedLength), "...");
            problems.Add(new EpcisProblem(eventIndex, where.Pointer(), $"'{quoted}': {reason}"));
        }
    }

    /// <summary>The parts of an identifier's JSON Pointer, joined only when a problem is reported (the valid path allocates nothing).</summary>
    private readonly record struct Where(string EventPointer, string Member, int Item, string? Inner)
    {
        public string Pointer() =>
            EventPointer + "/" + Member + (Item >= 0 ? "/" + Item.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty) + (Inner is null ? string.Empty : "/" + Inner);
    }
}
