using System.Globalization;
using System.Text.Json;

namespace Btmc.Epcis.Schema;

/// <summary>
/// Validates an EPCIS 2.0 JSON/JSON-LD document (EPCISDocument, EPCISQueryDocument or one bare event) against the
/// official GS1 EPCIS 2.0 JSON Schema, vendored unchanged in this folder and embedded in the assembly.
/// </summary>
/// <remarks>
/// The entry point is <c>EPCIS-JSON-Schema-root.json</c>; its refs into GS1's split files
/// (<c>EPCIS-Document-JSON-Schema.json#/definitions/epcisDocument</c>, <c>schemas/ObjectEvent-JSON-Schema.json#/definitions/ObjectEvent</c>, …)
/// resolve to the same-named definitions of the bundle <c>EPCIS-JSON-Schema.json</c> (see <see cref="SchemaCompiler"/>).
/// The schema is compiled once, on first use.
/// </remarks>
public static class EpcisSchema
{
    /// <summary>At most this many problems are reported for one document.</summary>
    public const int MaxProblems = 20;

    internal const string RootFile = "EPCIS-JSON-Schema-root.json";
    internal const string BundleFile = "EPCIS-JSON-Schema.json";
    internal const string LicenseFile = "LICENSE";

    /// <summary>Sentences for the schema's patterns that a reader would not decode at a glance.</summary>
    internal static readonly IReadOnlyDictionary<string, string> PatternPhrases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [@"^\d+(\.\d+)*$"] = "a version number such as 2.0",
        [@"^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$"] = "a time zone offset from -14:00 to +14:00 such as +01:00",
        [@"^[A-Z0-9]{2,3}$"] = "a UN/ECE Rec 20 unit code of 2 to 3 capital letters and digits, such as KGM",
        [@"^[A-Fa-f0-9]+$"] = "hexadecimal digits",
        [@"^(?!(urn:epcglobal:cbv|https?:\/\/ns\.gs1\.org/cbv\/))"] =
            "a URI outside the CBV namespaces (standard CBV values are written bare, such as shipping, not as urn:epcglobal:cbv:… and https://ns.gs1.org/cbv/… URIs)",
        [@"^(?!(https?:\/\/gs1\.org\/voc\/|https?:\/\/www\.gs1\.org\/voc\/))"] =
            "a URI outside the GS1 Web Vocabulary (standard values are written bare, such as Temperature, not as https://gs1.org/voc/… URIs)",
    };

    private static readonly Lazy<SchemaNode> Root = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The schema violations of <paramref name="document"/>, at most <see cref="MaxProblems"/>, one per instance
    /// location; empty when the document is valid.
    /// </summary>
    public static IReadOnlyList<EpcisProblem> Validate(JsonElement document)
    {
        var context = new SchemaContext();
        if (Root.Value.Validate(document, null, context, null))
        {
            return [];
        }

        var errors = new List<SchemaError>();
        Root.Value.Validate(document, null, context, errors);
        var bareEvent = IsBareEvent(document);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. errors
            .Where(e => seen.Add(e.Pointer))
            .Take(MaxProblems)
            .Select(e => new EpcisProblem(bareEvent ? 0 : EventIndexOf(e.Pointer), e.Pointer, e.Detail))];
    }

    /// <summary>The embedded copy of one vendored file (<see cref="RootFile"/>, <see cref="BundleFile"/> or <see cref="LicenseFile"/>).</summary>
    internal static byte[] ReadResource(string file)
    {
        using var stream = typeof(EpcisSchema).Assembly.GetManifestResourceStream($"{typeof(EpcisSchema).Namespace}.{file}")
            ?? throw new InvalidOperationException($"Embedded resource {file} is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static SchemaNode Load()
    {
        using var root = JsonDocument.Parse(ReadResource(RootFile));
        using var bundle = JsonDocument.Parse(ReadResource(BundleFile));
        return SchemaCompiler.Compile(new SchemaDocument(RootFile, root.RootElement), new SchemaDocument(BundleFile, bundle.RootElement), PatternPhrases);
    }

    private static bool IsBareEvent(JsonElement document) =>
        document.ValueKind == JsonValueKind.Object
        && document.TryGetProperty("type", out var type)
        && type.ValueKind == JsonValueKind.String
        && type.GetString() is not ("EPCISDocument" or "EPCISQueryDocument");

    private static int? EventIndexOf(string pointer)
    {
        foreach (var prefix in (ReadOnlySpan<string>)["/epcisBody/eventList/", "/epcisBody/queryResults/resultsBody/eventList/"])
        {
            if (pointer.StartsWith(prefix, StringComparison.Ordinal))
            {
                var rest = pointer.AsSpan(prefix.Length);
                var end = rest.IndexOf('/');
                return int.TryParse(end < 0 ? rest : rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;
            }
        }

        return null;
    }
}
