namespace Btmc.Epcis.Identifiers;

/// <summary>
/// The EPC URIs of the GS1 EPC Tag Data Standard 2.x: pure identity (<c>urn:epc:id:</c>), class (<c>urn:epc:class:lgtin:</c>)
/// and the class-level ID patterns (<c>urn:epc:idpat:</c> with only the serial as '*'). EPC URIs carry no check digits,
/// so the checks are the component forms, the digit counts and the character set.
/// </summary>
internal static class EpcUrn
{
    private const string Prefix = "urn:epc:";

    private const string IdSchemes = "sgtin, sscc, sgln, grai, giai, gsrn, gsrnp, gdti, cpi, sgcn, ginc, gsin, itip, upui, pgln, gid, usdod, adi, bic, imovn";

    /// <summary>Checks <paramref name="urn"/>, which starts with <c>urn:epc:</c> and passed the generic URI check.</summary>
    public static string? Check(ReadOnlySpan<char> urn, EpcUriRole role)
    {
        var rest = urn[Prefix.Length..];
        var colon = rest.IndexOf(':');
        var kind = colon < 0 ? rest : rest[..colon];
        var afterKind = colon < 0 ? [] : rest[(colon + 1)..];
        colon = afterKind.IndexOf(':');
        if (kind is "tag" or "raw")
        {
            return "EPC tag and raw URIs (urn:epc:tag:, urn:epc:raw:) describe an RFID tag encoding; EPCIS identifies objects with pure identity URIs (urn:epc:id:).";
        }

        if (kind is not ("id" or "class" or "idpat"))
        {
            return $"'urn:epc:{kind}:' is not a kind of EPC URI: expected urn:epc:id:, urn:epc:class: or urn:epc:idpat:.";
        }

        if (colon <= 0)
        {
            return $"An EPC URI has the form urn:epc:{kind}:<scheme>:<components>.";
        }

        var scheme = afterKind[..colon];
        var body = afterKind[(colon + 1)..];
        return kind switch
        {
            "id" => RoleOfInstance(scheme, role) ?? CheckId(scheme, body),
            "class" => RoleOfClass("class", role) ?? CheckClass(scheme, body),
            _ => RoleOfClass("idpat", role) ?? CheckPattern(scheme, body),
        };
    }

    private static string? RoleOfInstance(ReadOnlySpan<char> scheme, EpcUriRole role) => role switch
    {
        EpcUriRole.Class => "An EPC (urn:epc:id:) names one object, but a quantity element needs a class: urn:epc:class:lgtin:..., urn:epc:idpat:sgtin:...* or a Digital Link without a serial number.",
        EpcUriRole.Location when scheme is not "sgln" => $"A location must be an SGLN (urn:epc:id:sgln:...) or another location URI, not an EPC of scheme '{scheme}'.",
        _ => null,
    };

    private static string? RoleOfClass(string kind, EpcUriRole role) => role switch
    {
        EpcUriRole.Instance => $"An EPC {(kind == "class" ? "class URI (urn:epc:class:)" : "pattern URI (urn:epc:idpat:)")} names a class of objects, not one object: put it in a quantity list as an epcClass.",
        EpcUriRole.Location => $"A location must be an SGLN (urn:epc:id:sgln:...) or another location URI, not an EPC {kind} URI.",
        _ => null,
    };

