using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Btmc.Epcis.Cbv;

/// <summary>
/// GS1 CBV 2.0 event hash ID (CBV 2.0 section 8.9): the canonical pre-hash string of an EPCIS event and
/// <c>ni:///sha-256;&lt;hex&gt;?ver=CBV2.0</c>. JSON-LD and XML serialisations of the same event hash alike.
/// Pure: nothing is fetched or read from disk.
/// </summary>
public static class EventHashId
{
    private const string Prefix = "ni:///sha-256;";
    private const string Suffix = "?ver=CBV2.0";

    /// <summary>Pre-hash string of one JSON-LD event. <paramref name="ignoredFields"/> are expanded names (<c>{ns}local</c>) to leave out.</summary>
    public static string PreHash(JsonElement evt, JsonLdContext context, IReadOnlySet<string>? ignoredFields = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        return PreHashBuilder.Build(JsonHashReader.ReadEvent(evt, context), ignoredFields ?? new HashSet<string>());
    }

    /// <summary>Event hash ID of one JSON-LD event.</summary>
    public static string Compute(JsonElement evt, JsonLdContext context, IReadOnlySet<string>? ignoredFields = null) =>
        FromPreHash(PreHash(evt, context, ignoredFields));

    /// <summary><c>ni:///sha-256;&lt;lowercase hex of SHA-256(UTF-8 pre-hash)&gt;?ver=CBV2.0</c>.</summary>
    public static string FromPreHash(string preHash)
    {
        ArgumentNullException.ThrowIfNull(preHash);
        return Prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(preHash))) + Suffix;
    }

    /// <summary>Pre-hash strings of all events of an EPCIS JSON-LD document or query document, in document order.</summary>
    public static IReadOnlyList<string> PreHashesFromJsonDocument(JsonElement document)
    {
        var context = JsonLdContext.Standard;
        if (document.TryGetProperty("@context", out var ctx))
        {
            context = context.With(ctx);
        }

        var ignored = new HashSet<string>(StringComparer.Ordinal);
        var holders = new List<JsonElement> { document };
        if (document.TryGetProperty("epcisBody", out var body) && body.ValueKind == JsonValueKind.Object)
        {
            holders.Add(body);
            if (body.TryGetProperty("queryResults", out var results) && results.ValueKind == JsonValueKind.Object)
            {
                holders.Add(results);
            }
        }

        foreach (var p in holders.SelectMany(h => h.EnumerateObject()))
        {
            var colon = p.Name.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && p.Name[(colon + 1)..] == "ignoreFields" && p.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var f in p.Value.EnumerateArray())
                {
                    if (f.GetString() is { } name)
                    {
                        ignored.Add(JsonHashReader.ExpandName(name, context));
                    }
                }
            }
        }

        return EventsOf(document).Select(e => PreHash(e, context, ignored)).ToList();
    }

    /// <summary>Pre-hash strings of all events of an EPCIS XML document or query document, in document order.</summary>
    public static IReadOnlyList<string> PreHashesFromXml(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var (events, ignored) = XmlHashReader.Read(xml);
        return events.Select(e => PreHashBuilder.Build(e, ignored)).ToList();
    }

    private static IEnumerable<JsonElement> EventsOf(JsonElement document)
    {
        if (!document.TryGetProperty("epcisBody", out var body))
        {
            return document.TryGetProperty("type", out _) ? [document] : [];
        }

        if (body.TryGetProperty("eventList", out var list))
        {
            return list.EnumerateArray();
        }

        if (body.TryGetProperty("queryResults", out var results)
            && results.TryGetProperty("resultsBody", out var resultsBody)
            && resultsBody.TryGetProperty("eventList", out var queried))
        {
            return queried.EnumerateArray();
        }

        return body.TryGetProperty("event", out var single) ? [single] : [];
    }
}
