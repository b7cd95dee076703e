using System.Text;
using System.Text.RegularExpressions;

namespace Btmc.Epcis.Cbv;

/// <summary>
/// Converts identifiers that carry a GS1 key (EPC URIs, EPC class URIs, EPC ID pattern URIs, GS1 Digital Link URIs)
/// into the constrained canonical GS1 Digital Link URI used by the CBV 2.0 event hash
/// (https://id.gs1.org, numeric AIs, finest identification level, no CPV and no query string).
/// </summary>
public static partial class DigitalLinkNormaliser
{
    private const string Root = "https://id.gs1.org/";

    /// <summary>Returns the canonical Digital Link URI, or <c>null</c> when <paramref name="uri"/> carries no recognised GS1 key.</summary>
    public static string? Normalise(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.StartsWith("urn:epc:", StringComparison.Ordinal))
        {
            return FromEpcUri(uri);
        }

        if (uri.StartsWith("https://", StringComparison.Ordinal) || uri.StartsWith("http://", StringComparison.Ordinal))
        {
            return FromDigitalLink(uri);
        }

        return null;
    }

    /// <summary>GS1 mod-10 check digit of <paramref name="digits"/> (the key without its check digit).</summary>
    public static int CheckDigit(string digits)
    {
        ArgumentNullException.ThrowIfNull(digits);
        var sum = 0;
        var weight = 3;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var c = digits[i];
            if (c is < '0' or > '9')
            {
                throw new ArgumentException("Only digits are allowed.", nameof(digits));
            }

            sum += (c - '0') * weight;
            weight = weight == 3 ? 1 : 3;
        }

        return (10 - (sum % 10)) % 10;
    }

    /// <summary><paramref name="digits"/> followed by its GS1 check digit.</summary>
    public static string WithCheckDigit(string digits) => digits + (char)('0' + CheckDigit(digits));

    private static string? FromEpcUri(string uri)
    {
        var parts = uri.Split(':');
        if (parts.Length != 5)
        {
            return null;
        }

        var kind = parts[2];
        var scheme = parts[3];
        var fields = parts[4].Split('.');
        return kind switch
        {
            "id" => FromEpcId(scheme, fields),
            "class" when scheme == "lgtin" => Lgtin(fields),
            "idpat" => FromEpcPattern(scheme, fields),
            _ => null,
        };
    }

    private static string? FromEpcId(string scheme, string[] f)
    {
        switch (scheme)
        {
            case "sgtin" when f.Length == 3 && Gtin(f[0], f[1]) is { } gtin && IsSerial(f[2], 20):
                return Root + "01/" + gtin + "/21/" + Encode(f[2]);
            case "sscc" when f.Length == 2 && IsCompanyPrefix(f[0]) && IsDigits(f[1]) && f[0].Length + f[1].Length == 17:
                return Root + "00/" + WithCheckDigit(f[1][..1] + f[0] + f[1][1..]);
            case "sgln" when f.Length == 3 && Key13(f[0], f[1]) is { } gln && IsSerial(f[2], 20):
                return Root + "414/" + gln + (f[2] == "0" ? string.Empty : "/254/" + Encode(f[2]));
            case "grai" when f.Length == 3 && Key13(f[0], f[1]) is { } && IsSerial(f[2], 16):
                return Root + "8003/" + WithCheckDigit("0" + f[0] + f[1]) + Encode(f[2]);
            case "giai" when f.Length >= 2 && IsCompanyPrefix(f[0]):
                return Root + "8004/" + f[0] + Encode(string.Join('.', f[1..]));
            case "gsrn" when f.Length == 2 && IsCompanyPrefix(f[0]) && IsDigits(f[1]) && f[0].Length + f[1].Length == 17:
                return Root + "8018/" + WithCheckDigit(f[0] + f[1]);
            case "gsrnp" when f.Length == 2 && IsCompanyPrefix(f[0]) && IsDigits(f[1]) && f[0].Length + f[1].Length == 17:
                return Root + "8017/" + WithCheckDigit(f[0] + f[1]);
            case "gdti" when f.Length == 3 && Key13(f[0], f[1]) is { } gdti && IsSerial(f[2], 17):
                return Root + "253/" + gdti + Encode(f[2]);
            case "cpi" when f.Length == 3 && IsCompanyPrefix(f[0]) && IsDigits(f[2]):
                return Root + "8010/" + Encode(f[0] + f[1]) + "/8011/" + f[2];
            case "sgcn" when f.Length == 3 && Key13(f[0], f[1]) is { } gcn && IsDigits(f[2]):
                return Root + "255/" + gcn + f[2];
            case "ginc" when f.Length >= 2 && IsCompanyPrefix(f[0]):
                return Root + "401/" + f[0] + Encode(string.Join('.', f[1..]));
            case "gsin" when f.Length == 2 && IsCompanyPrefix(f[0]) && IsDigits(f[1]) && f[0].Length + f[1].Length == 16:
                return Root + "402/" + WithCheckDigit(f[0] + f[1]);
            case "itip" when f.Length == 5 && Gtin(f[0], f[1]) is { } itip && IsDigits(f[2]) && IsDigits(f[3]):
                return Root + "8006/" + itip + f[2] + f[3] + "/21/" + Encode(f[4]);
            case "upui" when f.Length == 3 && Gtin(f[0], f[1]) is { } upui:
                return Root + "01/" + upui + "/235/" + Encode(f[2]);
            case "pgln" when f.Length == 2 && Key13(f[0], f[1]) is { } pgln:
                return Root + "417/" + pgln;
            default:
                return null;
        }
    }

    private static string? Lgtin(string[] f) =>
        f.Length == 3 && Gtin(f[0], f[1]) is { } gtin && IsSerial(f[2], 20) ? Root + "01/" + gtin + "/10/" + Encode(f[2]) : null;

    private static string? FromEpcPattern(string scheme, string[] f)
    {
        if (f.Length < 2 || f[^1] != "*")
        {
            return null;
        }

        return scheme switch
        {
            "sgtin" or "upui" when f.Length == 3 && Gtin(f[0], f[1]) is { } gtin => Root + "01/" + gtin,
            "grai" when f.Length == 3 && Key13(f[0], f[1]) is { } => Root + "8003/" + WithCheckDigit("0" + f[0] + f[1]),
            "gdti" when f.Length == 3 && Key13(f[0], f[1]) is { } gdti => Root + "253/" + gdti,
            "sgcn" when f.Length == 3 && Key13(f[0], f[1]) is { } gcn => Root + "255/" + gcn,
            "cpi" when f.Length == 3 && IsCompanyPrefix(f[0]) => Root + "8010/" + Encode(f[0] + f[1]),
            "itip" when f.Length == 5 && Gtin(f[0], f[1]) is { } itip => Root + "8006/" + itip + f[2] + f[3],
            _ => null,
        };
    }

    /// <summary>GTIN-14 from company prefix and indicator-plus-item-reference.</summary>
    private static string? Gtin(string companyPrefix, string itemReference) =>
        IsCompanyPrefix(companyPrefix) && (itemReference.Length == 0 || IsDigits(itemReference)) && companyPrefix.Length + itemReference.Length == 13 && itemReference.Length > 0
            ? WithCheckDigit(itemReference[..1] + companyPrefix + itemReference[1..])
            : null;

    /// <summary>GLN-like 13-digit key from company prefix and reference (12 digits plus check digit).</summary>
    private static string? Key13(string companyPrefix, string reference) =>
        IsCompanyPrefix(companyPrefix) && (reference.Length == 0 || IsDigits(reference)) && companyPrefix.Length + reference.Length == 12
            ? WithCheckDigit(companyPrefix + reference)
            : null;

    private static bool IsCompanyPrefix(string s) => s.Length is >= 6 and <= 12 && IsDigits(s);

    private static bool IsDigits(string s) => s.Length > 0 && s.All(char.IsAsciiDigit);

    private static bool IsSerial(string s, int max) => s.Length > 0 && s.Length <= max * 3;

    /// <summary>Percent-encodes the characters the GS1 Digital Link standard requires in path values (EPC URIs already escape the rest).</summary>
    private static string Encode(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            _ = c switch
            {
                '!' => sb.Append("%21"),
                '(' => sb.Append("%28"),
                ')' => sb.Append("%29"),
                '*' => sb.Append("%2A"),
                '+' => sb.Append("%2B"),
                ',' => sb.Append("%2C"),
                ':' => sb.Append("%3A"),
                _ => sb.Append(c),
            };
        }

        return sb.ToString();
    }

    private static readonly Dictionary<string, string> ShortNames = new(StringComparer.Ordinal)
    {
        ["gtin"] = "01", ["itip"] = "8006", ["cpid"] = "8010", ["gln"] = "414", ["party"] = "417", ["gsrnp"] = "8017",
        ["gsrn"] = "8018", ["gcn"] = "255", ["sscc"] = "00", ["gdti"] = "253", ["ginc"] = "401", ["gsin"] = "402",
        ["grai"] = "8003", ["giai"] = "8004", ["cpv"] = "22", ["lot"] = "10", ["ser"] = "21",
    };

    private static readonly HashSet<string> PrimaryKeys =
        ["01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402", "8003", "8004"];

    private static string? FromDigitalLink(string uri)
    {
        var cut = uri.IndexOfAny(['?', '#']);
        if (cut >= 0)
        {
            uri = uri[..cut];
        }

        var schemeEnd = uri.IndexOf("://", StringComparison.Ordinal) + 3;
        var pathStart = uri.IndexOf('/', schemeEnd);
        if (pathStart < 0)
        {
            return null;
        }

        var segments = uri[(pathStart + 1)..].TrimEnd('/').Split('/').Select(s => ShortNames.GetValueOrDefault(s, s)).ToList();
        var keyAt = -1;
        for (var i = 0; i + 1 < segments.Count; i++)
        {
            if (PrimaryKeys.Contains(segments[i]) && StartsWithFourDigits(segments[i + 1]))
            {
                keyAt = i;
                break;
            }
        }

        if (keyAt < 0)
        {
            return null;
        }

        var ai = segments[keyAt];
        var key = segments[keyAt + 1];
        var qualifiers = new List<(string Ai, string Value)>();
        for (var i = keyAt + 2; i < segments.Count; i += 2)
        {
            if (i + 1 >= segments.Count)
            {
                return null;
            }

            qualifiers.Add((segments[i], segments[i + 1]));
        }

        if (ai == "01")
        {
            key = key.Length switch { 13 => "0" + key, 12 => "00" + key, 8 => "000000" + key, _ => key };
        }

        // Constrain to the finest identification level: drop CPV, and drop lot when a serial is present.
        qualifiers.RemoveAll(q => q.Ai == "22");
        if (qualifiers.Any(q => q.Ai == "21"))
        {
            qualifiers.RemoveAll(q => q.Ai == "10");
        }

        return IsValid(ai, key, qualifiers)
            ? Root + ai + "/" + key + string.Concat(qualifiers.Select(q => "/" + q.Ai + "/" + q.Value))
            : null;
    }

    private static bool StartsWithFourDigits(string s) => s.Length > 4 && s[..4].All(char.IsAsciiDigit);

    private static bool IsValid(string ai, string key, List<(string Ai, string Value)> q)
    {
        bool Only(params string[] allowed) => q.Count == 0 || (q.Count == 1 && allowed.Contains(q[0].Ai) && DlChars().IsMatch(q[0].Value));
        return ai switch
        {
            "00" => Digits(key, 18) && q.Count == 0,
            "01" => Digits(key, 14) && (q.Count == 0 || (q.Count == 1 && (q[0].Ai is "21" or "10" ? q[0].Value.Length <= 20 : q[0].Ai == "235" && q[0].Value.Length <= 28) && DlChars().IsMatch(q[0].Value))),
            "8006" => Digits(key, 18) && Only("21", "10"),
            "253" => key.Length >= 13 && Digits(key[..13], 13) && key.Length <= 30 && q.Count == 0,
            "255" => key.Length >= 13 && key.Length <= 25 && key.All(char.IsAsciiDigit) && q.Count == 0,
            "401" or "8004" => key.Length <= 30 && DlChars().IsMatch(key) && q.Count == 0,
            "402" => Digits(key, 17) && q.Count == 0,
            "414" => Digits(key, 13) && Only("254"),
            "417" => Digits(key, 13) && q.Count == 0,
            "8003" => key.Length >= 14 && Digits(key[..14], 14) && key.Length <= 30 && q.Count == 0,
            "8010" => key.Length <= 30 && (q.Count == 0 || (q.Count == 1 && q[0].Ai == "8011" && q[0].Value.Length <= 12 && q[0].Value.All(char.IsAsciiDigit))),
            "8017" or "8018" => Digits(key, 18) && q.Count == 0,
            _ => false,
        };
    }

    private static bool Digits(string s, int length) => s.Length == length && s.All(char.IsAsciiDigit);

    [GeneratedRegex("^[\\x22\\x27\\x2D\\x2E\\x30-\\x39\\x3B-\\x3F\\x41-\\x5A\\x5F\\x61-\\x7A]*$")]
    private static partial Regex DlChars();
}
