using System.Text.Json;

namespace Btmc.Epcis.Cbv;

/// <summary>Maps an EPCIS 2.0 JSON-LD event onto the neutral model, shaped as its XML form would be.</summary>
internal static class JsonHashReader
{
    private static readonly Dictionary<string, string> ListElementNames = new(StringComparer.Ordinal)
    {
        ["epcList"] = "epc",
        ["inputEPCList"] = "epc",
        ["outputEPCList"] = "epc",
        ["childEPCs"] = "epc",
        ["quantityList"] = "quantityElement",
        ["childQuantityList"] = "quantityElement",
        ["inputQuantityList"] = "quantityElement",
        ["outputQuantityList"] = "quantityElement",
        ["sensorElementList"] = "sensorElement",
        ["bizTransactionList"] = "bizTransaction",
        ["sourceList"] = "source",
        ["destinationList"] = "destination",
    };

    private static readonly HashSet<string> SkippedKeys = new(["@context", "#text", "rdfs:comment", "comment"], StringComparer.Ordinal);

    public static HashEvent ReadEvent(JsonElement evt, JsonLdContext context)
    {
        if (evt.TryGetProperty("@context", out var own))
        {
            context = context.With(own);
        }

        var type = evt.TryGetProperty("type", out var t) ? t.GetString() ?? string.Empty : string.Empty;
        var fields = new List<HashNode>();
        foreach (var p in evt.EnumerateObject())
        {
            if (p.Name != "type")
            {
                AddProperty(fields, p.Name, p.Value, ref context, parent: string.Empty);
            }
        }

        return new HashEvent(type, fields);
    }

    /// <summary>Expanded <c>{namespace}local</c> name of a compact JSON-LD key (standard terms are kept).</summary>
    public static string ExpandName(string key, JsonLdContext context)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && context.NamespaceOf(key[..colon]) is { } ns)
        {
            return "{" + ns + "}" + key[(colon + 1)..];
        }

        return key;
    }

    private static void AddProperty(List<HashNode> into, string key, JsonElement value, ref JsonLdContext context, string parent)
    {
        if (SkippedKeys.Contains(key))
        {
            return;
        }

        if (key.StartsWith("@xmlns:", StringComparison.Ordinal) && value.ValueKind == JsonValueKind.String)
        {
            context = context.With(key[7..], value.GetString() ?? string.Empty);
            return;
        }

        var name = ExpandName(key, context);
        if (value.ValueKind == JsonValueKind.Array)
        {
            var elementName = ListElementNames.GetValueOrDefault(key) ?? (name.EndsWith("List", StringComparison.Ordinal) && name.Length > 4 ? name[..^4] : null);
            if (elementName is not null)
            {
                var items = new List<HashNode>();
                foreach (var item in value.EnumerateArray())
                {
                    items.Add(MakeNode(elementName, elementName, item, context, key));
                }

                into.Add(new HashNode(name, string.Empty, items));
                return;
            }

            foreach (var item in value.EnumerateArray())
            {
                into.Add(MakeNode(name, key, item, context, parent));
            }

            return;
        }

        into.Add(MakeNode(name, key, value, context, parent));
    }

    private static HashNode MakeNode(string name, string key, JsonElement value, JsonLdContext context, string parent)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var children = new List<HashNode>();
                var text = string.Empty;
                foreach (var p in value.EnumerateObject())
                {
                    if (p.Name == "#text")
                    {
                        text = Scalar(p.Value, key, parent, context);
                    }
                    else if (p.Name == key && key is "bizTransaction" or "source" or "destination" && parent.EndsWith("List", StringComparison.Ordinal))
                    {
                        text = Scalar(p.Value, key, parent, context);
                    }
                    else
                    {
                        AddProperty(children, p.Name, p.Value, ref context, parent: key);
                    }
                }

                return new HashNode(name, text, children);
            case JsonValueKind.Array:
                var nested = new List<HashNode>();
                foreach (var item in value.EnumerateArray())
                {
                    nested.Add(MakeNode(name, key, item, context, parent));
                }

                return new HashNode(name, string.Empty, nested);
            default:
                return HashNode.Leaf(name, Scalar(value, key, parent, context));
        }
    }

    private static string Scalar(JsonElement value, string key, string parent, JsonLdContext context) => value.ValueKind switch
    {
        JsonValueKind.String => ExpandValue(value.GetString() ?? string.Empty, key, parent, context),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => string.Empty,
    };

    /// <summary>Bare CBV vocabulary values and standard CURIEs become web vocabulary URIs (as JSON-LD expansion would).</summary>
    private static string ExpandValue(string value, string key, string parent, JsonLdContext context)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            var vocabulary = (parent, key) switch
            {
                (_, "bizStep") => "https://ref.gs1.org/cbv/BizStep-",
                (_, "disposition") or ("persistentDisposition", "set" or "unset") => "https://ref.gs1.org/cbv/Disp-",
                ("bizTransaction", "type") => "https://ref.gs1.org/cbv/BTT-",
                ("source" or "destination", "type") => "https://ref.gs1.org/cbv/SDT-",
                ("errorDeclaration", "reason") => "https://ref.gs1.org/cbv/ER-",
                ("sensorReport", "type" or "exception") => "https://gs1.org/voc/",
                ("sensorReport", "component") => "https://ref.gs1.org/cbv/Comp-",
                _ => null,
            };
            return vocabulary is null || value.Length == 0 ? value : vocabulary + value;
        }

        var prefix = value[..colon];
        if (prefix is "gs1" or "cbv" && context.NamespaceOf(prefix) is { } ns)
        {
            return ns + value[(colon + 1)..];
        }

        return value;
    }
}
