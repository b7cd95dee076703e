using System.Buffers;

namespace Btmc.Epcis.Identifiers;

/// <summary>
/// GS1 Digital Link URI syntax 1.x: <c>http(s)://host[/custom/path]/&lt;primary key AI&gt;/&lt;value&gt;[/&lt;qualifier AI&gt;/&lt;value&gt;...][?query][#fragment]</c>,
/// with the primary keys and key qualifiers of the GS1 Barcode Syntax Resource dictionary (its <c>dlpkey</c> attributes).
/// Values are percent-decoded, then checked for length, character set and check digit. The query string (data attributes)
/// and fragment are not examined beyond the generic URI syntax.
/// </summary>
internal static class DigitalLink
{
    private static readonly string[][] NoQualifiers = [];
    private static readonly string[][] GtinQualifiers = [["22", "10", "21"], ["235"]];
    private static readonly string[][] ItipQualifiers = [["22", "10", "21"]];
    private static readonly string[][] GlnQualifiers = [["254"], ["7040"]];
    private static readonly string[][] UicQualifiers = [["7040"]];
    private static readonly string[][] CpiQualifiers = [["8011"]];
    private static readonly string[][] GsrnQualifiers = [["8019"]];

    /// <summary>
    /// Returns false when <paramref name="uri"/> is not a Digital Link: no path segment is a primary-key AI followed by a
    /// segment of more than four characters that starts with four digits (the rule <see cref="Cbv.DigitalLinkNormaliser"/>
    /// uses to find a GS1 key, so every URI the event hash reads as a GS1 key is checked here). Otherwise checks it.
    /// </summary>
    public static bool TryCheck(ReadOnlySpan<char> uri, int schemeLength, EpcUriRole role, out string? reason)
    {
        reason = null;
        var hier = uri[(schemeLength + 1)..];
        if (!hier.StartsWith("//"))
        {
            return false;
        }

        hier = hier[2..];
        var end = hier.IndexOfAny('?', '#');
        if (end >= 0)
        {
            hier = hier[..end];
        }

        var slash = hier.IndexOf('/');
        if (slash < 0)
        {
            return false;
        }

        var rest = hier[slash..];
        string? previousAi = null;
        while (!rest.IsEmpty)
        {
            var segment = NextSegment(ref rest);
            if (previousAi is not null && segment.Length > 4 && Gs1Syntax.IsDigits(segment[..4]))
            {
                reason = slash == 0 ? "A GS1 Digital Link needs a host: https://<host>/<AI>/<value>." : CheckPath(previousAi, segment, rest, role);
                return true;
            }

            previousAi = PrimaryKey(segment);
        }

        return false;
    }

    private static ReadOnlySpan<char> NextSegment(ref ReadOnlySpan<char> rest)
    {
        rest = rest[1..];
        var next = rest.IndexOf('/');
        var segment = next < 0 ? rest : rest[..next];
        rest = next < 0 ? [] : rest[next..];
        return segment;
    }

    private static string? CheckPath(string keyAi, ReadOnlySpan<char> keyValue, ReadOnlySpan<char> rest, EpcUriRole role)
    {
        Span<char> buffer = stackalloc char[Gs1Syntax.MaxDecodedLength];
        if (CheckKey(keyAi, keyValue, buffer, out var hasSerialPart) is { } keyProblem)
        {
            return keyProblem;
        }

        var paths = Qualifiers(keyAi);
        var path = -1;
        var position = -1;
        string? serialAi = null;
        while (!rest.IsEmpty)
        {
            var aiSegment = NextSegment(ref rest);
            if (aiSegment.IsEmpty)
            {
                return "The Digital Link path has an empty segment (a doubled or trailing '/').";
            }

            var ai = Qualifier(aiSegment) ?? aiSegment.ToString();
            if (!Find(paths, ai, out var aiPath, out var aiPosition))
            {
                return paths.Length == 0
                    ? $"The {Name(keyAi)} takes no key qualifier, so '/{aiSegment}/' cannot follow it; data attributes go in the query string."
                    : $"AI {ai} is not a key qualifier of the {Name(keyAi)}: expected {Describe(paths)}; data attributes go in the query string.";
            }

            if (path >= 0 && aiPath != path)
            {
                return $"AI {ai} cannot be combined with AI {paths[path][position]} after the {Name(keyAi)}.";
            }

            if (path >= 0 && aiPosition <= position)
            {
                return aiPosition == position
                    ? $"AI {ai} appears twice in the Digital Link path."
                    : $"AI {ai} must come before AI {paths[path][position]} in the Digital Link path (order {string.Join(", ", paths[path])}).";
            }

            (path, position) = (aiPath, aiPosition);
            if (rest.IsEmpty)
            {
                return $"AI {ai} has no value: the Digital Link path ends after it.";
            }

            var value = NextSegment(ref rest);
            if (CheckQualifier(ai, value, buffer) is { } qualifierProblem)
            {
                return qualifierProblem;
            }

            if (ai is "21" or "235" or "8011")
            {
                serialAi = ai;
            }
        }

        return CheckRole(keyAi, hasSerialPart || serialAi is not null, role);
    }

