using System.Text.Json;

namespace Btmc.Epcis.Schema;

/// <summary>JSON Schema equality (enum, uniqueItems): numbers by value (1 equals 1.0), objects regardless of member order.</summary>
internal static class JsonValues
{
    public static bool DeepEquals(JsonElement left, JsonElement right)
    {
        if (left.ValueKind != right.ValueKind && !(IsBoolean(left) && IsBoolean(right)))
        {
            return false;
        }

        switch (left.ValueKind)
        {
            case JsonValueKind.String:
                return left.ValueEquals(right.GetString());
            case JsonValueKind.Number:
                return left.TryGetDecimal(out var a) && right.TryGetDecimal(out var b) ? a == b : left.GetDouble() == right.GetDouble();
            case JsonValueKind.True or JsonValueKind.False:
                return left.ValueKind == right.ValueKind;
            case JsonValueKind.Array:
                if (left.GetArrayLength() != right.GetArrayLength())
                {
                    return false;
                }

                using (var l = left.EnumerateArray())
                using (var r = right.EnumerateArray())
                {
                    while (l.MoveNext() && r.MoveNext())
                    {
                        if (!DeepEquals(l.Current, r.Current))
                        {
                            return false;
                        }
                    }
                }

                return true;
            case JsonValueKind.Object:
                var leftNames = left.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                var rightNames = right.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                return leftNames.SetEquals(rightNames)
                    && leftNames.All(n => DeepEquals(left.GetProperty(n), right.GetProperty(n)));
            default:
                return true;
        }
    }

    public static bool IsInteger(JsonElement number) =>
        number.TryGetDecimal(out var value) ? value == decimal.Truncate(value) : double.IsFinite(number.GetDouble()) && Math.Floor(number.GetDouble()) == number.GetDouble();

    /// <summary>The first pair of equal items (earlier index, later index), or null when all items differ.</summary>
    public static (int First, int Repeat)? FirstDuplicate(JsonElement array)
    {
        var items = array.EnumerateArray().ToList();
        if (items.TrueForAll(i => i.ValueKind == JsonValueKind.String))
        {
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < items.Count; i++)
            {
                if (!seen.TryAdd(items[i].GetString() ?? string.Empty, i))
                {
                    return (seen[items[i].GetString() ?? string.Empty], i);
                }
            }

            return null;
        }

        for (var j = 1; j < items.Count; j++)
        {
            for (var i = 0; i < j; i++)
            {
                if (DeepEquals(items[i], items[j]))
                {
                    return (i, j);
                }
            }
        }

        return null;
    }

    private static bool IsBoolean(JsonElement element) => element.ValueKind is JsonValueKind.True or JsonValueKind.False;
}
