using System.Text;
using System.Text.Json;

namespace Btmc.Epcis.Schema;

internal enum SchemaErrorKind
{
    /// <summary>The value at <see cref="SchemaError.Pointer"/> is not what <see cref="SchemaError.Expected"/> describes.</summary>
    Value,

    /// <summary>A required member is missing; <see cref="SchemaError.Expected"/> names it (or the alternatives).</summary>
    Required,

    /// <summary>Anything else: a member not allowed, too few items, duplicates, a forbidden shape.</summary>
    Other,
}

/// <summary>
/// One failed keyword. <see cref="Depth"/> is the depth of the instance location the keyword was evaluated at (for a
/// missing member, its parent object), which anyOf/oneOf use to pick the branch that got furthest. <see cref="Anchor"/>
/// is that location's pointer. <see cref="Values"/> (allowed values) and <see cref="Phrases"/> (other descriptions) are
/// the alternatives the value could have matched, so that failed alternatives at one anchor merge into one sentence.
/// </summary>
internal sealed record SchemaError(
    SchemaErrorKind Kind,
    string Pointer,
    string Anchor,
    int Depth,
    string Subject,
    IReadOnlyList<string> Values,
    IReadOnlyList<string> Phrases,
    string Got,
    string Detail)
{
    private const int MaxListedValues = 15;

    public string Expected => Describe(Values, Phrases, Kind == SchemaErrorKind.Required);

    public static SchemaError Value(SchemaContext context, IReadOnlyList<string> values, IReadOnlyList<string> phrases, string got)
    {
        var pointer = context.Pointer();
        var subject = context.Subject();
        return new(SchemaErrorKind.Value, pointer, pointer, context.Depth, subject, values, phrases, got,
            $"{Capital(subject)} must be {Describe(values, phrases, false)}{got}.");
    }

    public static SchemaError Required(SchemaContext context, string member) =>
        new(SchemaErrorKind.Required, context.Pointer(member), context.Pointer(), context.Depth, context.Subject(), [], [$"'{member}'"],
            string.Empty, $"Missing required member '{member}'.");

    public static SchemaError Other(SchemaContext context, string detail, string? member = null) =>
        new(SchemaErrorKind.Other, context.Pointer(member), context.Pointer(), context.Depth, context.Subject(), [], [], string.Empty, Capital(detail) + ".");

    /// <summary>
    /// One sentence for alternatives that all failed at the same anchor for the same kind of reason. Each branch is the
    /// list of errors of one alternative; several errors in one branch are all needed ("and").
    /// </summary>
    public static SchemaError Merge(IReadOnlyList<IReadOnlyList<SchemaError>> branches)
    {
        var sample = branches[0][0];
        var values = new List<string>();
        var phrases = new List<string>();
        foreach (var branch in branches)
        {
            if (branch.Count == 1)
            {
                values.AddRange(branch[0].Values.Where(v => !values.Contains(v)));
                phrases.AddRange(branch[0].Phrases.Where(p => !phrases.Contains(p)));
                continue;
            }

            var parts = branch.Select(e => Parenthesised(e.Expected)).Distinct().ToList();
            var all = parts.Count == 2 && !parts.Any(p => p.StartsWith('(')) ? $"both {parts[0]} and {parts[1]}" : string.Join(" and ", parts);
            if (!phrases.Contains(all))
            {
                phrases.Add(all);
            }
        }

        var required = sample.Kind == SchemaErrorKind.Required;
        var expected = Describe(values, phrases, required);
        var detail = required ? $"{Capital(sample.Subject)} needs {expected}." : $"{Capital(sample.Subject)} must be {expected}{sample.Got}.";
        return sample with { Pointer = sample.Anchor, Values = values, Phrases = phrases, Detail = detail };
    }

    public static string DescribeValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() is { Length: <= 80 } text ? $" (got \"{text}\")" : " (got a long string)",
        JsonValueKind.Number => $" (got {Truncate(value.GetRawText())})",
        JsonValueKind.True or JsonValueKind.False => $" (got {value.GetRawText()})",
        JsonValueKind.Null => " (got null)",
        JsonValueKind.Object => " (got an object)",
        JsonValueKind.Array => " (got an array)",
        _ => string.Empty,
    };

    private static string Describe(IReadOnlyList<string> values, IReadOnlyList<string> phrases, bool members)
    {
        var alternatives = new List<string>();
        if (values.Count == 1 || (members && values.Count > 0))
        {
            alternatives.AddRange(values);
        }
        else if (values.Count > MaxListedValues)
        {
            alternatives.Add($"one of {string.Join(", ", values.Take(MaxListedValues - 3))}, … ({values.Count} values)");
        }
        else if (values.Count > 1)
        {
            alternatives.Add($"one of {string.Join(", ", values)}");
        }

        alternatives.AddRange(phrases.Select(p => phrases.Count + (values.Count > 0 ? 1 : 0) > 1 ? Parenthesised(p) : p));
        return alternatives.Count == 1 ? alternatives[0] : string.Join(", ", alternatives[..^1]) + " or " + alternatives[^1];
    }

    private static string Parenthesised(string phrase) =>
        phrase.Contains(" or ", StringComparison.Ordinal) && !phrase.StartsWith("one of ", StringComparison.Ordinal) ? $"({phrase})" : phrase;

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static string Capital(string text) =>
        text.Length > 0 && char.IsAsciiLetterLower(text[0]) ? char.ToUpperInvariant(text[0]) + text[1..] : text;
}

/// <summary>The instance location during one validation run: a stack of member names and array indices.</summary>
internal sealed class SchemaContext
{
    private readonly List<(string? Name, int Index)> path = [];

    public int Depth => path.Count;

    /// <summary>Set while <c>propertyNames</c> checks a member name: the name is then the value under test.</summary>
    public bool CheckingName { get; set; }

    public void Push(string name) => path.Add((name, -1));

    public void Push(int index) => path.Add((null, index));

    public void Pop() => path.RemoveAt(path.Count - 1);

    /// <summary>The RFC 6901 JSON Pointer of the current location, or of its member <paramref name="member"/>.</summary>
    public string Pointer(string? member = null)
    {
        var builder = new StringBuilder();
        foreach (var (name, index) in path)
        {
            builder.Append('/');
            AppendEscaped(builder, name, index);
        }

        if (member is not null)
        {
            builder.Append('/');
            AppendEscaped(builder, member, -1);
        }

        return builder.ToString();
    }

    /// <summary>How a sentence names the current location: 'bizStep', item 2 of 'epcList', member name 'foo', the document.</summary>
    public string Subject()
    {
        if (path.Count == 0)
        {
            return "the document";
        }

        var (name, index) = path[^1];
        if (CheckingName)
        {
            return $"member name '{name}'";
        }

        if (name is not null)
        {
            return $"'{name}'";
        }

        var parent = path.Count > 1 ? path[^2].Name : null;
        return parent is null ? $"item {index}" : $"item {index} of '{parent}'";
    }

    private static void AppendEscaped(StringBuilder builder, string? name, int index)
    {
        if (name is null)
        {
            builder.Append(index);
            return;
        }

        foreach (var c in name)
        {
            _ = c switch
            {
                '~' => builder.Append("~0"),
                '/' => builder.Append("~1"),
                _ => builder.Append(c),
            };
        }
    }
}
