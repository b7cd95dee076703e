using System.Buffers;

namespace Btmc.Epcis.Identifiers;

/// <summary>Character sets, percent-decoding and check digits shared by the EPC URI and GS1 Digital Link checks.</summary>
internal static class Gs1Syntax
{
    /// <summary>GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).</summary>
    public static readonly SearchValues<char> Set82 = SearchValues.Create(
        "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");

    /// <summary>GS1 AI encodable character set 39 (digits, upper-case letters, '#', '-', '/'), used by the CPI (AI 8010).</summary>
    public static readonly SearchValues<char> Set39 = SearchValues.Create("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");

    /// <summary>Characters an absolute URI may hold literally (RFC 3986 unreserved, gen-delims, sub-delims), '%' aside.</summary>
    private static readonly SearchValues<char> UriChars = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=");

    /// <summary>Upper bound of any GS1 value checked here after decoding (GIAI, GINC and CPI hold at most 30 characters).</summary>
    public const int MaxDecodedLength = 32;

    /// <summary>
    /// Checks the syntax every identifier shares: an RFC 3986 scheme, something after it, only characters a URI may hold
    /// literally, and well-formed percent-encodings. Returns the length of the scheme, or a reason in <paramref name="reason"/>.
    /// </summary>
    public static int CheckAbsoluteUri(ReadOnlySpan<char> value, out string? reason)
    {
        reason = null;
        if (value.IsEmpty)
        {
            reason = "The identifier is empty.";
            return 0;
        }

        var colon = value.IndexOf(':');
        if (colon <= 0 || !IsScheme(value[..colon]))
        {
            reason = "It is not an absolute URI: it does not start with a scheme such as 'urn:' or 'https:'.";
            return 0;
        }

        if (colon == value.Length - 1)
        {
            reason = $"It is not an absolute URI: nothing follows the scheme '{value[..(colon + 1)]}'.";
            return 0;
        }

        for (var i = colon + 1; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '%')
            {
                if (i + 2 >= value.Length || !char.IsAsciiHexDigit(value[i + 1]) || !char.IsAsciiHexDigit(value[i + 2]))
                {
                    reason = $"The percent-encoding at position {i} ('{Excerpt(value, i, 3)}') is not '%' followed by two hexadecimal digits.";
                    return 0;
                }

                i += 2;
            }
            else if (!UriChars.Contains(c))
            {
                reason = c > 0x7E
                    ? $"The character '{c}' at position {i} is not ASCII: a URI must percent-encode it."
                    : $"The character {Describe(c)} at position {i} cannot appear in a URI.";
                return 0;
            }
        }

        return colon;
    }

    /// <summary>
    /// Percent-decodes <paramref name="raw"/> into <paramref name="decoded"/> (which holds <see cref="MaxDecodedLength"/>
    /// characters), returning the decoded length, or -1 when it does not fit. Escapes were validated by <see cref="CheckAbsoluteUri"/>.
    /// </summary>
    public static int Decode(ReadOnlySpan<char> raw, Span<char> decoded)
    {
        var n = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            if (n == decoded.Length)
            {
                return -1;
            }

            if (raw[i] == '%' && i + 2 < raw.Length)
            {
                decoded[n++] = (char)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                i += 2;
            }
            else
            {
                decoded[n++] = raw[i];
            }
        }

        return n;
    }

    /// <summary>GS1 mod-10 check digit of the digits before the last one in <paramref name="key"/> (all ASCII digits).</summary>
    public static int CheckDigit(ReadOnlySpan<char> key)
    {
        var sum = 0;
        var weight = 3;
        for (var i = key.Length - 2; i >= 0; i--)
        {
            sum += (key[i] - '0') * weight;
            weight = 4 - weight;
        }

        return (10 - (sum % 10)) % 10;
    }

    /// <summary>A reason when the last digit of <paramref name="key"/> is not its GS1 check digit, otherwise null.</summary>
    public static string? CheckDigitProblem(string keyName, ReadOnlySpan<char> key)
    {
        var expected = CheckDigit(key);
        var actual = key[^1] - '0';
        return actual == expected ? null : $"{keyName} {key} has check digit {actual}, expected {expected}.";
    }

    public static bool IsDigits(ReadOnlySpan<char> s) => !s.IsEmpty && !s.ContainsAnyExceptInRange('0', '9');

    /// <summary>Describes a character for a message, naming the invisible ones.</summary>
    public static string Describe(char c) => c switch
    {
        ' ' => "' ' (space)",
        < ' ' or '\x7F' => $"U+{(int)c:X4} (a control character)",
        > '\x7F' => $"the non-ASCII byte %{(int)c:X2}",
        _ => $"'{c}'",
    };

    private static bool IsScheme(ReadOnlySpan<char> scheme)
    {
        if (!char.IsAsciiLetter(scheme[0]))
        {
            return false;
        }

        foreach (var c in scheme)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static ReadOnlySpan<char> Excerpt(ReadOnlySpan<char> s, int start, int length) => s.Slice(start, Math.Min(length, s.Length - start));
}
