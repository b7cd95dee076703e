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
/// milliseconds. An event of a signed capture travels as version 2, which adds <c>"documentSha256":"&lt;64 hex&gt;",
/// "signature":"&lt;detached JWS&gt;","signingKey":{JWK}</c>: a sealer that predates signed captures refuses it (and
/// dead-letters it) instead of sealing it without its attestation. Unsigned events stay version 1, as before. Decoding checks that the event's content hash and ledger id are those the envelope claims, so a
/// damaged or forged message is refused (and dead-lettered by the sealer) rather than sealed.
/// The embedded log carries the same fields in the binary <see cref="EventRecord"/> form.
/// </summary>
public static class SupplyEventEnvelope
{
    public const int Version = 1;

    /// <summary>The version of an envelope that carries a capture signature.</summary>
    public const int SignedVersion = 2;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Encode(EventRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>(record.Json.Length + 400);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", record.Signed is null ? Version : SignedVersion);
            writer.WriteString("id", record.EventId);
            writer.WriteString("hash", record.EventHash.ToHex());
            writer.WriteString("capture", record.CaptureId);
            writer.WriteString("partner", record.Partner);
            writer.WriteNumber("receivedAt", record.ReceivedAt.ToUnixTimeMilliseconds());
            if (record.Signed is { } signed)
            {
                writer.WriteString("documentSha256", signed.DocumentSha256.ToHex());
                writer.WriteString("signature", signed.Jws);
                writer.WritePropertyName("signingKey");
                JsonSerializer.Serialize(writer, signed.SigningKey);
            }

            writer.WritePropertyName("event");
            writer.WriteRawValue(record.Json.Span, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads and checks an envelope; <see cref="FormatException"/> names what is wrong.</summary>
    public static EventRecord Decode(ReadOnlyMemory<byte> body)
    {
        string? id = null, hash = null, capture = null, partner = null, documentSha256 = null, signature = null;
        EcPublicJwk? signingKey = null;
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
                    case "documentSha256": documentSha256 = reader.GetString(); break;
                    case "signature": signature = reader.GetString(); break;
                    case "signingKey": signingKey = JsonSerializer.Deserialize<EcPublicJwk>(ref reader); break;
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

        if (version is not (Version or SignedVersion))
        {
            throw new FormatException(version is null ? "The envelope has no version \"v\"." : $"Envelope version {version} is not supported (only {Version} and {SignedVersion}).");
        }

        var signed = DecodeSignature(version.Value, documentSha256, signature, signingKey);

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

        return new EventRecord(id, claimedHash, capture, partner, DateTimeOffset.FromUnixTimeMilliseconds(receivedAt.Value), json, signed);
    }

    /// <summary>A version 2 envelope's capture signature, checked as far as it can be without the document: the JWS is
    /// well formed and names the key it carries.</summary>
    private static SignedCapture? DecodeSignature(int version, string? documentSha256, string? signature, EcPublicJwk? signingKey)
    {
        if (version == Version)
        {
            return documentSha256 is null && signature is null && signingKey is null
                ? null
                : throw new FormatException($"A version {Version} envelope carries no capture signature; a signed one is version {SignedVersion}.");
        }

        if (documentSha256 is null || signature is null || signingKey is null)
        {
            throw new FormatException($"A version {SignedVersion} envelope needs documentSha256, signature and signingKey.");
        }

        if (!Hash32.TryFromHex(documentSha256, out var documentHash))
        {
            throw new FormatException("\"documentSha256\" is not 64 hex digits.");
        }

        if (!DetachedJws.TryParse(signature, out var jws, out var failure))
        {
            throw new FormatException($"\"signature\" is not a detached ES256 JWS: {failure}.");
        }

        string thumbprint;
        try
        {
            thumbprint = signingKey.ComputeThumbprint();
        }
        catch (ArgumentException ex)
        {
            throw new FormatException($"\"signingKey\" is not a valid JWK: {ex.Message}", ex);
        }

        if (jws.KeyId != thumbprint)
        {
            throw new FormatException("\"signature\" names another key than \"signingKey\".");
        }

        return new SignedCapture(documentHash, signature, signingKey);
    }
}
