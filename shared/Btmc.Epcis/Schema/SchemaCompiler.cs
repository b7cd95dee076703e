using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Btmc.Epcis.Schema;

/// <summary>A schema file: its name (for messages and the node cache) and its parsed content.</summary>
internal sealed record SchemaDocument(string Name, JsonElement Root);

/// <summary>
/// Compiles a draft-07 JSON Schema into a tree of <see cref="SchemaNode"/>s. Only the keywords in
/// <see cref="SupportedKeywords"/> are understood; any other keyword, an unknown <c>format</c> or a keyword of an
/// unexpected shape throws <see cref="NotSupportedException"/>, so nothing in a schema is silently ignored.
/// </summary>
/// <remarks>
/// <para><c>$ref</c> resolution: a ref starting with <c>#</c> is a JSON Pointer (RFC 6901, percent-decoded per RFC 3986)
/// into the document that holds the ref. A ref naming another file (<c>schemas/ObjectEvent-JSON-Schema.json#/definitions/ObjectEvent</c>)
/// must have the fragment <c>#/definitions/NAME</c> and resolves to <c>definitions/NAME</c> of the bundle document:
/// GS1 publishes the schema both split into files and bundled into one file whose definitions carry the same names.</para>
/// <para>A <c>$ref</c> must stand alone (draft-07 ignores its siblings, so a sibling would be silently ignored);
/// <c>$id</c> and <c>$schema</c> are accepted only at a document's root, and <c>$schema</c> must be draft-07.</para>
/// </remarks>
internal sealed partial class SchemaCompiler
{
    public const string Draft07 = "http://json-schema.org/draft-07/schema#";

    public static readonly IReadOnlySet<string> SupportedKeywords = new HashSet<string>(StringComparer.Ordinal)
    {
        "$schema", "$id", "definitions", "$ref",
        "type", "enum", "format", "pattern",
        "properties", "required", "additionalProperties", "propertyNames",
        "items", "minItems", "uniqueItems",
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    };

    private readonly Dictionary<(string Document, string Pointer), SchemaNode> compiled = [];
    private readonly SchemaDocument? bundle;
    private readonly IReadOnlyDictionary<string, string> patternPhrases;

    private SchemaCompiler(SchemaDocument? bundle, IReadOnlyDictionary<string, string> patternPhrases)
    {
        this.bundle = bundle;
        this.patternPhrases = patternPhrases;
    }

    /// <summary>
    /// Compiles <paramref name="root"/>; refs into other files resolve into <paramref name="bundle"/>, every definition
    /// of which is compiled too (so that the whole bundle is checked for unsupported keywords).
    /// </summary>
    public static SchemaNode Compile(SchemaDocument root, SchemaDocument? bundle = null, IReadOnlyDictionary<string, string>? patternPhrases = null)
    {
        var compiler = new SchemaCompiler(bundle, patternPhrases ?? new Dictionary<string, string>());
        var node = compiler.CompileAt(root, string.Empty);
        if (bundle is not null)
        {
            compiler.CompileAt(bundle, string.Empty);
        }

        return node;
    }

    private SchemaNode CompileAt(SchemaDocument document, string pointer)
    {
        if (compiled.TryGetValue((document.Name, pointer), out var existing))
        {
            return existing;
        }

        var element = Resolve(document, pointer);
        var node = new SchemaNode($"{document.Name}#{pointer}");
        compiled.Add((document.Name, pointer), node);
        Fill(node, element, document, pointer);
        return node;
    }

