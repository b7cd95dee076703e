using System.Globalization;
using System.Text.Json;

namespace Btmc.Epcis.Query;

/// <summary>
/// Writes the response of <c>GET /events</c>: an EPCIS 2.0 <c>EPCISQueryDocument</c> (JSON-LD) whose
/// <c>epcisBody.queryResults.resultsBody.eventList</c> holds the stored events byte for byte. An event's own
/// <c>@context</c>, if any, stays with it (an embedded context is valid JSON-LD).
/// </summary>
public static class EpcisQueryDocumentWriter
{
    /// <summary>The standard EPCIS 2.0 JSON-LD context.</summary>
    public const string StandardContext = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

    /// <summary>The query name of <c>GET /events</c> results.</summary>
    public const string QueryName = "SimpleEventQuery";

    /// <summary>
    /// Writes the document to <paramref name="writer"/>. Each of <paramref name="events"/> is the UTF-8 JSON of one event
    /// object as stored; it is validated as one JSON value and written unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">An event is not one JSON object.</exception>
    public static void Write(Utf8JsonWriter writer, IEnumerable<ReadOnlyMemory<byte>> events, DateTimeOffset creationDate) =>
        Write(writer, events, creationDate, QueryName, null);

    /// <summary>
    /// Writes the document of a named query's results, as a subscription delivers them: <c>queryResults</c> carries the
    /// query's <paramref name="queryName"/> and, for a subscription, its <paramref name="subscriptionId"/>.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, IEnumerable<ReadOnlyMemory<byte>> events, DateTimeOffset creationDate, string queryName, string? subscriptionId)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(events);
        writer.WriteStartObject();
        writer.WriteString("@context"u8, StandardContext);
        writer.WriteString("type"u8, "EPCISQueryDocument"u8);
        writer.WriteString("schemaVersion"u8, "2.0"u8);
        writer.WriteString("creationDate"u8, creationDate.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        writer.WriteStartObject("epcisBody"u8);
        writer.WriteStartObject("queryResults"u8);
        writer.WriteString("queryName"u8, queryName);
        if (subscriptionId is not null)
        {
            writer.WriteString("subscriptionID"u8, subscriptionId);
        }

        writer.WriteStartObject("resultsBody"u8);
        writer.WriteStartArray("eventList"u8);
        foreach (var evt in events)
        {
            WriteEvent(writer, evt);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static readonly JsonReaderOptions EventReaderOptions = new() { CommentHandling = JsonCommentHandling.Allow, MaxDepth = 64 };

    /// <summary>
    /// Writes one stored event unchanged. Capture skips JSON comments, so a stored event may hold some: such an event is
    /// written without them (the only case in which it is re-serialised), as the query document must be plain JSON.
    /// </summary>
    private static void WriteEvent(Utf8JsonWriter writer, ReadOnlyMemory<byte> evt)
    {
        var reader = new Utf8JsonReader(evt.Span, EventReaderOptions);
        var hasComments = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ArgumentException("Each event must be the JSON of one event object.", nameof(evt));
            }

            while (reader.Read())
            {
                hasComments |= reader.TokenType == JsonTokenType.Comment;
            }
        }
        catch (JsonException ex)
        {
            throw new ArgumentException("An event is not valid JSON: " + ex.Message, nameof(evt), ex);
        }

        if (!hasComments)
        {
            writer.WriteRawValue(evt.Span, skipInputValidation: true);
            return;
        }

        using var document = JsonDocument.Parse(evt, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowDuplicateProperties = true, MaxDepth = 64 });
        document.RootElement.WriteTo(writer);
    }

    /// <summary>A named query's results document as UTF-8 JSON (what a subscription sends), in a buffer of its own.</summary>
    public static ReadOnlyMemory<byte> ToUtf8(IEnumerable<ReadOnlyMemory<byte>> events, DateTimeOffset creationDate, string queryName, string? subscriptionId)
    {
        var body = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(body))
        {
            Write(writer, events, creationDate, queryName, subscriptionId);
        }

        return body.WrittenMemory;
    }

    /// <summary>Writes the document to <paramref name="stream"/> as UTF-8 JSON (not indented).</summary>
    public static void Write(Stream stream, IEnumerable<ReadOnlyMemory<byte>> events, DateTimeOffset creationDate)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new Utf8JsonWriter(stream);
        Write(writer, events, creationDate);
    }
}
