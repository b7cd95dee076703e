using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace Btmc.Epcis.Cbv;

/// <summary>
/// Builds the CBV 2.0 (section 8.9) pre-hash string from the neutral model: standard fields in the canonical
/// property order as name=value with no separators, values canonicalised (Digital Link, web vocabulary, numbers,
/// UTC millisecond timestamps), repeated elements sorted, and user extensions (plus the unordered standard lists
/// bizTransactionList, sourceList, destinationList) appended sorted after the standard fields of their parent.
/// </summary>
internal static partial class PreHashBuilder
{
    private sealed record Order(string Name, Order[]? Children = null);

    private static Order[] QuantityElement() =>
        [new("quantityElement", [new("epcClass"), new("quantity"), new("uom")])];

    private static readonly Order[] EpcChild = [new("epc")];

    private static readonly Order[] EventOrder =
    [
        new("eventTime"),
        new("eventTimeZoneOffset"),

        // Why certificationInfo here and parentID before epcList: the reference's PROP_ORDER
        // (epcis_event_hash_generator/__init__.py lines 21-27), which its published vectors were made with.
        new("certificationInfo"),
        new("parentID"),
        new("epcList", EpcChild),
        new("inputEPCList", EpcChild),
        new("childEPCs", EpcChild),
        new("quantityList", QuantityElement()),
        new("childQuantityList", QuantityElement()),
        new("inputQuantityList", QuantityElement()),
        new("outputEPCList", EpcChild),
        new("outputQuantityList", QuantityElement()),
        new("action"),
        new("transformationID"),
        new("bizStep"),
        new("disposition"),
        new("persistentDisposition", [new("set"), new("unset")]),
        new("readPoint", [new("id")]),
        new("bizLocation", [new("id")]),
        new("sensorElementList",
        [
            new("sensorElement",
            [
                new("sensorMetadata",
                [
                    new("time"), new("startTime"), new("endTime"), new("deviceID"), new("deviceMetadata"), new("rawData"),
                    new("dataProcessingMethod"), new("bizRules"),
                ]),
                new("sensorReport",
                [
                    new("type"), new("exception"), new("deviceID"), new("deviceMetadata"), new("rawData"), new("dataProcessingMethod"),
                    new("time"), new("microorganism"), new("chemicalSubstance"), new("value"), new("component"), new("stringValue"),
                    new("booleanValue"), new("hexBinaryValue"), new("uriValue"), new("minValue"), new("maxValue"), new("meanValue"),
                    new("sDev"), new("percRank"), new("percValue"), new("uom"), new("coordinateReferenceSystem"),
                ]),
            ]),
        ]),
    ];

    /// <summary>Standard event fields that never take part in the hash.</summary>
    internal static readonly HashSet<string> IgnoredEventFields =
        new(["recordTime", "eventID", "errorDeclaration"], StringComparer.Ordinal);

    /// <summary>Standard lists whose entries are (type, value) pairs and whose order is not fixed.</summary>
    private static readonly HashSet<string> TypedLists = new(["bizTransactionList", "sourceList", "destinationList"], StringComparer.Ordinal);

    public static string Build(HashEvent evt, IReadOnlySet<string> ignoredFields)
    {
        var fields = evt.Fields.Where(f => !IgnoredEventFields.Contains(f.Name) && !ignoredFields.Contains(f.Name)).ToList();
        return "eventType=" + evt.EventType + Ordered(fields, EventOrder) + Generic(fields);
    }

    /// <summary>Renders and consumes the children named in <paramref name="order"/>, in that order.</summary>
    private static string Ordered(List<HashNode> children, Order[] order)
    {
        var sb = new StringBuilder();
        foreach (var o in order)
        {
            // Most names of the order are absent from any one event: look before allocating.
            List<HashNode>? matches = null;
            foreach (var c in children)
            {
                if (c.Name == o.Name)
                {
                    (matches ??= []).Add(c);
                }
            }

            if (matches is null)
            {
                continue;
            }

            var rendered = new List<string>();
            foreach (var child in matches)
            {
                var (text, residual) = RenderOrdered(child, o.Children);
                if (text.Length > 0)
                {
                    rendered.Add(text);
                }

                var at = children.IndexOf(child);
                if (residual is null)
                {
                    children.RemoveAt(at);
                }
                else
                {
                    children[at] = residual;
                }
            }

            rendered.Sort(StringComparer.Ordinal);
            foreach (var r in rendered)
            {
                sb.Append(r);
            }
        }

        return sb.ToString();
    }

    /// <summary>Renders the remaining (unordered) children, sorted.</summary>
    private static string Generic(List<HashNode> children)
    {
        var rendered = children.Select(Render).Where(s => s.Length > 0).ToList();
        rendered.Sort(StringComparer.Ordinal);
        return string.Concat(rendered);
    }

