using System.Text.Json;
using Btmc.Epcis.Identifiers;

namespace Btmc.Epcis;

/// <summary>One attribute of a vocabulary element: its id (a URI or a prefixed name) and its value as text (a JSON
/// string as it is, any other JSON value as its JSON text).</summary>
public sealed record MasterDataAttribute(string Id, string Value);

/// <summary>
/// One element of EPCIS master data (<c>epcisHeader.epcisMasterData.vocabularyList[].vocabularyElementList[]</c>):
/// the vocabulary type it was given under, its id, its attributes and the ids of its children.
/// </summary>
public sealed record MasterDataElement(string Type, string Id, IReadOnlyList<MasterDataAttribute> Attributes, IReadOnlyList<string> Children)
{
    /// <summary>True when the id is a GS1 key with a company prefix (a GLN, an SGLN, a GTIN…): such an element belongs
    /// to the prefix's owner, and is shared with every partner once that owner has given it.</summary>
    public bool IsGs1Keyed => CompanyPrefix.KeyDigits(Id) is not null;

    /// <summary>Same type, id, attributes and children (in order): storing it again changes nothing.</summary>
    public bool SameAs(MasterDataElement other) =>
        Type == other.Type && Id == other.Id && Attributes.SequenceEqual(other.Attributes) && Children.SequenceEqual(other.Children, StringComparer.Ordinal);

    /// <summary>The element as JSON, in the shape the reader takes it from.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        type = Type,
        id = Id,
        attributes = Attributes.Select(a => new { id = a.Id, attribute = a.Value }),
        children = Children,
    });

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    public static MasterDataElement FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new MasterDataElement(
            root.GetProperty("type").GetString()!,
            root.GetProperty("id").GetString()!,
            root.GetProperty("attributes").EnumerateArray().Select(a => new MasterDataAttribute(a.GetProperty("id").GetString()!, a.GetProperty("attribute").GetString()!)).ToList(),
            root.GetProperty("children").EnumerateArray().Select(c => c.GetString()!).ToList());
    }
}

/// <summary>A vocabulary element of a capture document, with its JSON pointer in the document.</summary>
public sealed record CapturedMasterData(string Pointer, MasterDataElement Element);

/// <summary>Reads <c>epcisHeader.epcisMasterData.vocabularyList</c> of an EPCISDocument.</summary>
public static class MasterDataReader
{
    private const string ListPointer = "/epcisHeader/epcisMasterData/vocabularyList";

    /// <summary>The document's vocabulary elements; each malformed member is reported with its pointer.</summary>
    public static IReadOnlyList<CapturedMasterData> Read(JsonElement document, List<EpcisProblem> problems)
    {
        var found = new List<CapturedMasterData>();
        if (!document.TryGetProperty("epcisHeader", out var header) || header.ValueKind != JsonValueKind.Object
            || !header.TryGetProperty("epcisMasterData", out var masterData) || masterData.ValueKind != JsonValueKind.Object
            || !masterData.TryGetProperty("vocabularyList", out var list))
        {
            return found;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new EpcisProblem(null, ListPointer, "vocabularyList must be an array of vocabularies."));
            return found;
        }

        var v = 0;
        foreach (var vocabulary in list.EnumerateArray())
        {
            var pointer = $"{ListPointer}/{v++}";
            if (vocabulary.ValueKind != JsonValueKind.Object || !vocabulary.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                problems.Add(new EpcisProblem(null, pointer + "/type", "A vocabulary needs its 'type' (e.g. urn:epcglobal:epcis:vtype:BusinessLocation)."));
                continue;
            }

            if (!vocabulary.TryGetProperty("vocabularyElementList", out var elements))
            {
                continue;
            }

            if (elements.ValueKind != JsonValueKind.Array)
            {
                problems.Add(new EpcisProblem(null, pointer + "/vocabularyElementList", "vocabularyElementList must be an array."));
                continue;
            }

            var e = 0;
            foreach (var element in elements.EnumerateArray())
            {
                var elementPointer = $"{pointer}/vocabularyElementList/{e++}";
                if (ReadElement(type.GetString()!, element, elementPointer, problems) is { } read)
                {
                    found.Add(new CapturedMasterData(elementPointer, read));
                }
            }
        }

        return found;
    }

    private static MasterDataElement? ReadElement(string type, JsonElement element, string pointer, List<EpcisProblem> problems)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
            || !Uri.TryCreate(id.GetString(), UriKind.Absolute, out _))
        {
            problems.Add(new EpcisProblem(null, pointer + "/id", "A vocabulary element needs an 'id' that is an absolute URI."));
            return null;
        }

        var attributes = new List<MasterDataAttribute>();
        if (element.TryGetProperty("attributes", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            var a = 0;
            foreach (var attribute in list.EnumerateArray())
            {
                if (attribute.ValueKind != JsonValueKind.Object || !attribute.TryGetProperty("id", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    problems.Add(new EpcisProblem(null, $"{pointer}/attributes/{a}/id", "An attribute needs an 'id'."));
                }
                else if (attribute.TryGetProperty("attribute", out var value) && value.ValueKind != JsonValueKind.Null)
                {
                    attributes.Add(new MasterDataAttribute(name.GetString()!, value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()));
                }

                a++;
            }
        }

        var children = new List<string>();
        if (element.TryGetProperty("children", out var childList) && childList.ValueKind == JsonValueKind.Array)
        {
            var c = 0;
            foreach (var child in childList.EnumerateArray())
            {
                if (child.ValueKind == JsonValueKind.String && Uri.TryCreate(child.GetString(), UriKind.Absolute, out _))
                {
                    children.Add(child.GetString()!);
                }
                else
                {
                    problems.Add(new EpcisProblem(null, $"{pointer}/children/{c}", "A child must be the id (an absolute URI) of a vocabulary element."));
                }

                c++;
            }
        }

        return new MasterDataElement(type, id.GetString()!, attributes, children);
    }
}
