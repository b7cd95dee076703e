using System.Text.Json;
using System.Text.Json.Nodes;
using Btmc.Epcis.Schema;
using Btmc.Testing;
using Xunit;

namespace Btmc.Epcis.Tests.Schema;

/// <summary>The draft-07 keywords on tiny schemas, and what the compiler refuses.</summary>
public sealed class SchemaCompilerTests
{
    [Fact]
    public void Compile_Gs1Schema_UsesOnlySupportedKeywords()
    {
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in new[] { EpcisSchema.RootFile, EpcisSchema.BundleFile })
        {
            using var document = JsonDocument.Parse(EpcisSchema.ReadResource(file));
            CollectKeywords(document.RootElement, used);
        }

        Assert.Subset(new SortedSet<string>(SchemaCompiler.SupportedKeywords, StringComparer.Ordinal), used);
        Assert.Equal(
            ["$id", "$ref", "$schema", "additionalProperties", "allOf", "anyOf", "definitions", "enum", "format", "if", "items", "minItems",
             "not", "oneOf", "pattern", "properties", "propertyNames", "required", "then", "type", "uniqueItems"],
            used);
    }

    [Fact]
    public void Compile_Gs1Schema_CompilesEveryPatternAsEcmaScript()
    {
        var patterns = new SortedSet<string>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(EpcisSchema.ReadResource(EpcisSchema.BundleFile));
        CollectPatterns(document.RootElement, patterns);

        Assert.Equal(9, patterns.Count);
        Assert.All(patterns, p => SchemaCompiler.CompilePattern(p));
        Assert.All(patterns.Where(p => !p.StartsWith("^ADD", StringComparison.Ordinal) && !p.StartsWith("^OBS", StringComparison.Ordinal) && !p.StartsWith("^DEL", StringComparison.Ordinal)),
            p => Assert.True(EpcisSchema.PatternPhrases.ContainsKey(p), $"No phrase for {p}"));
    }

    [Theory]
    [InlineData(@"^\d+(\.\d+)*$", "2.0", true)]
    [InlineData(@"^\d+(\.\d+)*$", "٢.٠", false)] // ECMAScript \d is ASCII only
    [InlineData(@"^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$", "+14:00", true)]
    [InlineData(@"^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$", "+14:30", false)]
    [InlineData(@"^(?!(urn:epcglobal:cbv|https?:\/\/ns\.gs1\.org/cbv\/))", "urn:epcglobal:cbv:bizstep:shipping", false)]
    [InlineData(@"^(?!(urn:epcglobal:cbv|https?:\/\/ns\.gs1\.org/cbv\/))", "https://example.com/cbv/x", true)]
    public void CompilePattern_Gs1Pattern_MatchesAsInJavaScript(string pattern, string value, bool matches)
    {
        Assert.Equal(matches, SchemaCompiler.CompilePattern(pattern).IsMatch(value));
    }

    [Fact]
    public void Compile_RootRefsMappedOntoBundle_EqualBundleTopLevel()
    {
        // The root file is the bundle's top level with refs into GS1's split files instead of local refs.
        var root = JsonNode.Parse(EpcisSchema.ReadResource(EpcisSchema.RootFile))!.AsObject();
        var bundle = JsonNode.Parse(EpcisSchema.ReadResource(EpcisSchema.BundleFile))!.AsObject();
        RewriteRefs(root);
        bundle.Remove("definitions");
        root.Remove("$id");
        bundle.Remove("$id");

        Assert.True(JsonNode.DeepEquals(root, bundle));
    }

    [Fact]
    public void EmbeddedSchema_EveryFile_IsByteIdenticalToSharedTestData()
    {
        foreach (var file in new[] { EpcisSchema.RootFile, EpcisSchema.BundleFile, EpcisSchema.LicenseFile })
        {
            Assert.Equal(File.ReadAllBytes(SharedTestData.PathOf("epcis-schema", file)), EpcisSchema.ReadResource(file));
        }
    }

    [Theory]
    [InlineData("""{"title": "x"}""", "keyword \"title\"")]
    [InlineData("""{"minLength": 1}""", "keyword \"minLength\"")]
    [InlineData("""{"format": "email"}""", "format \"email\"")]
    [InlineData("""{"items": [{}]}""", "tuple")]
    [InlineData("""{"$ref": "#/definitions/a", "type": "string", "definitions": {"a": {}}}""", "$ref must stand alone")]
    [InlineData("""{"then": {}}""", "then/else without if")]
    [InlineData("""{"$ref": "other.json#/definitions/a"}""", "names another file")]
    [InlineData("""{"$schema": "http://json-schema.org/draft-04/schema#"}""", "$schema must be")]
    [InlineData("""{"properties": {"a": {"$id": "x"}}}""", "$id is supported only")]
    public void Compile_UnsupportedSchema_Throws(string schema, string reason)
    {
        var error = Assert.Throws<NotSupportedException>(() => Compile(schema));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "integer"}""", "3", true)]
    [InlineData("""{"type": "integer"}""", "3.0", true)]
    [InlineData("""{"type": "integer"}""", "3.5", false)]
    [InlineData("""{"type": ["string", "null"]}""", "null", true)]
    [InlineData("""{"type": ["string", "null"]}""", "1", false)]
    [InlineData("""{"enum": [1, "a", {"b": [true]}]}""", "1.0", true)]
    [InlineData("""{"enum": [1, "a", {"b": [true]}]}""", """{"b": [true]}""", true)]
    [InlineData("""{"enum": [1, "a", {"b": [true]}]}""", """{"b": [false]}""", false)]
    [InlineData("""{"allOf": [{"type": "number"}, {"enum": [1, 2]}]}""", "2", true)]
    [InlineData("""{"allOf": [{"type": "number"}, {"enum": [1, 2]}]}""", "3", false)]
    [InlineData("""{"anyOf": [{"type": "number"}, {"enum": ["x"]}]}""", "\"x\"", true)]
    [InlineData("""{"anyOf": [{"type": "number"}, {"enum": ["x"]}]}""", "\"y\"", false)]
    [InlineData("""{"oneOf": [{"type": "number"}, {"enum": [1]}]}""", "2", true)]
    [InlineData("""{"oneOf": [{"type": "number"}, {"enum": [1]}]}""", "1", false)]
    [InlineData("""{"not": {"type": "string"}}""", "1", true)]
    [InlineData("""{"not": {"type": "string"}}""", "\"s\"", false)]
    [InlineData("""{"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}""", """{"a": 1, "b": 2}""", true)]
    [InlineData("""{"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}""", """{"a": 1, "c": 2}""", false)]
    [InlineData("""{"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}""", """{"c": 2}""", true)]
    [InlineData("""{"properties": {"a": {"type": "string"}}, "additionalProperties": false}""", """{"a": "x"}""", true)]
    [InlineData("""{"properties": {"a": {"type": "string"}}, "additionalProperties": false}""", """{"a": "x", "b": 1}""", false)]
    [InlineData("""{"properties": {"a": {"type": "string"}}}""", """{"a": 1, "a": "last wins"}""", true)]
    [InlineData("""{"propertyNames": {"pattern": "^[a-z]+$"}}""", """{"abc": 1}""", true)]
    [InlineData("""{"propertyNames": {"pattern": "^[a-z]+$"}}""", """{"aBc": 1}""", false)]
    [InlineData("""{"items": {"type": "string"}, "minItems": 2, "uniqueItems": true}""", """["a", "b"]""", true)]
    [InlineData("""{"items": {"type": "string"}, "minItems": 2, "uniqueItems": true}""", """["a"]""", false)]
    [InlineData("""{"items": {"type": "string"}, "minItems": 2, "uniqueItems": true}""", """["a", "a"]""", false)]
    [InlineData("""{"uniqueItems": true}""", """[{"a": 1, "b": 2}, {"b": 2, "a": 1.0}]""", false)]
    [InlineData("""{"definitions": {"@x": {"type": "string"}}, "properties": {"a": {"$ref": "#/definitions/%40x"}}}""", """{"a": 1}""", false)]
    [InlineData("""{"definitions": {"a/b": {"type": "string"}}, "items": {"$ref": "#/definitions/a~1b"}}""", """["s"]""", true)]
    [InlineData("""{"properties": {"a": false}}""", """{"a": 1}""", false)]
    [InlineData("""{"not": {}}""", "1", false)]
    public void Validate_TinySchema_MatchesDraft07(string schema, string instance, bool valid)
    {
        var errors = Validate(schema, instance);

        Assert.Equal(valid, errors.Count == 0);
    }

    [Fact]
    public void Validate_AnyOfFailingAtOnePlace_MergesIntoOneSentence()
    {
        var error = Assert.Single(Validate(
            """{"properties": {"v": {"anyOf": [{"type": "string", "format": "uri"}, {"enum": ["a", "b"]}, {"pattern": "^X$"}]}}}""",
            """{"v": "nope"}"""));

        Assert.Equal("/v", error.Pointer);
        Assert.Equal("'v' must be one of a, b, X or an absolute URI (RFC 3986), such as https://example.com/x (got \"nope\").", error.Detail);
    }

    [Fact]
    public void Validate_AnyOfFailingAtDifferentDepths_ReportsTheDeepestAlternative()
    {
        var error = Assert.Single(Validate(
            """{"anyOf": [{"required": ["list"]}, {"properties": {"q": {"items": {"type": "number"}}}, "required": ["q"]}]}""",
            """{"q": [1, "two"]}"""));

        Assert.Equal("/q/1", error.Pointer);
        Assert.Equal("Item 1 of 'q' must be a number (got \"two\").", error.Detail);
    }

    [Fact]
    public void Validate_AnyOfOfRequiredMembers_NamesEveryAlternative()
    {
        var error = Assert.Single(Validate("""{"anyOf": [{"required": ["a"]}, {"required": ["b", "c"]}]}""", "{}"));

        Assert.Equal(string.Empty, error.Pointer);
        Assert.Equal("The document needs 'a' or both 'b' and 'c'.", error.Detail);
    }

    [Fact]
    public void Validate_OneOfMatchingTwice_SaysSo()
    {
        var error = Assert.Single(Validate("""{"oneOf": [{"type": "number"}, {"enum": [1]}]}""", "1"));

        Assert.Contains("matches both alternative 1 and alternative 2", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_IfThenFailing_ReportsOnlyTheThenBranch()
    {
        var error = Assert.Single(Validate(
            """{"if": {"properties": {"kind": {"enum": ["a"]}}}, "then": {"properties": {"n": {"type": "integer"}}}, "else": {"required": ["z"]}}""",
            """{"kind": "a", "n": "x"}"""));

        Assert.Equal("/n", error.Pointer);
        Assert.Equal("'n' must be an integer (got \"x\").", error.Detail);
    }

    [Fact]
    public void Validate_RefIntoBundle_ResolvesByDefinitionName()
    {
        using var bundle = JsonDocument.Parse("""{"definitions": {"id": {"type": "string", "format": "uri"}}}""");
        using var root = JsonDocument.Parse("""{"properties": {"id": {"$ref": "schemas/definitions-JSON-Schema.json#/definitions/id"}}}""");
        var node = SchemaCompiler.Compile(new SchemaDocument("root.json", root.RootElement), new SchemaDocument("bundle.json", bundle.RootElement));

        using var instance = JsonDocument.Parse("""{"id": "not a uri"}""");
        var errors = new List<SchemaError>();
        Assert.False(node.Validate(instance.RootElement, null, new SchemaContext(), errors));
        Assert.Equal("/id", Assert.Single(errors).Pointer);
    }

    [Fact]
    public void Validate_RecursiveRef_Terminates()
    {
        var schema = """{"definitions": {"tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/tree"}}}}}, "$ref": "#/definitions/tree"}""";

        Assert.Throws<NotSupportedException>(() => Compile(schema)); // $ref must stand alone
        var errors = Validate(
            """{"definitions": {"tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/tree"}}}}}, "allOf": [{"$ref": "#/definitions/tree"}]}""",
            """{"children": [{"children": [{"children": 1}]}]}""");
        Assert.Equal("/children/0/children/0/children", Assert.Single(errors).Pointer);
    }

    private static SchemaNode Compile(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return SchemaCompiler.Compile(new SchemaDocument("test.json", document.RootElement));
    }

    private static List<SchemaError> Validate(string schema, string instance)
    {
        var node = Compile(schema);
        using var document = JsonDocument.Parse(instance);
        var errors = new List<SchemaError>();
        var valid = node.Validate(document.RootElement, null, new SchemaContext(), null);
        Assert.Equal(valid, node.Validate(document.RootElement, null, new SchemaContext(), errors));
        Assert.Equal(valid, errors.Count == 0);
        return errors;
    }

    private static void CollectKeywords(JsonElement schema, ISet<string> used)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var keyword in schema.EnumerateObject())
        {
            used.Add(keyword.Name);
            switch (keyword.Name)
            {
                case "properties" or "definitions":
                    foreach (var child in keyword.Value.EnumerateObject())
                    {
                        CollectKeywords(child.Value, used);
                    }

                    break;
                case "allOf" or "anyOf" or "oneOf":
                    foreach (var child in keyword.Value.EnumerateArray())
                    {
                        CollectKeywords(child, used);
                    }

                    break;
                case "items" or "not" or "if" or "then" or "else" or "additionalProperties" or "propertyNames":
                    CollectKeywords(keyword.Value, used);
                    break;
            }
        }
    }

    private static void CollectPatterns(JsonElement element, ISet<string> patterns)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    if (member.Name == "pattern" && member.Value.ValueKind == JsonValueKind.String)
                    {
                        patterns.Add(member.Value.GetString() ?? string.Empty);
                    }

                    CollectPatterns(member.Value, patterns);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CollectPatterns(item, patterns);
                }

                break;
        }
    }

    private static void RewriteRefs(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"] is JsonValue value && value.GetValue<string>() is var reference && reference.IndexOf('#', StringComparison.Ordinal) > 0)
                {
                    obj["$ref"] = reference[reference.IndexOf('#', StringComparison.Ordinal)..];
                }

                foreach (var (_, child) in obj.ToList())
                {
                    RewriteRefs(child);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    RewriteRefs(child);
                }

                break;
        }
    }
}
