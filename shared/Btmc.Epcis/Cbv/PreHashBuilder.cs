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
        new("epcList", EpcChild),
        new("parentID"),
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
        new(["recordTime", "eventID", "errorDeclaration", "certificationInfo"], StringComparer.Ordinal);

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
            inner = Ordered(rest, order);
            var extensions = rest.Where(c => c.Name.StartsWith('{')).ToList();
            inner += Generic(extensions);
            rest.RemoveAll(extensions.Contains);
        }

        var residual = rest.Count == 0 ? null : new HashNode(node.Name, node.Value, rest);
        if (text.Length == 0 && inner.Length == 0)
        {
            return (string.Empty, residual);
        }

        return (node.Name + (text.Length > 0 ? "=" + text : string.Empty) + inner, residual);
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

    /// <summary>UTC, millisecond precision, "Z" suffix; unparseable text is kept as is.</summary>
    internal static string NormaliseTimestamp(string value)
    {
        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var t))
        {
            return value;
        }

        return t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
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

    /// <summary>Numbers lose leading "+", leading/trailing zeros and a trailing ".0" (the reference's float round trip).</summary>
    internal static string CanonicalNumber(string value)
    {
        if (!NumberPattern().IsMatch(value) || !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
        {
            return value;
        }

        if (Math.Floor(d) == d)
        {
            return new BigInteger(d).ToString(CultureInfo.InvariantCulture);
        }

        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var e = r.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return r;
        }

        // Python repr style: 1e-05, 1.5e-07
        var mantissa = r[..e];
        var exponent = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")]
    private static partial Regex NumberPattern();
}
