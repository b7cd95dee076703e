using Btmc.Epcis.Identifiers;
using Btmc.Ledger;

namespace Btmc.Supply.Access;

/// <summary>
/// Which registered partner an EPCIS party is (docs/trade.md, "Parties"): a source or destination names a party by a
/// GS1 identifier (a party GLN, <c>urn:epc:id:pgln:…</c>, or a location GLN), and the partner that owns the identifier's
/// company prefix is that party. The wildcard prefix <c>*</c> (the embedded default's one-company partner) names no
/// party: it would make every party one partner. A party under no registered prefix (an end customer, a carrier not on
/// the ledger) is itself, by its identifier.
/// </summary>
public static class Parties
{
    /// <summary>The partner whose company prefixes cover <paramref name="party"/>, or null when none does (or several do,
    /// which the registry's prefixes being disjoint rules out).</summary>
    public static string? PartnerOf(string party, IEnumerable<Caller> partners)
    {
        string? found = null;
        foreach (var partner in partners)
        {
            if (partner.Prefixes.Any(p => p != Caller.AnyPrefix && CompanyPrefix.IsUnderAny(party, [p])))
            {
                if (found is not null && found != partner.PartnerId)
                {
                    return null;
                }

                found = partner.PartnerId;
            }
        }

        return found;
    }
}
