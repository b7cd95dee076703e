using System.Net;
using System.Net.Sockets;

namespace Btmc.Epcis.Schema;

/// <summary>The two <c>format</c> values the GS1 schema uses, both checked strictly.</summary>
internal enum SchemaFormat
{
    None,

    /// <summary>RFC 3986 <c>URI</c>: an absolute URI (scheme required), fragment allowed, ASCII only.</summary>
    Uri,

    /// <summary>RFC 3339 section 5.6 <c>date-time</c>: full date, "T", full time with seconds and a mandatory offset.</summary>
    DateTime,
}

internal static class SchemaFormats
{
    public static string Describe(SchemaFormat format) => format switch
    {
        SchemaFormat.Uri => "an absolute URI (RFC 3986), such as https://example.com/x",
        SchemaFormat.DateTime => "an RFC 3339 date-time with seconds and a time zone offset, such as 2005-04-03T20:33:31.116-06:00",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    public static bool IsValid(SchemaFormat format, string value) => format switch
    {
        SchemaFormat.Uri => IsAbsoluteUri(value),
        SchemaFormat.DateTime => IsDateTime(value),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>RFC 3986: <c>scheme ":" hier-part [ "?" query ] [ "#" fragment ]</c>.</summary>
    public static bool IsAbsoluteUri(string value)
    {
        var span = value.AsSpan();
        var colon = span.IndexOf(':');
        if (colon < 1 || !IsAsciiLetter(span[0]))
        {
            return false;
        }

        foreach (var c in span[1..colon])
        {
            if (!IsAsciiLetter(c) && !char.IsAsciiDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        var rest = span[(colon + 1)..];
        var hash = rest.IndexOf('#');
        var fragment = hash >= 0 ? rest[(hash + 1)..] : [];
        rest = hash >= 0 ? rest[..hash] : rest;
        var question = rest.IndexOf('?');
        var query = question >= 0 ? rest[(question + 1)..] : [];
        var hierPart = question >= 0 ? rest[..question] : rest;

        if (hierPart.StartsWith("//"))
        {
            var afterSlashes = hierPart[2..];
            var end = afterSlashes.IndexOf('/');
            var authority = end >= 0 ? afterSlashes[..end] : afterSlashes;
            if (!IsAuthority(authority))
            {
                return false;
            }

            hierPart = end >= 0 ? afterSlashes[end..] : [];
        }

        return AllOf(hierPart, "/") && AllOf(query, "/?") && AllOf(fragment, "/?");
    }

    private static bool IsAuthority(ReadOnlySpan<char> authority)
    {
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            if (!AllOf(authority[..at], string.Empty, allowAt: false))
            {
                return false;
            }

            authority = authority[(at + 1)..];
        }

        ReadOnlySpan<char> port = [];
        if (authority.StartsWith("["))
        {
            var close = authority.IndexOf(']');
            if (close < 0 || !IsIpLiteral(authority[1..close]))
            {
                return false;
            }

            var afterHost = authority[(close + 1)..];
            if (afterHost.Length > 0)
            {
                if (afterHost[0] != ':')
                {
                    return false;
                }

                port = afterHost[1..];
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            var host = colon >= 0 ? authority[..colon] : authority;
            port = colon >= 0 ? authority[(colon + 1)..] : [];
            if (host.Contains(':') || !AllOf(host, string.Empty, allowAt: false, allowColon: false))
            {
                return false;
            }
        }

        foreach (var c in port)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsIpLiteral(ReadOnlySpan<char> inside)
    {
        if (inside.Length > 1 && (inside[0] is 'v' or 'V'))
        {
            // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
            var dot = inside.IndexOf('.');
            return dot > 1 && !inside[1..dot].ContainsAnyExcept(HexDigits)
                && dot + 1 < inside.Length && AllOf(inside[(dot + 1)..], string.Empty, allowAt: false, allowPercent: false);
        }

        return IPAddress.TryParse(inside, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 && !inside.Contains('%');
    }

    private const string HexDigits = "0123456789ABCDEFabcdef";

    /// <summary>Every character is a pchar (unreserved, pct-encoded, sub-delims, ":" or "@") or one of <paramref name="extra"/>.</summary>
    private static bool AllOf(ReadOnlySpan<char> text, string extra, bool allowAt = true, bool allowColon = true, bool allowPercent = true)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (!allowPercent || i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    return false;
                }

                i += 2;
                continue;
            }

            var ok = IsAsciiLetter(c) || char.IsAsciiDigit(c)
                || c is '-' or '.' or '_' or '~'
                || c is '!' or '$' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or ';' or '='
                || (c == ':' && allowColon) || (c == '@' && allowAt) || extra.Contains(c);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAsciiLetter(char c) => char.IsAsciiLetter(c);

    /// <summary>
    /// RFC 3339 section 5.6 <c>date-time</c>. "T" and "Z" may be lower case (section 5.6 note); a leap second (:60) is
    /// accepted only where it falls at 23:59 UTC.
    /// </summary>
    public static bool IsDateTime(string value)
    {
        var s = value.AsSpan();
        // yyyy-mm-ddThh:mm:ss is 19 characters; the shortest offset is "Z".
        if (s.Length < 20 || s[4] != '-' || s[7] != '-' || (s[10] is not ('T' or 't')) || s[13] != ':' || s[16] != ':')
        {
            return false;
        }

        if (!TryDigits(s[..4], out var year) || !TryDigits(s[5..7], out var month) || !TryDigits(s[8..10], out var day)
            || !TryDigits(s[11..13], out var hour) || !TryDigits(s[14..16], out var minute) || !TryDigits(s[17..19], out var second))
        {
            return false;
        }

        if (month is < 1 or > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        var i = 19;
        if (s[i] == '.')
        {
            var start = ++i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (i == start)
            {
                return false;
            }
        }

        var offset = s[i..];
        int offsetMinutes;
        if (offset is "Z" or "z")
        {
            offsetMinutes = 0;
        }
        else if (offset.Length == 6 && (offset[0] is '+' or '-') && offset[3] == ':'
            && TryDigits(offset[1..3], out var offsetHour) && TryDigits(offset[4..6], out var offsetMinute)
            && offsetHour <= 23 && offsetMinute <= 59)
        {
            offsetMinutes = (offset[0] == '+' ? 1 : -1) * ((offsetHour * 60) + offsetMinute);
        }
        else
        {
            return false;
        }

        if (second == 60)
        {
            var utcMinuteOfDay = ((((hour * 60) + minute - offsetMinutes) % 1440) + 1440) % 1440;
            return utcMinuteOfDay == (23 * 60) + 59;
        }

        return true;
    }

    private static int DaysInMonth(int year, int month) => month switch
    {
        2 => (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    private static bool TryDigits(ReadOnlySpan<char> digits, out int value)
    {
        value = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }
}
