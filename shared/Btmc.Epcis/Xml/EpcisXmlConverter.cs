using System.Xml;
using System.Xml.Linq;

namespace Btmc.Epcis.Xml;

/// <summary>
/// Converts an EPCIS 2.0 XML capture document (namespace <c>urn:epcglobal:epcis:xsd:2</c>; EPCIS 1.2 documents in
/// <c>urn:epcglobal:epcis:xsd:1</c> with their <c>extension</c> wrappers are accepted too) into the equivalent
/// EPCIS 2.0 JSON-LD document, following the standard's XML/JSON mapping. Query documents
/// (<c>EPCISQueryDocument</c>) convert to JSON-LD query documents. Values are kept as written; user extensions
/// become <c>prefix:local</c> members with their namespaces declared in the document's <c>@context</c>.
/// Pure: nothing is fetched, no DTD is processed.
/// </summary>
public static class EpcisXmlConverter
{
    /// <summary>The largest document accepted, in characters.</summary>
    public const long MaxDocumentCharacters = 64L * 1024 * 1024;

    /// <summary>The deepest element nesting accepted (the root element is depth 1).</summary>
    public const int MaxElementDepth = 32;

    /// <summary>Namespace of EPCIS 2.0 XML documents.</summary>
    public const string Epcis2Namespace = "urn:epcglobal:epcis:xsd:2";

    /// <summary>Namespace of EPCIS 1.x XML documents.</summary>
    public const string Epcis1Namespace = "urn:epcglobal:epcis:xsd:1";

    /// <summary>Namespace of EPCIS 2.0 XML query documents.</summary>
    public const string EpcisQuery2Namespace = "urn:epcglobal:epcis-query:xsd:2";

    /// <summary>Namespace of EPCIS 1.x XML query documents.</summary>
    public const string EpcisQuery1Namespace = "urn:epcglobal:epcis-query:xsd:1";

    private static readonly XmlReaderSettings Settings = new()
    {
        // No DTD, hence no entity expansion; no resolver, hence nothing is fetched.
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = MaxDocumentCharacters,
        MaxCharactersFromEntities = 1024,
        IgnoreComments = true,
        IgnoreWhitespace = true,
        IgnoreProcessingInstructions = true,
        CloseInput = true,
    };

    /// <summary>
    /// Converts an EPCIS XML document given as bytes (UTF-8 unless its XML declaration or byte order mark says
    /// otherwise) into the UTF-8 bytes of the equivalent JSON-LD document, or reports every problem found.
    /// </summary>
    public static EpcisXmlConversion Convert(ReadOnlySpan<byte> utf8Xml)
    {
        XDocument document;
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(utf8Xml.ToArray(), writable: false), Settings);
            document = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            var where = ex.LineNumber > 0 ? $" (line {ex.LineNumber}, column {ex.LinePosition})" : string.Empty;
            var detail = ex.Message.Contains("DTD", StringComparison.Ordinal)
                ? $"A DTD (<!DOCTYPE ...>) is not allowed in an EPCIS XML document{DoctypeLocation(utf8Xml)}."
                : $"The body is not well-formed XML{where}: {FirstSentence(ex.Message)}";
            return new EpcisXmlConversion(ReadOnlyMemory<byte>.Empty, [new EpcisProblem(null, string.Empty, detail)]);
        }

        return XmlToJsonLd.Translate(document);
    }

    /// <summary>The reader reports a prohibited DTD without a position: find the declaration (column in bytes).</summary>
    private static string DoctypeLocation(ReadOnlySpan<byte> utf8Xml)
    {
        var at = utf8Xml.IndexOf("<!DOCTYPE"u8);
        if (at < 0)
        {
            return string.Empty;
        }

        var before = utf8Xml[..at];
        var line = before.Count((byte)'\n') + 1;
        var column = at - before.LastIndexOf((byte)'\n');
        return $" (line {line}, column {column})";
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Line ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
