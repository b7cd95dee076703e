using System.Xml.Linq;

namespace Btmc.Epcis.Cbv;

/// <summary>Maps the events of an EPCIS 1.x/2.0 XML document (or query document) onto the neutral model.</summary>
internal static class XmlHashReader
{
    public static (IReadOnlyList<HashEvent> Events, IReadOnlySet<string> Ignored) Read(string xml)
    {
        var doc = XDocument.Parse(xml);
        var root = doc.Root ?? throw new FormatException("The XML document has no root element.");
        var eventList = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "EventList")
            ?? throw new FormatException("No EventList found in the EPCIS XML document.");

        var ignored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var declaration in root.Elements().Where(e => e.Name.LocalName == "ignoreFields" && e.Name.Namespace != XNamespace.None))
        {
            foreach (var field in declaration.Elements())
            {
                ignored.Add(NameOf(field.Name));
            }
        }

        var events = Flatten(eventList.Elements())
            .Select(e => new HashEvent(e.Name.LocalName, ChildrenOf(e)))
            .ToList();
        return (events, ignored);
    }

    private static bool IsExtensionWrapper(XElement e) =>
        e.Name.Namespace == XNamespace.None && e.Name.LocalName is "extension" or "baseExtension";

    private static IEnumerable<XElement> Flatten(IEnumerable<XElement> elements)
    {
        foreach (var e in elements)
        {
            if (IsExtensionWrapper(e))
            {
                foreach (var inner in Flatten(e.Elements()))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return e;
            }
        }
    }

    private static string NameOf(XName name) =>
        name.Namespace == XNamespace.None ? name.LocalName : "{" + name.NamespaceName + "}" + name.LocalName;

    private static List<HashNode> ChildrenOf(XElement e)
    {
        var children = new List<HashNode>();
        foreach (var a in e.Attributes().Where(a => !a.IsNamespaceDeclaration))
        {
            children.Add(HashNode.Leaf(NameOf(a.Name), ExpandValue(a.Value)));
        }

        foreach (var c in Flatten(e.Elements()))
        {
            children.Add(new HashNode(NameOf(c.Name), ExpandValue(TextOf(c)), ChildrenOf(c)));
        }

        return children;
    }

    /// <summary>The text before the first child element (as ElementTree's <c>text</c>), trimmed.</summary>
    private static string TextOf(XElement e)
    {
        var text = string.Concat(e.Nodes().TakeWhile(n => n is not XElement).OfType<XText>().Select(t => t.Value));
        return text.Trim();
    }

    private static string ExpandValue(string value)
    {
        value = value.Trim();
        if (value.StartsWith("gs1:", StringComparison.Ordinal))
        {
            return "https://gs1.org/voc/" + value[4..];
        }

        if (value.StartsWith("cbv:", StringComparison.Ordinal))
        {
            return "https://ref.gs1.org/cbv/" + value[4..];
        }

        return value;
    }
}
