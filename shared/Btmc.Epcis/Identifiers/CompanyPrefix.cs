using Btmc.Epcis.Cbv;

namespace Btmc.Epcis.Identifiers;

/// <summary>
/// Which GS1 company prefix an identifier is under (docs/partners.md, "Prefixes"). A GS1 key starts with its company
/// prefix after a fixed lead (GTIN-14: the indicator digit; SSCC: the extension digit; GRAI: its leading zero; GLN,
/// party GLN, GIAI, GDTI, GCN, CPID, GSRN, GINC, GSIN, GMN: nothing), and company prefixes never prefix one another,
/// so "under prefix P" is "the key's digits after the lead start with P". Identifiers that carry no GS1 key are under
/// no prefix.
/// </summary>
public static class CompanyPrefix
{
    /// <summary>The shortest and longest GS1 company prefixes.</summary>
    public const int MinLength = 4, MaxLength = 12;

    /// <summary>Whether <paramref name="prefix"/> is a company prefix as the registry holds one: 4 to 12 digits, or <c>*</c> (every prefix).</summary>
    public static bool IsValid(string prefix) =>
        prefix == "*" || (prefix.Length is >= MinLength and <= MaxLength && prefix.All(char.IsAsciiDigit));

    /// <summary>The key's digits from where its company prefix starts, or null when the identifier carries no GS1 key.</summary>
    public static string? KeyDigits(string identifier)
    {
        var canonical = identifier.StartsWith("https://id.gs1.org/", StringComparison.Ordinal) ? identifier : DigitalLinkNormaliser.Normalise(identifier);
        if (canonical is null)
        {
            return null;
        }

        // https://id.gs1.org/<AI>/<key>[/...]
        var path = canonical.AsSpan("https://id.gs1.org/".Length);
        var slash = path.IndexOf('/');
        if (slash <= 0)
        {
            return null;
        }

        var ai = path[..slash];
        var key = path[(slash + 1)..];
        var end = key.IndexOf('/');
        if (end >= 0)
        {
            key = key[..end];
        }

        var lead = ai switch
        {
            "01" or "8006" or "00" or "8003" => 1,
            "414" or "417" or "8004" or "253" or "255" or "8010" or "8017" or "8018" or "401" or "402" or "8013" => 0,
            _ => -1,
        };
        return lead < 0 || key.Length <= lead ? null : key[lead..].ToString();
    }

    /// <summary>Whether the identifier is under one of <paramref name="prefixes"/>.</summary>
    public static bool IsUnderAny(string identifier, IReadOnlyList<string> prefixes)
    {
        if (prefixes.Count == 0)
        {
            return false;
        }

        if (prefixes.Contains("*"))
        {
            return true;
        }

        return KeyDigits(identifier) is { } digits && prefixes.Any(p => digits.StartsWith(p, StringComparison.Ordinal));
    }
}