    private static string? CheckId(ReadOnlySpan<char> scheme, ReadOnlySpan<char> b)
    {
        ReadOnlySpan<char> f1, f2, f3, f4;
        switch (scheme)
        {
            case "sgtin":
                return Next(ref b, out f1) && Next(ref b, out f2)
                    ? Key("SGTIN", f1, "indicator digit and item reference", f2, 13) ?? Text("SGTIN", "serial number", b, 1, 20)
                    : Form("sgtin", "CompanyPrefix.IndicatorAndItemReference.SerialNumber");
            case "sscc":
                return Next(ref b, out f1) ? Key("SSCC", f1, "extension digit and serial reference", b, 17) : Form("sscc", "CompanyPrefix.ExtensionAndSerialReference");
            case "sgln":
                return Next(ref b, out f1) && Next(ref b, out f2)
                    ? Key("SGLN", f1, "location reference", f2, 12) ?? Text("SGLN", "extension", b, 1, 20)
                    : Form("sgln", "CompanyPrefix.LocationReference.Extension (extension 0 when there is none)");
            case "grai":
                return Next(ref b, out f1) && Next(ref b, out f2)
                    ? Key("GRAI", f1, "asset type", f2, 12) ?? Text("GRAI", "serial number", b, 1, 16)
                    : Form("grai", "CompanyPrefix.AssetType.SerialNumber");
            case "giai":
                return Next(ref b, out f1) ? CompanyPrefix("GIAI", f1) ?? Text("GIAI", "individual asset reference", b, 1, 30 - f1.Length) : Form("giai", "CompanyPrefix.IndividualAssetReference");
            case "gsrn":
                return Next(ref b, out f1) ? Key("GSRN", f1, "service reference", b, 17) : Form("gsrn", "CompanyPrefix.ServiceReference");
            case "gsrnp":
                return Next(ref b, out f1) ? Key("GSRNP", f1, "service reference", b, 17) : Form("gsrnp", "CompanyPrefix.ServiceReference");
            case "gdti":
                return Next(ref b, out f1) && Next(ref b, out f2)
                    ? Key("GDTI", f1, "document type", f2, 12) ?? Text("GDTI", "serial number", b, 1, 17)
                    : Form("gdti", "CompanyPrefix.DocumentType.SerialNumber");
            case "cpi":
                return Next(ref b, out f1) && Next(ref b, out f2) && b.IndexOf('.') < 0
                    ? CompanyPrefix("CPI", f1) ?? PartReference(f1, f2) ?? Number("CPI", "serial number", b, 12, noLeadingZero: true)
                    : Form("cpi", "CompanyPrefix.ComponentPartReference.SerialNumber");
            case "sgcn":
                return Next(ref b, out f1) && Next(ref b, out f2)
                    ? Key("SGCN", f1, "coupon reference", f2, 12) ?? Number("SGCN", "serial component", b, 12, noLeadingZero: false)
                    : Form("sgcn", "CompanyPrefix.CouponReference.SerialComponent");
            case "ginc":
                return Next(ref b, out f1) ? CompanyPrefix("GINC", f1) ?? Text("GINC", "consignment reference", b, 1, 30 - f1.Length) : Form("ginc", "CompanyPrefix.ConsignmentReference");
            case "gsin":
                return Next(ref b, out f1) ? Key("GSIN", f1, "shipper reference", b, 16) : Form("gsin", "CompanyPrefix.ShipperReference");
            case "itip":
                return Next(ref b, out f1) && Next(ref b, out f2) && Next(ref b, out f3) && Next(ref b, out f4)
                    ? Key("ITIP", f1, "indicator digit and item reference", f2, 13) ?? PieceAndTotal(f3, f4) ?? Text("ITIP", "serial number", b, 1, 20)
                    : Form("itip", "CompanyPrefix.IndicatorAndItemReference.Piece.Total.SerialNumber");
            case "upui":
                return Next(ref b, out f1) && Next(ref b, out f2)
                    ? Key("UPUI", f1, "indicator digit and item reference", f2, 13) ?? Text("UPUI", "third party controlled serial (TPX)", b, 1, 28)
                    : Form("upui", "CompanyPrefix.IndicatorAndItemReference.TPX");
            case "pgln":
                return Next(ref b, out f1) ? Key("PGLN", f1, "party reference", b, 12) : Form("pgln", "CompanyPrefix.PartyReference");
            case "gid":
                return Next(ref b, out f1) && Next(ref b, out f2)
                    ? Bounded("GID", "general manager number", f1, 268_435_455) ?? Bounded("GID", "object class", f2, 16_777_215) ?? Bounded("GID", "serial number", b, 68_719_476_735)
                    : Form("gid", "GeneralManagerNumber.ObjectClass.SerialNumber");
            case "usdod":
                return Next(ref b, out f1) ? Cage("USDOD", f1) ?? Bounded("USDOD", "serial number", b, 68_719_476_735) : Form("usdod", "CAGEOrDoDAAC.SerialNumber");
            case "adi":
                return Next(ref b, out f1) && Next(ref b, out f2)
                    ? Cage("ADI", f1) ?? Adi("original part number", f2, 0, 32, allowHash: false) ?? Adi("serial number", b, 1, 30, allowHash: true)
                    : Form("adi", "CAGEOrDoDAAC.OriginalPartNumber.SerialNumber");
            case "bic":
                return Bic(b);
            case "imovn":
                return Imo(b);
            default:
                return $"'{scheme}' is not an EPC scheme of the Tag Data Standard: expected one of {IdSchemes}.";
        }
    }

