using System.Text.Json;
using System.Text.RegularExpressions;

namespace Btmc.Epcis.Schema;

[Flags]
internal enum JsonTypes
{
    None = 0,
    Null = 1,
    Boolean = 2,
    Object = 4,
    Array = 8,
    Number = 16,
    Integer = 32,
    String = 64,
}

/// <summary>
/// One compiled (sub)schema: the draft-07 keywords the GS1 EPCIS schema uses, already parsed. Built once by
/// <see cref="SchemaCompiler"/>; afterwards read-only and safe to share between threads.
/// </summary>
/// <remarks>
/// <see cref="Validate"/> runs in two modes. Without a sink it only answers valid/invalid and stops at the first
/// failure, allocating nothing for errors: this is the path every valid document takes, and how anyOf/oneOf/not/if
/// probe their subschemas. With a sink it reports every failure it finds.
/// </remarks>
internal sealed class SchemaNode(string location)
{
    /// <summary>Where this subschema is, e.g. <c>EPCIS-JSON-Schema.json#/definitions/action</c>.</summary>
    public string Location { get; } = location;

    /// <summary>A boolean schema (<c>true</c> / <c>false</c>), or null for an object schema.</summary>
    public bool? Constant { get; set; }

    public SchemaNode? Ref { get; set; }

    public JsonTypes Types { get; set; }

    public JsonElement[]? Enum { get; set; }

    /// <summary>The enum as a set when every value is a string (the common case).</summary>
    public HashSet<string>? EnumStrings { get; set; }

    public string[] EnumDisplay { get; set; } = [];

    public SchemaFormat Format { get; set; }

    public Regex? Pattern { get; set; }

    /// <summary>How a sentence describes <see cref="Pattern"/>; a pattern for one literal is described as that value.</summary>
    public string? PatternPhrase { get; set; }

    public string? PatternLiteral { get; set; }

    public string[]? Required { get; set; }

    public (string Name, SchemaNode Schema)[]? Properties { get; set; }

    public HashSet<string> PropertyNameSet { get; set; } = new(StringComparer.Ordinal);

    public SchemaNode? AdditionalProperties { get; set; }

    public SchemaNode? PropertyNames { get; set; }

    public SchemaNode? Items { get; set; }

    public int MinItems { get; set; }

    public bool UniqueItems { get; set; }

    public SchemaNode[]? AllOf { get; set; }

    public SchemaNode[]? AnyOf { get; set; }

    public SchemaNode[]? OneOf { get; set; }

    public SchemaNode? Not { get; set; }

    public SchemaNode? If { get; set; }

    public SchemaNode? Then { get; set; }

    public SchemaNode? Else { get; set; }

    /// <summary>True for <c>{}</c> and <c>true</c>: every instance is valid.</summary>
    public bool AcceptsEverything { get; set; }

    /// <summary>
    /// Validates <paramref name="instance"/>, or the member name <paramref name="name"/> when <c>propertyNames</c>
    /// asks (a name is a string value). Errors go to <paramref name="sink"/> when it is given.
    /// </summary>
    public bool Validate(JsonElement instance, string? name, SchemaContext context, List<SchemaError>? sink)
    {
        if (Ref is not null)
        {
            return Ref.Validate(instance, name, context, sink);
        }

        if (Constant is bool constant)
        {
            if (!constant)
            {
                sink?.Add(SchemaError.Other(context, $"{context.Subject()} is not allowed here"));
            }

            return constant;
        }

        var kind = name is not null ? JsonValueKind.String : instance.ValueKind;
        if (Types != JsonTypes.None && !HasType(instance, kind))
        {
            sink?.Add(SchemaError.Value(context, [], [DescribeTypes(Types)], Got(instance, name)));
            return false;
        }

        var valid = true;
        if (kind == JsonValueKind.String && (Enum is not null || Format != SchemaFormat.None || Pattern is not null))
        {
            var text = name ?? instance.GetString() ?? string.Empty;
            valid = ValidateString(instance, name, text, context, sink);
        }
        else if (Enum is not null && !EnumContains(instance))
        {
            sink?.Add(SchemaError.Value(context, EnumDisplay, [], Got(instance, name)));
            valid = false;
        }

        if (!valid && sink is null)
        {
            return false;
        }

        if (kind == JsonValueKind.Object && name is null)
        {
            var objectValid = ValidateObject(instance, context, sink, out var missingRequired);
            if (missingRequired && sink is not null)
            {
                // Reporting only: with a required member missing (the GS1 schema requires "type" before branching on
                // it), the conditionals below would pass their "if" vacuously and report every branch's demands.
                return false;
            }

            valid &= objectValid;
        }
        else if (kind == JsonValueKind.Array)
        {
            valid &= ValidateArray(instance, context, sink);
        }

        if (!valid && sink is null)
        {
            return false;
        }

        return ValidateApplicators(instance, name, context, sink) && valid;
    }

