namespace Btmc.Epcis.Identifiers;

/// <summary>
/// Checks one identifier of an EPCIS event (docs/epcis-identifiers.md). EPCIS 2.0 lets any URI identify objects,
/// locations, parties and transactions, but a GS1 identifier must be well formed. The rule:
/// <list type="number">
/// <item>The value must be an absolute URI (RFC 3986): a scheme, something after it, only characters a URI holds
/// literally, and '%' only as '%' with two hexadecimal digits. Anything else, an empty or relative value included, is refused.</item>
/// <item>An EPC URI (<c>urn:epc:</c>) is checked strictly against the GS1 EPC Tag Data Standard 2.x: scheme, component
/// form, company prefix of 6 to 12 digits, digit counts that add up to the key's length, the GS1 AI character set 82
/// with only the seven percent-encodings TDS defines (%22 %25 %26 %2F %3C %3E %3F), serial lengths, and the ISO 6346
/// and IMO check digits of BIC and IMOVN. Tag and raw URIs are refused.</item>
/// <item>An http or https URI whose path holds a primary-key AI followed by a segment of more than four characters that
/// starts with four digits is a GS1 Digital Link and is checked strictly against GS1 Digital Link URI syntax 1.x: key
/// qualifiers and their order, percent-decoded value lengths and character sets, and check digits.</item>
/// <item>Any other absolute URI (<c>urn:uuid:</c>, <c>geo:</c>, an http URI that is not a Digital Link, ...) is accepted as
/// a non-GS1 identifier in every role.</item>
/// <item>The role then limits the GS1 identifiers: an instance needs an EPC (<c>urn:epc:id:</c>) or a serialised Digital
/// Link; a class needs <c>urn:epc:class:lgtin:</c>, a class-level <c>urn:epc:idpat:</c> (only the serial as '*') or a
/// Digital Link without a serial; a location needs an SGLN or a Digital Link with a GLN (AI 414); other roles take any
/// well-formed GS1 identifier.</item>
/// </list>
/// </summary>
public static class EpcUri
{
    /// <summary>Returns null when <paramref name="value"/> is acceptable in <paramref name="role"/>, otherwise why it is not.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="role"/> is not a defined <see cref="EpcUriRole"/>.</exception>
    public static string? Check(string value, EpcUriRole role)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!Enum.IsDefined(role))
        {
            throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown identifier role.");
        }

        var uri = value.AsSpan();
        var schemeLength = Gs1Syntax.CheckAbsoluteUri(uri, out var reason);
        if (reason is not null)
        {
            return reason;
        }

        if (uri.StartsWith("urn:epc:", StringComparison.OrdinalIgnoreCase))
        {
            return uri.StartsWith("urn:epc:", StringComparison.Ordinal)
                ? EpcUrn.Check(uri, role)
                : "An EPC URI starts with 'urn:epc:' in lower case.";
        }

        var scheme = uri[..schemeLength];
        if ((scheme.Equals("https", StringComparison.OrdinalIgnoreCase) || scheme.Equals("http", StringComparison.OrdinalIgnoreCase))
            && DigitalLink.TryCheck(uri, schemeLength, role, out reason))
        {
            return reason;
        }

        return null;
    }
}