    private static string? CheckClass(ReadOnlySpan<char> scheme, ReadOnlySpan<char> b)
    {
        if (scheme is not "lgtin")
        {
            return $"'{scheme}' is not an EPC class scheme: the Tag Data Standard defines urn:epc:class:lgtin: only.";
        }

        return Next(ref b, out var f1) && Next(ref b, out var f2)
            ? Key("LGTIN", f1, "indicator digit and item reference", f2, 13) ?? Text("LGTIN", "batch/lot number", b, 1, 20)
            : "An LGTIN class URI has the form urn:epc:class:lgtin:CompanyPrefix.IndicatorAndItemReference.Lot.";
    }

    private static string? CheckPattern(ReadOnlySpan<char> scheme, ReadOnlySpan<char> b)
    {
        ReadOnlySpan<char> f1 = default, f2 = default, f3, f4;
        var ok = Next(ref b, out f1) && Next(ref b, out f2);
        var reason = scheme switch
        {
            "sgtin" or "upui" when ok => Key(Upper(scheme), f1, "indicator digit and item reference", f2, 13),
            "grai" when ok => Key("GRAI", f1, "asset type", f2, 12),
            "gdti" when ok => Key("GDTI", f1, "document type", f2, 12),
            "sgcn" when ok => Key("SGCN", f1, "coupon reference", f2, 12),
            "cpi" when ok => CompanyPrefix("CPI", f1) ?? PartReference(f1, f2),
            "itip" when ok && Next(ref b, out f3) && Next(ref b, out f4) => Key("ITIP", f1, "indicator digit and item reference", f2, 13) ?? PieceAndTotal(f3, f4),
            "sgtin" or "upui" or "grai" or "gdti" or "sgcn" or "cpi" or "itip" => $"A class pattern has the form urn:epc:idpat:{scheme}:{PatternForm(scheme)}.*, only the serial given as '*'.",
            _ => $"'{scheme}' has no class-level EPC pattern: expected urn:epc:idpat: with sgtin, upui, grai, gdti, sgcn, cpi or itip.",
        };
        if (reason is not null)
        {
            return reason;
        }

        return b is "*" ? null : $"A class pattern ends with '.*' in place of the serial, not '.{b}': urn:epc:idpat:{scheme}:{PatternForm(scheme)}.*.";
    }

    private static string PatternForm(ReadOnlySpan<char> scheme) => scheme switch
    {
        "grai" => "CompanyPrefix.AssetType",
        "gdti" => "CompanyPrefix.DocumentType",
        "sgcn" => "CompanyPrefix.CouponReference",
        "cpi" => "CompanyPrefix.ComponentPartReference",
        "itip" => "CompanyPrefix.IndicatorAndItemReference.Piece.Total",
        _ => "CompanyPrefix.IndicatorAndItemReference",
    };

    /// <summary>Takes the component before the next '.', leaving the rest (a serial may itself hold dots).</summary>
    private static bool Next(scoped ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> field)
    {
        var dot = rest.IndexOf('.');
        if (dot < 0)
        {
            field = default;
            return false;
        }

        field = rest[..dot];
        rest = rest[(dot + 1)..];
        return true;
    }

    private static string Form(string scheme, string components) => $"{Upper(scheme)} EPC URIs have the form urn:epc:id:{scheme}:{components}.";

    private static string Upper(ReadOnlySpan<char> scheme) => scheme.ToString().ToUpperInvariant();

    private static string? CompanyPrefix(string name, ReadOnlySpan<char> cp)
    {
        if (!Gs1Syntax.IsDigits(cp))
        {
            return $"The {name} company prefix '{cp}' must be digits only.";
        }

        return cp.Length is >= 6 and <= 12 ? null : $"The {name} company prefix '{cp}' has {cp.Length} digits; an EPC URI company prefix has 6 to 12.";
    }