    private bool ValidateString(JsonElement instance, string? name, string text, SchemaContext context, List<SchemaError>? sink)
    {
        var valid = true;
        if (Enum is not null && !(EnumStrings?.Contains(text) ?? EnumContains(instance)))
        {
            if (sink is null)
            {
                return false;
            }

            sink.Add(SchemaError.Value(context, EnumDisplay, [], Got(instance, name)));
            valid = false;
        }

        if (Format != SchemaFormat.None && !SchemaFormats.IsValid(Format, text))
        {
            if (sink is null)
            {
                return false;
            }

            sink.Add(SchemaError.Value(context, [], [SchemaFormats.Describe(Format)], Got(instance, name)));
            valid = false;
        }

        if (Pattern is not null && !(PatternLiteral is not null ? text == PatternLiteral : Pattern.IsMatch(text)))
        {
            if (sink is null)
            {
                return false;
            }

            sink.Add(PatternLiteral is not null
                ? SchemaError.Value(context, [PatternLiteral], [], Got(instance, name))
                : SchemaError.Value(context, [], [PatternPhrase ?? $"a string matching /{Pattern}/"], Got(instance, name)));
            valid = false;
        }

        return valid;
    }

    private bool ValidateObject(JsonElement instance, SchemaContext context, List<SchemaError>? sink, out bool missingRequired)
    {
        missingRequired = false;
        foreach (var member in Required ?? [])
        {
            if (!instance.TryGetProperty(member, out _))
            {
                missingRequired = true;
                if (sink is null)
                {
                    return false;
                }

                sink.Add(SchemaError.Required(context, member));
            }
        }

        var valid = !missingRequired;

        // A member given twice counts with its last value (TryGetProperty finds the last), as in JavaScript validators.
        foreach (var (member, schema) in Properties ?? [])
        {
            if (instance.TryGetProperty(member, out var value))
            {
                context.Push(member);
                var ok = schema.Validate(value, null, context, sink);
                context.Pop();
                if (!ok)
                {
                    if (sink is null)
                    {
                        return false;
                    }

                    valid = false;
                }
            }
        }

        if (AdditionalProperties is null && PropertyNames is null)
        {
            return valid;
        }

        foreach (var property in instance.EnumerateObject())
        {
            var member = property.Name;
            context.Push(member);
            var ok = ValidateAdditional(member, property.Value, context, sink);
            if (PropertyNames is not null && (ok || sink is not null))
            {
                context.CheckingName = true;
                ok &= PropertyNames.Validate(default, member, context, sink);
                context.CheckingName = false;
            }

            context.Pop();
            if (!ok)
            {
                if (sink is null)
                {
                    return false;
                }

                valid = false;
            }
        }

        return valid;
    }

    private bool ValidateAdditional(string member, JsonElement value, SchemaContext context, List<SchemaError>? sink)
    {
        if (AdditionalProperties is null || PropertyNameSet.Contains(member))
        {
            return true;
        }

        if (AdditionalProperties.Constant == false)
        {
            var allowed = Properties is { Length: > 0 } ? $"; the allowed members are {string.Join(", ", Properties.Select(p => p.Name))}" : string.Empty;
            sink?.Add(SchemaError.Other(context, $"member '{member}' is not allowed here{allowed}"));
            return false;
        }

        return AdditionalProperties.Validate(value, null, context, sink);
    }

    private bool ValidateArray(JsonElement instance, SchemaContext context, List<SchemaError>? sink)
    {
        var valid = true;
        if (Items is not null)
        {
            var index = 0;
            foreach (var item in instance.EnumerateArray())
            {
                context.Push(index++);
                var ok = Items.Validate(item, null, context, sink);
                context.Pop();
                if (!ok)
                {
                    if (sink is null)
                    {
                        return false;
                    }

                    valid = false;
                }
            }
        }

        var length = instance.GetArrayLength();
        if (length < MinItems)
        {
            var expected = MinItems == 1 ? "a non-empty array" : $"an array of at least {MinItems} items";
            sink?.Add(SchemaError.Value(context, [], [expected], length == 0 ? " (got an empty array)" : $" (got {length} items)"));
            valid = false;
        }

        if (UniqueItems && JsonValues.FirstDuplicate(instance) is (int first, int repeat))
        {
            if (sink is not null)
            {
                var subject = context.Subject();
                context.Push(repeat);
                sink.Add(SchemaError.Other(context, $"{subject} must not contain duplicates: item {repeat} repeats item {first}"));
                context.Pop();
            }

            valid = false;
        }

        return valid;
    }