    private static string? CheckRole(string keyAi, bool serialised, EpcUriRole role)
    {
        var classLevel = keyAi is "01" or "8006" or "8003" or "253" or "255" or "8010";
        return role switch
        {
            EpcUriRole.Instance when classLevel && !serialised => keyAi switch
            {
                "01" => "A GTIN without a serial number (AI 21) or TPX (AI 235) names a class of trade items, not one object: put it in a quantity list as an epcClass.",
                "8006" => "An ITIP without a serial number (AI 21) names a class, not one object: put it in a quantity list as an epcClass.",
                "8010" => "A CPID without a serial number (AI 8011) names a class of parts, not one object: put it in a quantity list as an epcClass.",
                _ => $"A {Name(keyAi)} without its serial component names a class, not one object: put it in a quantity list as an epcClass.",
            },
            EpcUriRole.Class when !classLevel => $"A Digital Link whose key is the {Name(keyAi)} names one object, not a class: an epcClass needs a GTIN (AI 01), optionally with AI 22 or 10, or another class-level key.",
            EpcUriRole.Class when serialised => $"A Digital Link with a serial number names one object, not a class: put it in an EPC list, or drop the serial for an epcClass.",
            EpcUriRole.Location when keyAi != "414" => $"A location Digital Link must carry a GLN (AI 414, optionally with AI 254), not a {Name(keyAi)}.",
            _ => null,
        };
    }

    private static string? CheckKey(string ai, ReadOnlySpan<char> raw, Span<char> buffer, out bool hasSerialPart)
    {
        hasSerialPart = false;
        if (Decode(raw, Name(ai), 30, buffer, out var v) is { } tooLong)
        {
            return tooLong;
        }

        switch (ai)
        {
            case "00":
                return Digits(v, 18, ai) ?? Gs1Syntax.CheckDigitProblem("SSCC", v);
            case "01":
                if (!Gs1Syntax.IsDigits(v))
                {
                    return $"The {Name(ai)} '{v}' must be digits only.";
                }

                return v.Length is 8 or 12 or 13 or 14
                    ? Gs1Syntax.CheckDigitProblem("GTIN", v)
                    : $"The {Name(ai)} must have 8, 12, 13 or 14 digits, not {v.Length}.";
            case "414":
                return Digits(v, 13, ai) ?? Gs1Syntax.CheckDigitProblem("GLN", v);
            case "417":
                return Digits(v, 13, ai) ?? Gs1Syntax.CheckDigitProblem("party GLN", v);
            case "402":
                return Digits(v, 17, ai) ?? Gs1Syntax.CheckDigitProblem("GSIN", v);
            case "8017":
                return Digits(v, 18, ai) ?? Gs1Syntax.CheckDigitProblem("GSRN-P", v);
            case "8018":
                return Digits(v, 18, ai) ?? Gs1Syntax.CheckDigitProblem("GSRN", v);
            case "8006":
                return Digits(v, 18, ai) ?? Gs1Syntax.CheckDigitProblem("ITIP", v[..14]);
            case "253":
                hasSerialPart = v.Length > 13;
                return Digits(v[..Math.Min(13, v.Length)], 13, ai, "start with 13 digits")
                    ?? Gs1Syntax.CheckDigitProblem("GDTI", v[..13]) ?? Text(v[13..], "serial component of the GDTI (AI 253)", Gs1Syntax.Set82, 82, 17);
            case "255":
                hasSerialPart = v.Length > 13;
                return Digits(v[..Math.Min(13, v.Length)], 13, ai, "start with 13 digits")
                    ?? Gs1Syntax.CheckDigitProblem("GCN", v[..13]) ?? SerialDigits(v[13..], "serial component of the GCN (AI 255)", 12);
            case "8003":
                hasSerialPart = v.Length > 14;
                if (v.Length < 14 || v[0] != '0' || !Gs1Syntax.IsDigits(v[..14]))
                {
                    return $"The {Name(ai)} must start with 0 and 13 digits (company prefix, asset type, check digit), not '{v}'.";
                }

                return Gs1Syntax.CheckDigitProblem("GRAI", v[..14]) ?? Text(v[14..], "serial component of the GRAI (AI 8003)", Gs1Syntax.Set82, 82, 16);
            case "8010":
                return Text(v, Name(ai), Gs1Syntax.Set39, 39, 30);
            default:
                return Text(v, Name(ai), Gs1Syntax.Set82, 82, 30);
        }
    }

    private static string? CheckQualifier(string ai, ReadOnlySpan<char> raw, Span<char> buffer)
    {
        if (raw.IsEmpty)
        {
            return $"The {Name(ai)} is empty.";
        }

        var max = ai switch { "235" => 28, "8011" => 12, "8019" => 10, "7040" => 4, _ => 20 };
        if (Decode(raw, Name(ai), max, buffer, out var v) is { } tooLong)
        {
            return tooLong;
        }

        return ai switch
        {
            "8011" => SerialDigits(v, Name(ai), 12) ?? (v.Length > 1 && v[0] == '0' ? $"The {Name(ai)} '{v}' must not start with 0." : null),
            "8019" => SerialDigits(v, Name(ai), 10),
            "7040" => v.Length == 4 && char.IsAsciiDigit(v[0]) ? Text(v[1..], Name(ai), Gs1Syntax.Set82, 82, 3) : $"The {Name(ai)} must be a digit followed by 3 characters, not '{v}'.",
            _ => Text(v, Name(ai), Gs1Syntax.Set82, 82, max),
        };
    }