    /// <summary>
    /// A standard element: its value, its standard children in order, then its user extensions ({ns}local) sorted.
    /// Other unknown children are not rendered here; they stay behind in a residual node (with the path leading to
    /// them) that the event-level generic part renders.
    /// </summary>
    private static (string Text, HashNode? Residual) RenderOrdered(HashNode node, Order[]? order)
    {
        var value = node.Value.Trim();
        var text = value.Length == 0 ? string.Empty
            : IsTimeName(node.Name) ? NormaliseTimestamp(value)
            : CanonicalValue(value);
        var rest = new List<HashNode>(node.Children);
        var inner = string.Empty;
        if (order is not null)
        {
            var extensions = UserExtensions(rest);
            rest.RemoveAll(extensions.Contains);
            inner = Ordered(rest, order) + Generic(extensions);
        }

        var residual = rest.Count == 0 ? null : new HashNode(node.Name, node.Value, rest);
        if (text.Length == 0 && inner.Length == 0)
        {
            return (string.Empty, residual);
        }

        return (node.Name + (text.Length > 0 ? "=" + text : string.Empty) + inner, residual);
    }

    /// <summary>
    /// The user extensions a standard element renders after its own fields, as the reference's
    /// <c>_gather_user_extensions</c> (hash_generator.py lines 151-176) picks them: only where the element has two or
    /// more children, none whose name contains "eventTime" or "action", and only names holding "{" and "/}" (a
    /// namespace ending in '/'). Any other extension stays behind and is rendered, with its path, among the
    /// event's unordered fields.
    /// </summary>
    private static List<HashNode> UserExtensions(List<HashNode> children)
    {
        if (children.Count <= 1
            || children.Exists(c => c.Name.Contains("eventTime", StringComparison.Ordinal) || c.Name.Contains("action", StringComparison.Ordinal)))
        {
            return [];
        }

        return children.FindAll(c => c.Name.Contains('{', StringComparison.Ordinal) && c.Name.Contains("/}", StringComparison.Ordinal));
    }

    private static string Render(HashNode node)
    {
        if (TypedLists.Contains(node.Name))
        {
            return RenderTypedList(node);
        }

        var value = node.Value.Trim();
        var text = value.Length == 0 ? string.Empty : CanonicalValue(value);
        return node.Name + (text.Length > 0 ? "=" + text : string.Empty) + Generic(node.Children);
    }

    private static string RenderTypedList(HashNode list)
    {
        var entries = new List<string>();
        foreach (var entry in list.Children)
        {
            var type = entry.Children.FirstOrDefault(c => c.Name == "type");
            var others = entry.Children.Where(c => !ReferenceEquals(c, type)).ToList();
            var value = entry.Value.Trim();
            var sb = new StringBuilder();
            if (type is not null && type.Value.Trim().Length > 0)
            {
                sb.Append("type=").Append(CanonicalValue(type.Value.Trim()));
            }

            if (value.Length > 0)
            {
                sb.Append(entry.Name).Append('=').Append(CanonicalValue(value));
            }

            sb.Append(Generic(others));
            if (sb.Length > 0)
            {
                entries.Add(sb.ToString());
            }
        }

        if (entries.Count == 0)
        {
            return string.Empty;
        }

        entries.Sort(StringComparer.Ordinal);
        return list.Name + string.Concat(entries);
    }

    private static bool IsTimeName(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower.Contains("time", StringComparison.Ordinal) && !lower.Contains("offset", StringComparison.Ordinal);
    }

