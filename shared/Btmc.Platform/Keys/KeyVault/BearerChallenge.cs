using System.Text;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// The parameters of the <c>Bearer</c> challenge in a <c>WWW-Authenticate</c> header (RFC 7235 §4.1), e.g.
/// <c>Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net"</c>.
/// Parameter names are case-insensitive; quoted values are unquoted and unescaped. Other schemes in the same header
/// are skipped.
/// </summary>
internal static class BearerChallenge
{
    /// <summary>The Bearer challenge's parameters, or null when the header holds no Bearer challenge.</summary>
    public static IReadOnlyDictionary<string, string>? Parse(string? headerValue)
    {
        if (string.IsNullOrEmpty(headerValue))
        {
            return null;
        }

        Dictionary<string, string>? bearer = null;
        var inBearer = false;
        var position = 0;
        while (true)
        {
            SkipSeparators(headerValue, ref position);
            if (position >= headerValue.Length)
            {
                return bearer;
            }

            var token = ReadToken(headerValue, ref position);
            if (token.Length == 0)
            {
                position++; // a stray character: skip it
                continue;
            }

            SkipWhitespace(headerValue, ref position);
            if (position < headerValue.Length && headerValue[position] == '=')
            {
                position++;
                SkipWhitespace(headerValue, ref position);
                var value = ReadValue(headerValue, ref position);
                if (inBearer && bearer is not null)
                {
                    bearer.TryAdd(token, value);
                }
            }
            else
            {
                // A token not followed by '=' starts a new challenge: its scheme.
                inBearer = string.Equals(token, "Bearer", StringComparison.OrdinalIgnoreCase);
                if (inBearer)
                {
                    bearer ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                }
            }
        }
    }

    private static void SkipSeparators(string text, ref int position)
    {
        while (position < text.Length && (text[position] is ',' || char.IsWhiteSpace(text[position])))
        {
            position++;
        }
    }

    private static void SkipWhitespace(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
    }

    private static string ReadToken(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && text[position] is not ('=' or ',' or '"') && !char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        return text[start..position];
    }

    private static string ReadValue(string text, ref int position)
    {
        if (position >= text.Length || text[position] != '"')
        {
            var start = position;
            while (position < text.Length && text[position] != ',' && !char.IsWhiteSpace(text[position]))
            {
                position++;
            }

            return text[start..position];
        }

        position++; // opening quote
        var value = new StringBuilder();
        while (position < text.Length && text[position] != '"')
        {
            if (text[position] == '\\' && position + 1 < text.Length)
            {
                position++;
            }

            value.Append(text[position]);
            position++;
        }

        position++; // closing quote (or past the end of an unterminated value)
        return value.ToString();
    }
}