    /// <summary>Company prefix plus a numeric reference (possibly empty when the prefix takes all the room), <paramref name="total"/> digits together.</summary>
    private static string? Key(string name, ReadOnlySpan<char> cp, string referenceName, ReadOnlySpan<char> reference, int total)
    {
        if (CompanyPrefix(name, cp) is { } problem)
        {
            return problem;
        }

        if (!reference.IsEmpty && !Gs1Syntax.IsDigits(reference))
        {
            return $"The {name} {referenceName} '{reference}' must be digits only.";
        }

        var sum = cp.Length + reference.Length;
        return sum == total ? null
            : $"The {name} company prefix ({cp.Length} digits) and {referenceName} ({reference.Length} digits) have {sum} digits together; they must have {total}.";
    }

    /// <summary>A component of GS1 AI character set 82 as written in an EPC URI (TDS table A-1), of <paramref name="min"/> to <paramref name="max"/> characters.</summary>
    private static string? Text(string name, string what, ReadOnlySpan<char> raw, int min, int max)
    {
        var length = 0;
        for (var i = 0; i < raw.Length; i++, length++)
        {
            var c = raw[i];
            if (c == '%')
            {
                var escape = raw.Slice(i, Math.Min(3, raw.Length - i));
                if (!IsUrnEscape(escape))
                {
                    return $"The {name} {what} holds '{escape}'; an EPC URI percent-encodes only \" % & / < > ? (as %22 %25 %26 %2F %3C %3E %3F) and writes every other character literally.";
                }

                i += 2;
            }
            else if (!char.IsAsciiLetterOrDigit(c) && c is not ('!' or '\'' or '(' or ')' or '*' or '+' or ',' or '-' or '.' or ':' or ';' or '=' or '_'))
            {
                return c is '/' or '?' or '&'
                    ? $"The {name} {what} holds '{c}', which an EPC URI must percent-encode (as %{(int)c:X2})."
                    : $"The {name} {what} holds {Gs1Syntax.Describe(c)}, which is not in GS1 AI character set 82.";
            }
        }

        if (length < min)
        {
            return $"The {name} {what} is empty.";
        }

        return length <= max ? null : $"The {name} {what} has {length} characters, more than the {max} allowed.";
    }

    private static bool IsUrnEscape(ReadOnlySpan<char> e) =>
        e.Length == 3 && (e[1], char.ToUpperInvariant(e[2])) is ('2', '2') or ('2', '5') or ('2', '6') or ('2', 'F') or ('3', 'C') or ('3', 'E') or ('3', 'F');

    private static string? Number(string name, string what, ReadOnlySpan<char> s, int maxDigits, bool noLeadingZero)
    {
        if (!Gs1Syntax.IsDigits(s))
        {
            return $"The {name} {what} '{s}' must be digits only.";
        }

        if (s.Length > maxDigits)
        {
            return $"The {name} {what} has {s.Length} digits, more than the {maxDigits} allowed.";
        }

        return noLeadingZero && s.Length > 1 && s[0] == '0' ? $"The {name} {what} '{s}' must not start with 0." : null;
    }

    private static string? Bounded(string name, string what, ReadOnlySpan<char> s, long max)
    {
        if (Number(name, what, s, 11, noLeadingZero: true) is { } problem)
        {
            return problem;
        }

        return long.Parse(s, System.Globalization.CultureInfo.InvariantCulture) <= max ? null : $"The {name} {what} {s} is larger than {max}.";
    }

    /// <summary>CPI component part reference: digits, upper-case letters, '-', and '#' and '/' percent-encoded; at most 30 characters with the company prefix.</summary>
    private static string? PartReference(ReadOnlySpan<char> cp, ReadOnlySpan<char> raw)
    {
        var length = 0;
        for (var i = 0; i < raw.Length; i++, length++)
        {
            var c = raw[i];
            if (c == '%' && i + 2 < raw.Length && raw[i + 1] is '2' && char.ToUpperInvariant(raw[i + 2]) is '3' or 'F')
            {
                i += 2;
            }
            else if (!char.IsAsciiDigit(c) && !char.IsAsciiLetterUpper(c) && c != '-')
            {
                return $"The CPI component part reference holds {(c == '%' ? $"'{raw.Slice(i, Math.Min(3, raw.Length - i))}'" : Gs1Syntax.Describe(c))}; it allows digits, upper-case letters, '-', %23 ('#') and %2F ('/').";
            }
        }

        if (length == 0)
        {
            return "The CPI component part reference is empty.";
        }

        return cp.Length + length <= 30 ? null : $"The CPI company prefix and component part reference have {cp.Length + length} characters, more than 30.";
    }

