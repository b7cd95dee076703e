using System.Globalization;
using System.Text;
using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>
/// The canonical, human-readable text that committee members and token holders sign: a title line, then
/// <c>name: value</c> lines in a fixed order, LF line ends, a final LF, printable UTF-8 without tabs. What is shown
/// is exactly what is signed (SHA-256 of the UTF-8 bytes).
/// </summary>
internal static class SignedText
{
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    public static string Format(string title, IEnumerable<(string Name, string Value)> lines)
    {
        var text = new StringBuilder(title).Append('\n');
        foreach (var (name, value) in lines)
        {
            if (!IsPrintable(value))
            {
                throw Refused.Invalid(name, $"The {name} must be printable text on one line.");
            }

            text.Append(name).Append(": ").Append(value).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Splits a text into its lines after checking the title; each later line must be <c>name: value</c>.</summary>
    public static Dictionary<string, string> Parse(string text, string title, string what)
    {
        if (string.IsNullOrEmpty(text) || !text.EndsWith('\n'))
        {
            throw Refused.Invalid("payload", $"The {what} must end with a line feed.");
        }

        var lines = text[..^1].Split('\n');
        if (lines[0] != title)
        {
            throw Refused.Invalid("payload", $"The {what} must start with the line \"{title}\".");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0 || !values.TryAdd(line[..colon], line[(colon + 2)..]))
            {
                throw Refused.Invalid("payload", $"The {what} line \"{Shorten(line)}\" is not a single \"name: value\" line.");
            }
        }

        return values;
    }

    public static string Required(Dictionary<string, string> values, string name, string what) =>
        values.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw Refused.Invalid(name, $"The {what} has no \"{name}\" line.");

    public static DateTimeOffset ParseTime(string value, string name) =>
        DateTimeOffset.TryParseExact(value, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw Refused.Invalid(name, $"The {name} must be a UTC time like 2026-12-31T23:59:59Z.");

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static long ParseNonNegative(string value, string name) =>
        value.Length is > 0 and <= 19 && value.All(char.IsAsciiDigit) && (value == "0" || value[0] != '0')
        && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw Refused.Invalid(name, $"The {name} must be a non-negative integer in decimal without leading zeros.");

    /// <summary>Canonical means: formatting what was parsed gives the same text, byte for byte.</summary>
    public static void RequireCanonical(string text, string canonical, string what)
    {
        if (!string.Equals(text, canonical, StringComparison.Ordinal))
        {
            throw Refused.Invalid("payload", $"The {what} is not in canonical form; sign exactly:\n{canonical}");
        }
    }

    private static bool IsPrintable(string value) => value.Length > 0 && value.All(c => !char.IsControl(c)) && value.Trim() == value;

    private static string Shorten(string line) => line.Length <= 60 ? line : line[..60] + "…";
}