    /// <summary>
    /// UTC, millisecond precision, "Z" suffix; unparseable text is kept as is.
    /// Why this rounding: the reference (RalphTro/epcis-event-hash-generator, hash_generator.py
    /// <c>_fix_time_stamp_format</c>, lines 40-63) parses with dateutil, whose <c>_parsems</c> keeps the first six
    /// fraction digits (later digits are truncated), then rounds the microseconds with Python's
    /// <c>round(microsecond, -3)</c>: to the nearest millisecond, a tie to the even one (.0015 -> .002, .0025 -> .002).
    /// Where that rounds up to the next second (.9995 and above) the reference raises and drops the event; here the
    /// second carries instead, as CBV 2.0 rule 9 ("rounded up") reads. Text without an offset is taken as UTC
    /// (the reference takes the host's local zone, which is UTC on its CI).
    /// </summary>
    internal static string NormaliseTimestamp(string value)
    {
        var text = value.AsSpan().Trim();
        var microseconds = 0L;
        var dot = FractionStart(text);
        Span<char> buffer = stackalloc char[64];
        scoped ReadOnlySpan<char> withoutFraction = text;
        if (dot >= 0)
        {
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            // dateutil: the first six digits are the microseconds ("5" is 500000), the rest is dropped.
            for (var i = 0; i < 6; i++)
            {
                var at = dot + 1 + i;
                microseconds = (microseconds * 10) + (at < end ? text[at] - '0' : 0);
            }

            if (text.Length - (end - dot) > buffer.Length)
            {
                return value;
            }

            text[..dot].CopyTo(buffer);
            text[end..].CopyTo(buffer[dot..]);
            withoutFraction = buffer[..(text.Length - (end - dot))];
        }

        if (!DateTimeOffset.TryParse(withoutFraction, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var t))
        {
            return value;
        }

        // Python's round(microsecond, -3): half to even.
        var milliseconds = Math.DivRem(microseconds, 1000L, out var rest);
        if (rest > 500 || (rest == 500 && (milliseconds & 1) == 1))
        {
            milliseconds++;
        }

        return t.UtcDateTime.AddMilliseconds(milliseconds).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>Index of the '.' (or ',') that starts the seconds' fraction (after hh:mm:ss), or -1.</summary>
    private static int FractionStart(ReadOnlySpan<char> text)
    {
        var t = text.IndexOfAny('T', 't', ' ');
        if (t < 0)
        {
            return -1;
        }

        // hh:mm:ss is eight characters after the date/time separator.
        var at = t + 9;
        return at < text.Length - 1 && text[at] is '.' or ',' && char.IsAsciiDigit(text[at + 1])
            && text[at - 3] == ':' && text[at - 6] == ':' ? at : -1;
    }

    /// <summary>Web vocabulary for CBV 1.x URNs, canonical numbers, then the Digital Link form of GS1 keys.</summary>
    internal static string CanonicalValue(string value)
    {
        value = WebVocabulary(value);
        value = CanonicalNumber(value);
        return DigitalLinkNormaliser.Normalise(value) ?? value;
    }

    private static readonly (string Urn, string Web)[] VocabularyPrefixes =
    [
        ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
        ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
        ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
        ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
        ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
    ];

    private static string WebVocabulary(string value)
    {
        foreach (var (urn, web) in VocabularyPrefixes)
        {
            if (value.StartsWith(urn, StringComparison.Ordinal))
            {
                return web + value[urn.Length..];
            }
        }

        return value;
    }

    /// <summary>
    /// The reference's <c>_try_format_numeric</c> (hash_generator.py lines 192-201): any text Python's
    /// <c>float()</c> takes (sign, exponent, "1.", ".5", digits grouped by single underscores) becomes
    /// <c>str(int(x))</c> when whole (every digit of the double, "1e22" -> 10000000000000000000000) and
    /// <c>repr(x)</c> otherwise: the shortest round-trip digits, in exponent form ("1e-05", "1.5e-07") below 1e-4.
    /// NaN and infinities are left as written (Python keeps "nan"; the reference fails the event on "inf").
    /// </summary>
    internal static string CanonicalNumber(string value)
    {
        if (!NumberPattern().IsMatch(value))
        {
            return value;
        }

        var text = value.Contains('_', StringComparison.Ordinal) ? value.Replace("_", string.Empty, StringComparison.Ordinal) : value;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
        {
            return value;
        }

        if (Math.Floor(d) == d)
        {
            return new BigInteger(d).ToString(CultureInfo.InvariantCulture);
        }

        return PythonRepr(d);
    }

    /// <summary>
    /// Python's <c>float_repr</c> ('r' mode, Objects/floatobject.c and Python/pystrtod.c): shortest round-trip
    /// digits d1d2..dn with decimal point position p (value = 0.d1..dn x 10^p); exponent form when p &lt; -3 or p &gt; 16,
    /// mantissa "d1.d2..dn" (or "d1"), exponent signed and at least two digits.
    /// </summary>
    private static string PythonRepr(double d)
    {
        var shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        var e = shortest.IndexOfAny('E', 'e');
        var mantissa = e < 0 ? shortest : shortest[..e];
        var exponent = e < 0 ? 0 : int.Parse(shortest[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf('.', StringComparison.Ordinal);
        var digits = point < 0 ? mantissa : mantissa[..point] + mantissa[(point + 1)..];
        var decimalPoint = (point < 0 ? mantissa.Length : point) + exponent;
        var leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        decimalPoint -= leading;

        var sign = d < 0 ? "-" : string.Empty;
        if (decimalPoint < -3 || decimalPoint > 16)
        {
            var exp = decimalPoint - 1;
            var m = digits.Length == 1 ? digits : digits[..1] + "." + digits[1..];
            return sign + m + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }

        if (decimalPoint <= 0)
        {
            return sign + "0." + new string('0', -decimalPoint) + digits;
        }

        return decimalPoint >= digits.Length
            ? sign + digits + new string('0', decimalPoint - digits.Length) + ".0"
            : sign + digits[..decimalPoint] + "." + digits[decimalPoint..];
    }

    // Python float() syntax: an underscore only between two digits.
    [GeneratedRegex(@"^\s*[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?\s*$")]
    private static partial Regex NumberPattern();
}
