using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Supply.Receipts;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Capture;

/// <summary>
/// An accepted event as it travels on the Event Hubs supply-events hub: UTF-8 JSON text, since the Functions host
/// hands the sealer each body as a string (the trigger's dataType "string"):
/// <code>{"v":1,"id":"ni:///sha-256;…?ver=CBV2.0","hash":"&lt;64 hex&gt;","capture":"…","partner":"…","receivedAt":1733130000000,"event":{…}}</code>
/// <c>event</c> is the stored event (docs/ledger-format.md) exactly as capture wrote it; <c>receivedAt</c> is Unix
/// milliseconds. Decoding checks that the event's content hash and ledger id are those the envelope claims, so a
/// damaged or forged message is refused (and dead-lettered by the sealer) rather than sealed.
/// The embedded log carries the same fields in the binary <see cref="EventRecord"/> form.
/// </summary>
public static class SupplyEventEnvelope
{
    public const int Version = 1;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Encode(EventRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>(record.Json.Length + 400);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("id", record.EventId);
            writer.WriteString("hash", record.EventHash.ToHex());
            writer.WriteString("capture", record.CaptureId);
            writer.WriteString("partner", record.Partner);
            writer.WriteNumber("receivedAt", record.ReceivedAt.ToUnixTimeMilliseconds());
            writer.WritePropertyName("event");
            writer.WriteRawValue(record.Json.Span, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads and checks an envelope; <see cref="FormatException"/> names what is wrong.</summary>
    public static EventRecord Decode(ReadOnlyMemory<byte> body)
    {
        string? id = null, hash = null, capture = null, partner = null;
        long? receivedAt = null;
        int? version = null;
        ReadOnlyMemory<byte> json = default;
        try
        {
            var reader = new Utf8JsonReader(body.Span);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new FormatException("The body is not a JSON object.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "v": version = reader.GetInt32(); break;
                    case "id": id = reader.GetString(); break;
                    case "hash": hash = reader.GetString(); break;
                    case "capture": capture = reader.GetString(); break;
                    case "partner": partner = reader.GetString(); break;
                    case "receivedAt": receivedAt = reader.GetInt64(); break;
                    case "event":
                        if (reader.TokenType != JsonTokenType.StartObject)
                        {
                            throw new FormatException("\"event\" is not a JSON object.");
                        }

                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        json = body.Slice(start, (int)reader.BytesConsumed - start);
                        break;
                    default: reader.Skip(); break;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new FormatException($"The body is not a readable supply-events envelope: {ex.Message}", ex);
        }

        if (version != Version)
        {
            throw new FormatException(version is null ? "The envelope has no version \"v\"." : $"Envelope version {version} is not supported (only {Version}).");
        }

        if (id is null || hash is null || capture is null || partner is null || receivedAt is null || json.IsEmpty)
        {
            var missing = new[] { ("id", id is null), ("hash", hash is null), ("capture", capture is null), ("partner", partner is null), ("receivedAt", receivedAt is null), ("event", json.IsEmpty) }
                .Where(m => m.Item2).Select(m => m.Item1);
            throw new FormatException($"The envelope lacks {string.Join(", ", missing)}.");
        }

        Span<byte> hashBytes = stackalloc byte[Hash32.Size];
        if (hash.Length != 2 * Hash32.Size || Convert.FromHexString(hash, hashBytes, out _, out _) != OperationStatus.Done)
        {
            throw new FormatException("\"hash\" is not 64 hex digits.");
        }

        var claimedHash = new Hash32(hashBytes);

        if (!SupplyAuditor.TryHashEvent(json, out var actualHash, out var actualId))
        {
            throw new FormatException("\"event\" is not a readable stored EPCIS event.");
        }

        if (actualHash != claimedHash)
        {
            throw new FormatException($"The event hashes to {actualHash.ToHex()}, the envelope claims {hash}.");
        }

        if (actualId != id)
        {
            throw new FormatException($"The event's ledger id is {actualId}, the envelope claims {id}.");
        }

        return new EventRecord(id, claimedHash, capture, partner, DateTimeOffset.FromUnixTimeMilliseconds(receivedAt.Value), json);
    }
}