    private void Fill(SchemaNode node, JsonElement schema, SchemaDocument document, string pointer)
    {
        if (schema.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            node.Constant = schema.ValueKind == JsonValueKind.True;
            node.AcceptsEverything = node.Constant == true;
            return;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw Unsupported(node, "a schema must be an object or a boolean");
        }

        node.AcceptsEverything = !schema.EnumerateObject().Any();
        if (schema.TryGetProperty("$ref", out var reference))
        {
            if (schema.EnumerateObject().Count() != 1)
            {
                throw Unsupported(node, "$ref must stand alone (draft-07 ignores its siblings)");
            }

            node.Ref = ResolveRef(document, ExpectString(node, "$ref", reference));
            return;
        }

        foreach (var keyword in schema.EnumerateObject())
        {
            var value = keyword.Value;
            var here = $"{pointer}/{Escape(keyword.Name)}";
            switch (keyword.Name)
            {
                case "$schema":
                    if (pointer.Length != 0 || ExpectString(node, keyword.Name, value) != Draft07)
                    {
                        throw Unsupported(node, $"$schema must be {Draft07} and appear at the document root");
                    }

                    break;
                case "$id":
                    if (pointer.Length != 0)
                    {
                        throw Unsupported(node, "$id is supported only at the document root");
                    }

                    ExpectString(node, keyword.Name, value);
                    break;
                case "definitions":
                    foreach (var definition in ExpectObject(node, keyword.Name, value).EnumerateObject())
                    {
                        CompileAt(document, $"{here}/{Escape(definition.Name)}");
                    }

                    break;
                case "type":
                    node.Types = value.ValueKind == JsonValueKind.Array
                        ? value.EnumerateArray().Aggregate(JsonTypes.None, (all, t) => all | ParseType(node, t))
                        : ParseType(node, value);
                    break;
                case "enum":
                    node.Enum = [.. ExpectArray(node, keyword.Name, value).EnumerateArray().Select(e => e.Clone())];
                    node.EnumDisplay = [.. node.Enum.Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() ?? string.Empty : e.GetRawText())];
                    node.EnumStrings = node.Enum.All(e => e.ValueKind == JsonValueKind.String)
                        ? node.EnumDisplay.ToHashSet(StringComparer.Ordinal)
                        : null;
                    break;
                case "format":
                    node.Format = ExpectString(node, keyword.Name, value) switch
                    {
                        "uri" => SchemaFormat.Uri,
                        "date-time" => SchemaFormat.DateTime,
                        var other => throw Unsupported(node, $"format \"{other}\" is not supported"),
                    };
                    break;
                case "pattern":
                    var pattern = ExpectString(node, keyword.Name, value);
                    node.Pattern = CompilePattern(pattern);
                    node.PatternPhrase = patternPhrases.GetValueOrDefault(pattern);
                    node.PatternLiteral = LiteralPattern().Match(pattern) is { Success: true } literal ? literal.Groups[1].Value : null;
                    break;
                case "properties":
                    node.Properties = [.. ExpectObject(node, keyword.Name, value).EnumerateObject()
                        .Select(p => (p.Name, CompileAt(document, $"{here}/{Escape(p.Name)}")))];
                    node.PropertyNameSet = node.Properties.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                    break;
                case "required":
                    node.Required = [.. ExpectArray(node, keyword.Name, value).EnumerateArray().Select(r => ExpectString(node, keyword.Name, r))];
                    break;
                case "additionalProperties":
                    node.AdditionalProperties = CompileAt(document, here);
                    break;
                case "propertyNames":
                    node.PropertyNames = CompileAt(document, here);
                    break;
                case "items":
                    if (value.ValueKind == JsonValueKind.Array)
                    {
                        throw Unsupported(node, "items as an array (tuple validation) is not supported");
                    }

                    node.Items = CompileAt(document, here);
                    break;
                case "minItems":
                    node.MinItems = value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var minItems) && minItems >= 0
                        ? minItems
                        : throw Unsupported(node, "minItems must be a non-negative integer");
                    break;
                case "uniqueItems":
                    node.UniqueItems = value.ValueKind is JsonValueKind.True or JsonValueKind.False
                        ? value.GetBoolean()
                        : throw Unsupported(node, "uniqueItems must be a boolean");
                    break;
                case "allOf":
                    node.AllOf = CompileList(node, document, here, value);
                    break;
                case "anyOf":
                    node.AnyOf = CompileList(node, document, here, value);
                    break;
                case "oneOf":
                    node.OneOf = CompileList(node, document, here, value);
                    break;
                case "not":
                    node.Not = CompileAt(document, here);
                    break;
                case "if":
                    node.If = CompileAt(document, here);
                    break;
                case "then":
                    node.Then = CompileAt(document, here);
                    break;
                case "else":
                    node.Else = CompileAt(document, here);
                    break;
                default:
                    throw Unsupported(node, $"keyword \"{keyword.Name}\" is not supported");
            }
        }

        if (node.If is null && (node.Then is not null || node.Else is not null))
        {
            // Without "if", draft-07 ignores "then" and "else": refuse rather than ignore.
            throw Unsupported(node, "then/else without if");
        }
    }

    /// <summary>
    /// ECMA-262 patterns run as .NET ECMAScript regexes (ASCII \d, \w, \s as in JavaScript). The GS1 patterns use only
    /// syntax both engines read alike: anchors, classes, groups, alternation, quantifiers, escaped '/', negative lookahead.
    /// </summary>
    public static Regex CompilePattern(string pattern) => new(pattern, RegexOptions.ECMAScript | RegexOptions.Compiled);

    private SchemaNode[] CompileList(SchemaNode node, SchemaDocument document, string here, JsonElement value)
    {
        var list = ExpectArray(node, here, value);
        return list.GetArrayLength() == 0
            ? throw Unsupported(node, $"{here} must not be empty")
            : [.. Enumerable.Range(0, list.GetArrayLength()).Select(i => CompileAt(document, $"{here}/{i}"))];
    }

    private SchemaNode ResolveRef(SchemaDocument document, string reference)
    {
        var hash = reference.IndexOf('#', StringComparison.Ordinal);
        var file = hash < 0 ? reference : reference[..hash];
        var fragment = hash < 0 ? string.Empty : Uri.UnescapeDataString(reference[(hash + 1)..]);
        if (file.Length == 0)
        {
            return CompileAt(document, fragment);
        }

        if (bundle is null || !fragment.StartsWith("/definitions/", StringComparison.Ordinal) || fragment.Count(c => c == '/') != 2)
        {
            throw new NotSupportedException($"$ref \"{reference}\" in {document.Name} names another file; only \"FILE#/definitions/NAME\" refs into the bundle are supported.");
        }

        return CompileAt(bundle, fragment);
    }

    private static JsonElement Resolve(SchemaDocument document, string pointer)
    {
        var element = document.Root;
        if (pointer.Length == 0)
        {
            return element;
        }

        if (pointer[0] != '/')
        {
            throw new NotSupportedException($"\"#{pointer}\" in {document.Name} is not a JSON Pointer (plain-name fragments are not supported).");
        }

        foreach (var raw in pointer[1..].Split('/'))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            element = element.ValueKind switch
            {
                JsonValueKind.Object when element.TryGetProperty(segment, out var child) => child,
                JsonValueKind.Array when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < element.GetArrayLength() => element[index],
                _ => throw new NotSupportedException($"\"#{pointer}\" does not exist in {document.Name}."),
            };
        }

        return element;
    }

    private static JsonTypes ParseType(SchemaNode node, JsonElement value) => ExpectString(node, "type", value) switch
    {
        "null" => JsonTypes.Null,
        "boolean" => JsonTypes.Boolean,
        "object" => JsonTypes.Object,
        "array" => JsonTypes.Array,
        "number" => JsonTypes.Number,
        "integer" => JsonTypes.Integer,
        "string" => JsonTypes.String,
        var other => throw Unsupported(node, $"type \"{other}\" is unknown"),
    };

    private static string ExpectString(SchemaNode node, string keyword, JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : throw Unsupported(node, $"{keyword} must be a string");

    private static JsonElement ExpectObject(SchemaNode node, string keyword, JsonElement value) =>
        value.ValueKind == JsonValueKind.Object ? value : throw Unsupported(node, $"{keyword} must be an object");

    private static JsonElement ExpectArray(SchemaNode node, string keyword, JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? value : throw Unsupported(node, $"{keyword} must be an array");

    private static NotSupportedException Unsupported(SchemaNode node, string what) => new($"Schema at {node.Location}: {what}.");

    private static string Escape(string name) => name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    [GeneratedRegex(@"^\^([A-Za-z0-9_]+)\$$")]
    private static partial Regex LiteralPattern();
}
