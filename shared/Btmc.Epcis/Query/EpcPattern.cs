using Btmc.Epcis.Cbv;

namespace Btmc.Epcis.Query;

/// <summary>
/// An EPC pattern URI (<c>urn:epc:idpat:&lt;scheme&gt;:&lt;field&gt;.….*</c>, GS1 Tag Data Standard): each field is a value
/// or <c>*</c>, and once a field is <c>*</c> all that follow are. It matches the EPC URIs of the same scheme field by
/// field, and the GS1 Digital Link URIs of those EPCs.
/// </summary>
/// <remarks>
/// A Digital Link does not show where the GS1 Company Prefix ends, so a pattern that fixes only the company prefix
/// (<c>urn:epc:idpat:sgtin:0614141.*.*</c>) matches every Digital Link whose key has those digits in the company
/// prefix position, including keys of a longer company prefix that begins with them.
/// </remarks>
internal sealed class EpcPattern
{
    public const string Prefix = "urn:epc:idpat:";
    private const string DigitalLinkRoot = "https://id.gs1.org/";

    /// <summary>Per scheme: the Digital Link primary key AI, where the company prefix starts in the key, and what must follow the key.</summary>
    private static readonly Dictionary<string, (string Ai, int CompanyPrefixAt, string? Then)> DigitalLinkShapes = new(StringComparer.Ordinal)
    {
        ["sgtin"] = ("01", 1, "/21/"),
        ["upui"] = ("01", 1, "/235/"),
        ["itip"] = ("8006", 1, "/21/"),
        ["sscc"] = ("00", 1, null),
        ["sgln"] = ("414", 0, null),
        ["grai"] = ("8003", 1, null),
        ["giai"] = ("8004", 0, null),
        ["gsrn"] = ("8018", 0, null),
        ["gsrnp"] = ("8017", 0, null),
        ["gdti"] = ("253", 0, null),
        ["cpi"] = ("8010", 0, "/8011/"),
        ["sgcn"] = ("255", 0, null),
        ["ginc"] = ("401", 0, null),
        ["gsin"] = ("402", 0, null),
        ["pgln"] = ("417", 0, null),
    };

    private readonly string _urnPrefix;
    private readonly string[] _fields;
    private readonly string? _companyPrefix;
    private readonly string? _digitalLinkPrefix;

    private EpcPattern(string uri, string scheme, string[] fields)
    {
        Uri = uri;
        _urnPrefix = "urn:epc:id:" + scheme + ":";
        _fields = fields;
        _companyPrefix = fields[0] == "*" ? null : fields[0];
        if (DigitalLinkShapes.TryGetValue(scheme, out var shape))
        {
            // Only the company prefix fixed (or nothing): the key's digits tell. More fixed: the normaliser must know the
            // pattern's Digital Link prefix, else Digital Links are not matched at all (never more than the pattern allows).
            _digitalLinkPrefix = fields[1] == "*" ? null : DigitalLinkNormaliser.Normalise(uri);
            Shape = fields[1] == "*" || _digitalLinkPrefix is not null ? shape : null;
        }
    }

    /// <summary>The pattern URI as given.</summary>
    public string Uri { get; }

    private (string Ai, int CompanyPrefixAt, string? Then)? Shape { get; }

    /// <summary>Parses a pattern URI, or returns null when it is not one.</summary>
    public static EpcPattern? TryParse(string uri)
    {
        if (!uri.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = uri[Prefix.Length..];
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == rest.Length - 1)
        {
            return null;
        }

        var scheme = rest[..colon];
        var fields = rest[(colon + 1)..].Split('.');
        var open = false;
        foreach (var field in fields)
        {
            if (field.Length == 0 || (open && field != "*") || (field != "*" && field.Contains('*', StringComparison.Ordinal)))
            {
                return null;
            }

            open |= field == "*";
        }

        return fields.Length >= 2 && scheme.All(char.IsAsciiLetterOrDigit) ? new EpcPattern(uri, scheme, fields) : null;
    }

    /// <summary>Field-by-field match against an EPC URI (<c>urn:epc:id:…</c>) of the pattern's scheme.</summary>
    public bool MatchesUrn(ReadOnlySpan<char> epc)
    {
        if (!epc.StartsWith(_urnPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = epc[_urnPrefix.Length..];
        for (var i = 0; i < _fields.Length; i++)
        {
            var last = i == _fields.Length - 1;
            var dot = last ? -1 : rest.IndexOf('.');
            if (!last && dot < 0)
            {
                return false;
            }

            var value = last ? rest : rest[..dot];
            if (value.Length == 0 || (_fields[i] != "*" && !value.SequenceEqual(_fields[i])))
            {
                return false;
            }

            rest = last ? [] : rest[(dot + 1)..];
        }

        return true;
    }

    /// <summary>Cheap test before normalising a Digital Link: false when it cannot match.</summary>
    public bool MayMatchDigitalLink(ReadOnlySpan<char> uri) =>
        Shape is not null && (_companyPrefix is null || uri.Contains(_companyPrefix, StringComparison.Ordinal));

    /// <summary>Match against a canonical Digital Link (<see cref="DigitalLinkNormaliser.Normalise"/>).</summary>
    public bool MatchesCanonicalDigitalLink(string canonical)
    {
        if (Shape is not { } shape)
        {
            return false;
        }

        if (_digitalLinkPrefix is not null)
        {
            return canonical.StartsWith(_digitalLinkPrefix, StringComparison.Ordinal)
                && canonical.Length > _digitalLinkPrefix.Length
                && (shape.Then is { } then ? canonical.AsSpan(_digitalLinkPrefix.Length).StartsWith(then, StringComparison.Ordinal) : canonical[_digitalLinkPrefix.Length] != '/');
        }

        var head = DigitalLinkRoot + shape.Ai + "/";
        if (!canonical.StartsWith(head, StringComparison.Ordinal))
        {
            return false;
        }

        var key = canonical.AsSpan(head.Length);
        var slash = key.IndexOf('/');
        var after = slash < 0 ? [] : key[slash..];
        key = slash < 0 ? key : key[..slash];
        if (_companyPrefix is not null
            && (key.Length < shape.CompanyPrefixAt + _companyPrefix.Length || !key.Slice(shape.CompanyPrefixAt, _companyPrefix.Length).SequenceEqual(_companyPrefix)))
        {
            return false;
        }

        return shape.Then is null || after.StartsWith(shape.Then, StringComparison.Ordinal);
    }
}
