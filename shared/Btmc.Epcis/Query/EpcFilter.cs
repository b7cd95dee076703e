using Btmc.Epcis.Cbv;

namespace Btmc.Epcis.Query;

/// <summary>
/// The values of one identifier query parameter (<c>MATCH_epc</c>, <c>MATCH_anyEPC</c>, <c>EQ_readPoint</c>, ...):
/// exact identifiers (EPC URIs, GS1 Digital Link URIs or other URIs) and EPC pattern URIs (<c>urn:epc:idpat:…</c>).
/// An identifier matches whatever spelling the event uses: an EPC URI matches the same key written as a Digital Link
/// and vice versa, both being compared in the canonical form of <see cref="DigitalLinkNormaliser"/>.
/// </summary>
public sealed class EpcFilter
{
    private const string UrnPrefix = "urn:epc:";

    private readonly string[] _spellings;
    private readonly HashSet<string> _keys;
    private readonly string[] _keyDigits;
    private readonly bool _everyExactHasUrn;
    private readonly EpcPattern[] _patterns;

    /// <summary>Builds the filter. Requires every value to be an exact identifier or a valid pattern (<see cref="TryCreate"/> checks).</summary>
    private EpcFilter(IReadOnlyList<string> values, List<string> exact, List<EpcPattern> patterns)
    {
        Values = values;
        ExactEpcs = exact.Select(EventTerms.CanonicalEpc).Distinct(StringComparer.Ordinal).ToArray();
        Patterns = patterns.Select(p => p.Uri).ToArray();
        _patterns = [.. patterns];
        _keys = new HashSet<string>(ExactEpcs, StringComparer.Ordinal);
        _spellings = exact.Concat(ExactEpcs).Distinct(StringComparer.Ordinal).ToArray();
        _everyExactHasUrn = exact.All(e => e.StartsWith(UrnPrefix, StringComparison.Ordinal) || DigitalLinkNormaliser.Normalise(e) is null);
        _keyDigits = ExactEpcs.Select(KeyDigits).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The parameter's values as given.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>
    /// The exact (non-pattern) identifiers, each in the canonical spelling the term index uses (<see cref="EventTerms.CanonicalEpc"/>), for looking events up in an index
    /// keyed the same way.
    /// </summary>
    public IReadOnlyList<string> ExactEpcs { get; }

    /// <summary>The EPC pattern URIs (<c>urn:epc:idpat:…</c>) as given. Events cannot be looked up by these.</summary>
    public IReadOnlyList<string> Patterns { get; }

    /// <summary>
    /// Builds a filter from parameter values, or explains the first value that is neither an absolute URI nor a valid
    /// EPC pattern (<paramref name="allowPatterns"/> false refuses patterns too).
    /// </summary>
    internal static bool TryCreate(IReadOnlyList<string> values, bool allowPatterns, out EpcFilter? filter, out string? problem)
    {
        var exact = new List<string>();
        var patterns = new List<EpcPattern>();
        foreach (var value in values)
        {
            if (value.StartsWith(EpcPattern.Prefix, StringComparison.Ordinal))
            {
                if (!allowPatterns)
                {
                    (filter, problem) = (null, $"'{value}' is an EPC pattern; this parameter takes exact URIs only.");
                    return false;
                }

                if (EpcPattern.TryParse(value) is not { } pattern)
                {
                    (filter, problem) = (null, $"'{value}' is not a valid EPC pattern URI (e.g. urn:epc:idpat:sgtin:0614141.107346.*).");
                    return false;
                }

                patterns.Add(pattern);
            }
            else if (Uri.TryCreate(value, UriKind.Absolute, out _))
            {
                exact.Add(value);
            }
            else
            {
                (filter, problem) = (null, $"'{value}' is not an absolute URI.");
                return false;
            }
        }

        (filter, problem) = (new EpcFilter(values, exact, patterns), null);
        return true;
    }

    /// <summary>True when <paramref name="identifier"/> (as written in an event) equals one of the identifiers or matches one of the patterns.</summary>
    public bool Matches(ReadOnlySpan<char> identifier)
    {
        foreach (var spelling in _spellings)
        {
            if (identifier.SequenceEqual(spelling))
            {
                return true;
            }
        }

        string? key = null;
        if (_keys.Count > 0 && MayNeedKey(identifier))
        {
            key = DigitalLinkNormaliser.Normalise(identifier.ToString());
            if (key is not null && _keys.Contains(key))
            {
                return true;
            }
        }

        foreach (var pattern in _patterns)
        {
            if (pattern.MatchesUrn(identifier))
            {
                return true;
            }

            if (identifier.StartsWith("http", StringComparison.Ordinal) && pattern.MayMatchDigitalLink(identifier))
            {
                key ??= DigitalLinkNormaliser.Normalise(identifier.ToString());
                if (key is not null && pattern.MatchesCanonicalDigitalLink(key))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the identifier could equal an exact value in another spelling. EPC URIs are canonical, so a URN needs
    /// the canonical form only when some value was given as a Digital Link; a Digital Link needs it only when it holds
    /// the digits of one of the keys.
    /// </summary>
    private bool MayNeedKey(ReadOnlySpan<char> identifier)
    {
        if (identifier.StartsWith(UrnPrefix, StringComparison.Ordinal))
        {
            return !_everyExactHasUrn;
        }

        if (!identifier.StartsWith("http", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var digits in _keyDigits)
        {
            if (identifier.Contains(digits, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The GS1 key of a canonical Digital Link without leading zeros (a GTIN may be written with 8, 12, 13 or 14 digits).</summary>
    private static string? KeyDigits(string key)
    {
        const string root = "https://id.gs1.org/";
        if (!key.StartsWith(root, StringComparison.Ordinal))
        {
            return null;
        }

        var segments = key[root.Length..].Split('/');
        return segments.Length >= 2 ? segments[1].TrimStart('0') : null;
    }
}
