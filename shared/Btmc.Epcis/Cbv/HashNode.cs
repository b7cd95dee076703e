namespace Btmc.Epcis.Cbv;

/// <summary>
/// The serialisation-neutral model both the JSON-LD and the XML reader build: an element name
/// (<c>{namespace}local</c> for extensions), its text value and its children (XML attributes become children).
/// </summary>
internal sealed class HashNode(string name, string value, List<HashNode> children)
{
    public string Name { get; } = name;

    public string Value { get; } = value;

    public List<HashNode> Children { get; } = children;

    public static HashNode Leaf(string name, string value) => new(name, value, []);
}

/// <summary>One event in the neutral model.</summary>
internal sealed record HashEvent(string EventType, List<HashNode> Fields);
