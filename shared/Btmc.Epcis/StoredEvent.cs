using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Btmc.Epcis.Cbv;

namespace Btmc.Epcis;

/// <summary>
/// The stored form of a captured event (docs/ledger-format.md, "Stored event"): a self-contained JSON-LD event. It
/// carries the capture document's <c>@context</c> (followed by the event's own, if any), so that its extension
/// members keep their meaning and its CBV 2.0 hash ID can be recomputed from it alone; its <c>recordTime</c> is the
/// time the ledger accepted it (EPCIS: set by the repository, whatever the partner sent); every other member is kept
/// as submitted, in submitted order (a member given twice keeps its last value).
/// </summary>
public static class StoredEvent
{
    /// <summary>The fragment that makes an error declaration's ledger id differ from the corrected event's hash ID.</summary>
    public const string ErrorDeclarationFragment = "#errorDeclaration";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };

    /// <summary>Writes the stored form of <paramref name="evt"/>.</summary>
    public static byte[] Write(JsonElement evt, JsonElement? documentContext, DateTimeOffset recordTime)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            var hasOwn = evt.TryGetProperty("@context", out var own);
            if (documentContext is { } doc || hasOwn)
            {
                writer.WritePropertyName("@context");
                if (documentContext is { } d && hasOwn)
                {
                    writer.WriteStartArray();
                    WriteContextItems(d, writer);
                    WriteContextItems(own, writer);
                    writer.WriteEndArray();
                }
                else
                {
                    (documentContext ?? own).WriteTo(writer);
                }
            }

            writer.WriteString("recordTime", FormatTime(recordTime));
            var names = new List<string>();
            foreach (var member in evt.EnumerateObject())
            {
                names.Add(member.Name);
            }

            var i = 0;
            foreach (var member in evt.EnumerateObject())
            {
                var name = names[i];
                var repeatedLater = names.LastIndexOf(name) != i;
                i++;
                if (repeatedLater || name is "@context" or "recordTime")
                {
                    continue;
                }

                member.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The CBV 2.0 event hash ID of a stored event (its own <c>@context</c> included).</summary>
    public static string HashId(JsonElement storedEvent) => EventHashId.Compute(storedEvent, JsonLdContext.Standard);

    /// <summary>The ledger id of an error declaration of the event with <paramref name="hashId"/>.</summary>
    public static string ErrorDeclarationId(string hashId) => hashId + ErrorDeclarationFragment;

    /// <summary>The ledger id of a stored event: its hash ID, or the error-declaration id when it declares an error.</summary>
    public static string LedgerId(JsonElement storedEvent)
    {
        var hashId = HashId(storedEvent);
        return storedEvent.TryGetProperty("errorDeclaration", out _) ? ErrorDeclarationId(hashId) : hashId;
    }

    /// <summary>RFC 3339 UTC with milliseconds, as recordTime is written.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void WriteContextItems(JsonElement context, Utf8JsonWriter writer)
    {
        if (context.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in context.EnumerateArray())
            {
                item.WriteTo(writer);
            }
        }
        else
        {
            context.WriteTo(writer);
        }
    }
}