    private static string? PieceAndTotal(ReadOnlySpan<char> piece, ReadOnlySpan<char> total) =>
        piece.Length == 2 && Gs1Syntax.IsDigits(piece) && total.Length == 2 && Gs1Syntax.IsDigits(total)
            ? null
            : $"The ITIP piece number '{piece}' and total count '{total}' must be two digits each.";

    private static string? Cage(string name, ReadOnlySpan<char> code)
    {
        if (code.Length is < 5 or > 6)
        {
            return $"The {name} CAGE code or DoDAAC '{code}' must have 5 or 6 characters.";
        }

        foreach (var c in code)
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiLetterUpper(c))
            {
                return $"The {name} CAGE code or DoDAAC '{code}' must be digits and upper-case letters.";
            }
        }

        return null;
    }

    /// <summary>ADI components: upper-case letters, digits, '-' and %2F ('/'); the serial may start with %23 ('#').</summary>
    private static string? Adi(string what, ReadOnlySpan<char> raw, int min, int max, bool allowHash)
    {
        var length = 0;
        for (var i = 0; i < raw.Length; i++, length++)
        {
            var c = raw[i];
            if (c == '%' && i + 2 < raw.Length && raw[i + 1] == '2' && (char.ToUpperInvariant(raw[i + 2]) == 'F' || (allowHash && i == 0 && raw[i + 2] == '3')))
            {
                i += 2;
            }
            else if (!char.IsAsciiDigit(c) && !char.IsAsciiLetterUpper(c) && c != '-')
            {
                return $"The ADI {what} '{raw}' allows upper-case letters, digits, '-' and %2F ('/'){(allowHash ? ", after an optional leading %23 ('#')" : string.Empty)}.";
            }
        }

        if (length < min)
        {
            return $"The ADI {what} is empty.";
        }

        return length <= max ? null : $"The ADI {what} has {length} characters, more than the {max} allowed.";
    }

    /// <summary>ISO 6346 freight container code: owner code (3 letters), category (U, J or Z), 6-digit serial, check digit.</summary>
    private static string? Bic(ReadOnlySpan<char> code)
    {
        if (code.Length != 11 || !char.IsAsciiLetterUpper(code[0]) || !char.IsAsciiLetterUpper(code[1]) || !char.IsAsciiLetterUpper(code[2])
            || code[3] is not ('U' or 'J' or 'Z') || !Gs1Syntax.IsDigits(code[4..]))
        {
            return $"A BIC container code has 3 upper-case owner letters, a category letter U, J or Z, 6 digits and a check digit (ISO 6346), not '{code}'.";
        }

        const string LetterValues = "10 12 13 14 15 16 17 18 19 20 21 23 24 25 26 27 28 29 30 31 32 34 35 36 37 38";
        var sum = 0;
        for (var i = 0; i < 10; i++)
        {
            var c = code[i];
            var value = char.IsAsciiDigit(c) ? c - '0' : int.Parse(LetterValues.AsSpan((c - 'A') * 3, 2), System.Globalization.CultureInfo.InvariantCulture);
            sum += value << i;
        }

        var expected = sum % 11 % 10;
        var actual = code[10] - '0';
        return actual == expected ? null : $"BIC {code} has check digit {actual}, expected {expected}.";
    }

    /// <summary>IMO vessel number: 7 digits, the last one the sum of the first six weighted 7 to 2, modulo 10.</summary>
    private static string? Imo(ReadOnlySpan<char> imo)
    {
        if (imo.Length != 7 || !Gs1Syntax.IsDigits(imo))
        {
            return $"An IMO vessel number has 7 digits, not '{imo}'.";
        }

        var sum = 0;
        for (var i = 0; i < 6; i++)
        {
            sum += (imo[i] - '0') * (7 - i);
        }

        var expected = sum % 10;
        var actual = imo[6] - '0';
        return actual == expected ? null : $"IMO number {imo} has check digit {actual}, expected {expected}.";
    }
}
