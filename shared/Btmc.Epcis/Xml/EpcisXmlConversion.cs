namespace Btmc.Epcis.Xml;

/// <summary>
/// The outcome of converting an EPCIS XML document: the UTF-8 bytes of the equivalent JSON-LD document, or every
/// problem found (never both). A problem's <see cref="EpcisProblem.Pointer"/> is the XML element path
/// (<c>/EPCISDocument/EPCISBody/EventList/ObjectEvent[3]/action</c>) and its detail names the line and column.
/// </summary>
public sealed record EpcisXmlConversion(ReadOnlyMemory<byte> JsonLd, IReadOnlyList<EpcisProblem> Problems)
{
    /// <summary>True when the document converted; <see cref="JsonLd"/> then holds the JSON-LD document.</summary>
    public bool Succeeded => Problems.Count == 0;
}