    private bool ValidateApplicators(JsonElement instance, string? name, SchemaContext context, List<SchemaError>? sink)
    {
        var valid = true;
        foreach (var schema in AllOf ?? [])
        {
            if (!schema.Validate(instance, name, context, sink))
            {
                if (sink is null)
                {
                    return false;
                }

                valid = false;
            }
        }

        if (AnyOf is not null && CountValid(AnyOf, instance, name, context, stopAt: 1) == 0)
        {
            if (sink is null)
            {
                return false;
            }

            sink.AddRange(ExplainFailedAlternatives(AnyOf, instance, name, context));
            valid = false;
        }

        if (OneOf is not null)
        {
            if (CountValid(OneOf, instance, name, context, stopAt: 2) != 1)
            {
                if (sink is null)
                {
                    return false;
                }

                sink.AddRange(ExplainOneOf(instance, name, context));
                valid = false;
            }
        }

        if (Not is not null && Not.Validate(instance, name, context, null))
        {
            if (sink is null)
            {
                return false;
            }

            sink.Add(SchemaError.Other(context, Not.AcceptsEverything
                ? $"{context.Subject()} must not be present here"
                : $"{context.Subject()} must not match {Not.Location}"));
            valid = false;
        }

        if (If is not null)
        {
            var branch = If.Validate(instance, name, context, null) ? Then : Else;
            if (branch is not null && !branch.Validate(instance, name, context, sink))
            {
                valid = false;
            }
        }

        return valid;
    }

    private static int CountValid(SchemaNode[] alternatives, JsonElement instance, string? name, SchemaContext context, int stopAt)
    {
        var count = 0;
        foreach (var alternative in alternatives)
        {
            if (alternative.Validate(instance, name, context, null) && ++count == stopAt)
            {
                break;
            }
        }

        return count;
    }

    private List<SchemaError> ExplainOneOf(JsonElement instance, string? name, SchemaContext context)
    {
        var passing = new List<int>();
        for (var i = 0; i < OneOf!.Length && passing.Count < 2; i++)
        {
            if (OneOf[i].Validate(instance, name, context, null))
            {
                passing.Add(i);
            }
        }

        return passing.Count == 0
            ? ExplainFailedAlternatives(OneOf, instance, name, context)
            : [SchemaError.Other(context, $"{context.Subject()} matches both alternative {passing[0] + 1} and alternative {passing[1] + 1} of {Location}, but must match exactly one")];
    }

    private bool EnumContains(JsonElement instance)
    {
        foreach (var value in Enum!)
        {
            if (JsonValues.DeepEquals(value, instance))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Why no alternative matched, in as few words as possible: alternatives that failed at the same place for the
    /// same kind of reason become one sentence ("must be one of … or an absolute URI"); otherwise the errors of the
    /// alternative that got deepest into the instance (fewest errors on a tie) stand for the rest.
    /// </summary>
    private static List<SchemaError> ExplainFailedAlternatives(SchemaNode[] alternatives, JsonElement instance, string? name, SchemaContext context)
    {
        var branches = new List<IReadOnlyList<SchemaError>>(alternatives.Length);
        foreach (var alternative in alternatives)
        {
            var errors = new List<SchemaError>();
            alternative.Validate(instance, name, context, errors);
            branches.Add(errors);
        }

        var all = branches.SelectMany(b => b).ToList();
        if (all.Count == 0 || branches.Any(b => b.Count == 0))
        {
            throw new InvalidOperationException($"An alternative at {alternatives[0].Location} failed without saying why.");
        }

        var sample = all[0];
        if (sample.Kind != SchemaErrorKind.Other && all.All(e => e.Kind == sample.Kind && e.Anchor == sample.Anchor))
        {
            return [SchemaError.Merge(branches)];
        }

        return [.. branches.OrderByDescending(b => b.Max(e => e.Depth)).ThenBy(b => b.Count).First()];
    }

    private static string Got(JsonElement instance, string? name) => name is null ? SchemaError.DescribeValue(instance) : string.Empty;

    private bool HasType(JsonElement instance, JsonValueKind kind) => kind switch
    {
        JsonValueKind.Null => Types.HasFlag(JsonTypes.Null),
        JsonValueKind.True or JsonValueKind.False => Types.HasFlag(JsonTypes.Boolean),
        JsonValueKind.Object => Types.HasFlag(JsonTypes.Object),
        JsonValueKind.Array => Types.HasFlag(JsonTypes.Array),
        JsonValueKind.String => Types.HasFlag(JsonTypes.String),
        JsonValueKind.Number => Types.HasFlag(JsonTypes.Number) || (Types.HasFlag(JsonTypes.Integer) && JsonValues.IsInteger(instance)),
        _ => false,
    };

    private static string DescribeTypes(JsonTypes types)
    {
        var names = new List<string>();
        foreach (var (flag, text) in (ReadOnlySpan<(JsonTypes, string)>)[
            (JsonTypes.String, "a string"), (JsonTypes.Number, "a number"), (JsonTypes.Integer, "an integer"), (JsonTypes.Object, "an object"),
            (JsonTypes.Array, "an array"), (JsonTypes.Boolean, "a boolean"), (JsonTypes.Null, "null")])
        {
            if (types.HasFlag(flag))
            {
                names.Add(text);
            }
        }

        return names.Count == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];
    }
}
