using System.Text.Json;
using Btmc.Epcis;
using Btmc.Epcis.Identifiers;
using Btmc.Ledger;

namespace Btmc.Supply.Access;

/// <summary>An identifier an event brings into being: where in the event it is written, and whether it may already
/// exist (a parent may be an existing container: only a new one is commissioned by aggregating into it).</summary>
public sealed record CommissionedIdentifier(string Identifier, string Pointer, bool OnlyIfNew);

/// <summary>
/// Who may commission what (docs/partners.md, "Who may write what"): an event that brings identifiers into being — an
/// ObjectEvent ADD's EPCs, a TransformationEvent's outputs, an AggregationEvent ADD's parent when it is new — may name
/// only GS1 keys under a company prefix the capturing partner owns or was granted. Identifiers that carry no GS1 key
/// belong to no prefix and are not checked here (the clone check still holds them to one commissioning).
/// </summary>
public static class CommissionRights
{
    /// <summary>The GS1-keyed identifiers the event commissions, with their pointers within the event.</summary>
    public static IReadOnlyList<CommissionedIdentifier> Commissioned(CapturedEvent evt)
    {
        var found = new List<CommissionedIdentifier>();
        var t = evt.Terms;
        if (t.IsErrorDeclaration)
        {
            return found;
        }

        using var json = JsonDocument.Parse(evt.Json);
        var root = json.RootElement;
        void List(string member)
        {
            if (root.TryGetProperty(member, out var items) && items.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String && CompanyPrefix.KeyDigits(item.GetString()!) is not null)
                    {
                        found.Add(new CommissionedIdentifier(EventTerms.CanonicalEpc(item.GetString()!), $"/{member}/{i}", false));
                    }

                    i++;
                }
            }
        }

        switch (t.EventType, t.Action)
        {
            case ("ObjectEvent", "ADD"):
                List("epcList");
                break;
            case ("TransformationEvent", _):
                List("outputEPCList");
                break;
            case ("AggregationEvent", "ADD") when t.Parent is { } parent && CompanyPrefix.KeyDigits(parent) is not null:
                found.Add(new CommissionedIdentifier(parent, "/parentID", true));
                break;
        }

        return found;
    }

    /// <summary>Whether <paramref name="caller"/> may commission <paramref name="identifier"/>.</summary>
    public static bool May(Caller caller, string identifier) =>
        CompanyPrefix.IsUnderAny(identifier, caller.Prefixes) || CompanyPrefix.IsUnderAny(identifier, caller.GrantedPrefixes);
}
