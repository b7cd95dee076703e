namespace Btmc.Epcis.Query;

/// <summary>
/// The values of <c>EQ_bizStep</c> or <c>EQ_disposition</c>. A standard CBV value matches in any of its spellings:
/// the bare word (<c>shipping</c>), the web URI (<c>https://ref.gs1.org/cbv/BizStep-shipping</c>), the CBV 1.x URN
/// (<c>urn:epcglobal:cbv:bizstep:shipping</c>) and the compact IRI (<c>cbv:BizStep-shipping</c>), whichever the query
/// and the event use. Other values (custom URIs) match exactly.
/// </summary>
public sealed class CbvFilter
{
    private readonly string[] _spellings;

    private CbvFilter(IReadOnlyList<string> values, string[] prefixes)
    {
        Values = values;
        _spellings = values.Select(v => BareWord(v, prefixes))
            .SelectMany(word => word.Bare is { } bare ? prefixes.Select(p => p + bare).Prepend(bare) : [word.Value])
            .Distinct(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>The parameter's values as given.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>A filter on CBV business steps (<c>EQ_bizStep</c>).</summary>
    public static CbvFilter BizSteps(IReadOnlyList<string> values) =>
        new(values, ["https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:", "cbv:BizStep-"]);

    /// <summary>A filter on CBV dispositions (<c>EQ_disposition</c>).</summary>
    public static CbvFilter Dispositions(IReadOnlyList<string> values) =>
        new(values, ["https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:", "cbv:Disp-"]);

    /// <summary>A filter on CBV error reasons (<c>EQ_errorReason</c>).</summary>
    public static CbvFilter ErrorReasons(IReadOnlyList<string> values) =>
        new(values, ["https://ref.gs1.org/cbv/ER-", "urn:epcglobal:cbv:er:", "cbv:ER-"]);

    /// <summary>True when <paramref name="value"/> (as written in an event) is one of the values in any spelling.</summary>
    public bool Matches(ReadOnlySpan<char> value)
    {
        foreach (var spelling in _spellings)
        {
            if (value.SequenceEqual(spelling))
            {
                return true;
            }
        }

        return false;
    }

    private static (string Value, string? Bare) BareWord(string value, string[] prefixes)
    {
        if (!value.Contains(':', StringComparison.Ordinal))
        {
            return (value, value);
        }

        foreach (var prefix in prefixes)
        {
            if (value.Length > prefix.Length && value.StartsWith(prefix, StringComparison.Ordinal))
            {
                return (value, value[prefix.Length..]);
            }
        }

        return (value, null);
    }
}