    private static string? Decode(ReadOnlySpan<char> raw, string what, int max, Span<char> buffer, out ReadOnlySpan<char> value)
    {
        var length = raw.Length - (2 * raw.Count('%'));
        value = default;
        if (length > max)
        {
            return $"The {what} has {length} characters, more than the {max} allowed.";
        }

        value = buffer[..Gs1Syntax.Decode(raw, buffer)];
        return null;
    }

    private static string? Digits(ReadOnlySpan<char> v, int length, string ai, string? shape = null)
    {
        if (v.Length != length)
        {
            return shape is null ? $"The {Name(ai)} must have {length} digits, not {v.Length}." : $"The {Name(ai)} must {shape}, not '{v}'.";
        }

        return Gs1Syntax.IsDigits(v) ? null : $"The {Name(ai)} '{v}' must be digits only.";
    }

    private static string? SerialDigits(ReadOnlySpan<char> v, string what, int max) =>
        v.IsEmpty || Gs1Syntax.IsDigits(v) ? (v.Length <= max ? null : $"The {what} has {v.Length} digits, more than the {max} allowed.") : $"The {what} '{v}' must be digits only.";

    private static string? Text(ReadOnlySpan<char> v, string what, SearchValues<char> set, int setNumber, int max)
    {
        var bad = v.IndexOfAnyExcept(set);
        if (bad >= 0)
        {
            return $"The {what} holds {Gs1Syntax.Describe(v[bad])}, which is not in GS1 AI character set {setNumber}.";
        }

        return v.Length <= max ? null : $"The {what} has {v.Length} characters, more than the {max} allowed.";
    }

    private static bool Find(string[][] paths, string ai, out int path, out int position)
    {
        for (path = 0; path < paths.Length; path++)
        {
            position = Array.IndexOf(paths[path], ai);
            if (position >= 0)
            {
                return true;
            }
        }

        position = -1;
        return false;
    }

    private static string Describe(string[][] paths) => string.Join(", or ", paths.Select(p => string.Join(", ", p)));

    private static string[][] Qualifiers(string keyAi) => keyAi switch
    {
        "01" => GtinQualifiers,
        "8006" => ItipQualifiers,
        "414" => GlnQualifiers,
        "417" or "8004" => UicQualifiers,
        "8010" => CpiQualifiers,
        "8017" or "8018" => GsrnQualifiers,
        _ => NoQualifiers,
    };

    /// <summary>The primary-key AI a path segment names (numeric, or a convenience alpha of Digital Link 1.0/1.1), else null.</summary>
    private static string? PrimaryKey(ReadOnlySpan<char> segment) => segment switch
    {
        "00" or "sscc" => "00",
        "01" or "gtin" => "01",
        "253" or "gdti" => "253",
        "255" or "gcn" => "255",
        "401" or "ginc" => "401",
        "402" or "gsin" => "402",
        "414" or "gln" => "414",
        "417" or "party" => "417",
        "8003" or "grai" => "8003",
        "8004" or "giai" => "8004",
        "8006" or "itip" => "8006",
        "8010" or "cpid" => "8010",
        "8017" or "gsrnp" => "8017",
        "8018" or "gsrn" => "8018",
        _ => null,
    };

    private static string? Qualifier(ReadOnlySpan<char> segment) => segment switch
    {
        "22" or "cpv" => "22",
        "10" or "lot" => "10",
        "21" or "ser" => "21",
        "235" => "235",
        "254" => "254",
        "7040" => "7040",
        "8011" => "8011",
        "8019" => "8019",
        _ => null,
    };

    private static string Name(string ai) => ai switch
    {
        "00" => "SSCC (AI 00)",
        "01" => "GTIN (AI 01)",
        "253" => "GDTI (AI 253)",
        "255" => "GCN (AI 255)",
        "401" => "GINC (AI 401)",
        "402" => "GSIN (AI 402)",
        "414" => "GLN (AI 414)",
        "417" => "party GLN (AI 417)",
        "8003" => "GRAI (AI 8003)",
        "8004" => "GIAI (AI 8004)",
        "8006" => "ITIP (AI 8006)",
        "8010" => "CPID (AI 8010)",
        "8017" => "GSRN-P (AI 8017)",
        "8018" => "GSRN (AI 8018)",
        "22" => "CPV (AI 22)",
        "10" => "batch/lot number (AI 10)",
        "21" => "serial number (AI 21)",
        "235" => "TPX (AI 235)",
        "254" => "GLN extension (AI 254)",
        "7040" => "UIC with extension (AI 7040)",
        "8011" => "CPID serial number (AI 8011)",
        "8019" => "SRIN (AI 8019)",
        _ => $"AI {ai}",
    };
}
