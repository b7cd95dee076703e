using System.Globalization;
using System.Text;

namespace Btmc.Platform.Tables;

/// <summary>
/// Text longer than one string property holds (<see cref="TableRules.MaxStringChars"/>): split across the properties
/// <c>Name</c>, <c>Name1</c>, <c>Name2</c>, … of one row, or across rows <c>prefix-0000</c>, <c>prefix-0001</c>, … of
/// one partition. The one place text is cut and joined again, so that every writer cuts the same way.
/// </summary>
/// <remarks>
/// Why a margin under 32K and care at the cut: a property is limited in UTF-16 code units, and a cut between the two
/// halves of a surrogate pair would store two invalid strings (the service refuses or replaces a lone surrogate), so
/// a chunk never ends on a high surrogate.
/// </remarks>
public static class LongText
{
    /// <summary>Characters per chunk: inside a string property's 32K with room to spare.</summary>
    public const int ChunkChars = 30_000;

    /// <summary>Puts <paramref name="text"/> in <paramref name="name"/>, <paramref name="name"/>1, … (at least one property, even for empty text).</summary>
    /// <exception cref="ArgumentException">The text needs more than <paramref name="maxProperties"/> properties.</exception>
    public static void Put(IDictionary<string, object> properties, string name, string text, int maxProperties = 8)
    {
        var chunks = Split(text);
        if (chunks.Count > maxProperties)
        {
            throw new ArgumentException($"{name} is {text.Length} characters; a row holds at most {maxProperties} chunks of {ChunkChars}.", nameof(text));
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            properties[PropertyName(name, i)] = chunks[i];
        }
    }

    /// <summary>The text <see cref="Put"/> stored under <paramref name="name"/>; null when the row has no such property.</summary>
    public static string? Get(TableEntity row, string name)
    {
        if (!row.Properties.TryGetValue(name, out var first))
        {
            return null;
        }

        var text = new StringBuilder((string)first);
        for (var i = 1; row.Properties.TryGetValue(PropertyName(name, i), out var more); i++)
        {
            text.Append((string)more);
        }

        return text.ToString();
    }

    /// <summary>The rows <c>{rowKeyPrefix}0000</c>, <c>{rowKeyPrefix}0001</c>, … holding <paramref name="text"/> in <paramref name="property"/> (at least one row).</summary>
    public static IReadOnlyList<TableEntity> Rows(string partitionKey, string rowKeyPrefix, string property, string text) =>
        Split(text).Select((chunk, i) => new TableEntity(partitionKey, RowKey(rowKeyPrefix, i), new Dictionary<string, object> { [property] = chunk })).ToList();

    /// <summary>The text of the rows <see cref="Rows"/> wrote, among <paramref name="rows"/> (others are ignored), joined in row key order.</summary>
    public static string Join(IEnumerable<TableEntity> rows, string rowKeyPrefix, string property) =>
        string.Concat(rows.Where(r => r.RowKey.StartsWith(rowKeyPrefix, StringComparison.Ordinal))
            .OrderBy(r => r.RowKey, StringComparer.Ordinal)
            .Select(r => r.GetString(property)));

    /// <summary>The row key of chunk <paramref name="index"/>: the prefix and four digits.</summary>
    public static string RowKey(string rowKeyPrefix, int index) => rowKeyPrefix + index.ToString("D4", CultureInfo.InvariantCulture);

    private static string PropertyName(string name, int index) => index == 0 ? name : name + index.ToString(CultureInfo.InvariantCulture);

    private static List<string> Split(string text)
    {
        var chunks = new List<string>();
        var start = 0;
        do
        {
            var length = Math.Min(ChunkChars, text.Length - start);
            if (length == ChunkChars && char.IsHighSurrogate(text[start + length - 1]))
            {
                length--;
            }

            chunks.Add(text.Substring(start, length));
            start += length;
        }
        while (start < text.Length);
        return chunks;
    }
}
