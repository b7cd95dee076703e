using System.Text.Json;

namespace Btmc.Epcis.Cbv;

/// <summary>
/// The prefix-to-namespace part of a JSON-LD <c>@context</c>, enough to turn compact user-extension names
/// (<c>example:myField</c>) into the expanded <c>{namespace}localName</c> form of the event hash.
/// Remote contexts (URL strings) are not fetched: the standard EPCIS context's prefixes are built in.
/// </summary>
public sealed class JsonLdContext
{
    private readonly Dictionary<string, string> _prefixes;

    private JsonLdContext(Dictionary<string, string> prefixes) => _prefixes = prefixes;

    /// <summary>The prefixes of the standard EPCIS 2.0 JSON-LD context.</summary>
    public static JsonLdContext Standard { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["epcis"] = "https://ref.gs1.org/epcis/",
        ["cbv"] = "https://ref.gs1.org/cbv/",
        ["cbvmda"] = "urn:epcglobal:cbv:mda:",
        ["gs1"] = "https://gs1.org/voc/",
        ["rdfs"] = "http://www.w3.org/2000/01/rdf-schema#",
        ["owl"] = "http://www.w3.org/2002/07/owl#",
        ["xsd"] = "http://www.w3.org/2001/XMLSchema#",
        ["dcterms"] = "http://purl.org/dc/terms/",
    });

    /// <summary>The namespaces this context knows, by prefix.</summary>
    public IReadOnlyDictionary<string, string> Prefixes => _prefixes;

    /// <summary>This context extended by the inline objects of <paramref name="context"/> (an <c>@context</c> value).</summary>
    public JsonLdContext With(JsonElement context)
    {
        var merged = new Dictionary<string, string>(_prefixes, StringComparer.Ordinal);
        Collect(context, merged);
        return new JsonLdContext(merged);
    }

    /// <summary>This context extended by one prefix.</summary>
    public JsonLdContext With(string prefix, string ns)
    {
        var merged = new Dictionary<string, string>(_prefixes, StringComparer.Ordinal) { [prefix] = ns };
        return new JsonLdContext(merged);
    }

    /// <summary>The namespace bound to <paramref name="prefix"/>, if any.</summary>
    public string? NamespaceOf(string prefix) => _prefixes.GetValueOrDefault(prefix);

    private static void Collect(JsonElement context, Dictionary<string, string> into)
    {
        switch (context.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in context.EnumerateArray())
                {
                    Collect(item, into);
                }

                break;
            case JsonValueKind.Object:
                foreach (var p in context.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String && !p.Name.StartsWith('@') && p.Value.GetString() is { } ns && !ns.StartsWith('@'))
                    {
                        into[p.Name] = ns;
                    }
                }

                break;
        }
    }
}
