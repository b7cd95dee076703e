using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Btmc.Ledger;

namespace Btmc.Supply.Storage;

/// <summary>
/// One accepted event as it travels on the supply-events stream from capture to the sealer.
/// Binary body: u8 version (1, or 2 for a signed capture) | 32 event hash | i64 received (Unix ms) | u16+UTF-8 event id |
/// u16+UTF-8 capture id | u16+UTF-8 partner | [version 2: 32 document SHA-256 | u16+ASCII JWS | u16+UTF-8 signing key
/// JWK JSON] | u32 + event JSON bytes (as submitted). Integers big-endian. An unsigned capture's record is version 1,
/// byte for byte as before signed captures, so logs written earlier read as they did.
/// </summary>
public sealed record EventRecord(string EventId, Hash32 EventHash, string CaptureId, string Partner, DateTimeOffset ReceivedAt, ReadOnlyMemory<byte> Json, SignedCapture? Signed = null)
{
    private const byte Version = 1;
    private const byte SignedVersion = 2;

    public byte[] Encode()
    {
        var id = Encoding.UTF8.GetBytes(EventId);
        var capture = Encoding.UTF8.GetBytes(CaptureId);
        var partner = Encoding.UTF8.GetBytes(Partner);
        var jws = Signed is null ? [] : Encoding.ASCII.GetBytes(Signed.Jws);
        var key = Signed is null ? [] : JsonSerializer.SerializeToUtf8Bytes(Signed.SigningKey);
        var signedLength = Signed is null ? 0 : Hash32.Size + 2 + jws.Length + 2 + key.Length;
        var buffer = new byte[1 + Hash32.Size + 8 + 2 + id.Length + 2 + capture.Length + 2 + partner.Length + signedLength + 4 + Json.Length];
        var span = buffer.AsSpan();
        span[0] = Signed is null ? Version : SignedVersion;
        EventHash.CopyTo(span[1..]);
        var at = 1 + Hash32.Size;
        BinaryPrimitives.WriteInt64BigEndian(span[at..], ReceivedAt.ToUnixTimeMilliseconds());
        at += 8;
        at = WriteShort(span, at, id);
        at = WriteShort(span, at, capture);
        at = WriteShort(span, at, partner);
        if (Signed is not null)
        {
            Signed.DocumentSha256.CopyTo(span[at..]);
            at = WriteShort(span, at + Hash32.Size, jws);
            at = WriteShort(span, at, key);
        }

        BinaryPrimitives.WriteInt32BigEndian(span[at..], Json.Length);
        Json.Span.CopyTo(span[(at + 4)..]);
        return buffer;
    }

    /// <summary>The event JSON inside an encoded record, without decoding the rest.</summary>
    public static ReadOnlyMemory<byte> JsonOf(ReadOnlyMemory<byte> body) => Decode(body).Json;

    public static EventRecord Decode(ReadOnlyMemory<byte> body)
    {
        var span = body.Span;
        if (span.Length < 1 + Hash32.Size + 8 + 10 || span[0] is not (Version or SignedVersion))
        {
            throw new FormatException("Not a version 1 or 2 event record.");
        }

        var hash = new Hash32(span.Slice(1, Hash32.Size));
        var at = 1 + Hash32.Size;
        var received = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(span[at..]));
        at += 8;
        var id = ReadShort(span, ref at);
        var capture = ReadShort(span, ref at);
        var partner = ReadShort(span, ref at);
        SignedCapture? signed = null;
        if (span[0] == SignedVersion)
        {
            var documentSha256 = new Hash32(span.Slice(at, Hash32.Size));
            at += Hash32.Size;
            var jws = ReadShort(span, ref at);
            signed = new SignedCapture(documentSha256, jws, ReadKey(ReadShort(span, ref at)));
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(span[at..]);
        at += 4;
        if (length < 0 || at + length != span.Length)
        {
            throw new FormatException("Event record length does not match its body.");
        }

        return new EventRecord(id, hash, capture, partner, received, body.Slice(at, length), signed);
    }

    private static EcPublicJwk ReadKey(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<EcPublicJwk>(json) ?? throw new FormatException("The event record's signing key is empty.");
        }
        catch (JsonException ex)
        {
            throw new FormatException("The event record's signing key is not a JWK.", ex);
        }
    }

    private static int WriteShort(Span<byte> span, int at, byte[] value)
    {
        if (value.Length > ushort.MaxValue)
        {
            throw new ArgumentException("Field too long for an event record.");
        }

        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)value.Length);
        value.CopyTo(span[(at + 2)..]);
        return at + 2 + value.Length;
    }

    private static string ReadShort(ReadOnlySpan<byte> span, ref int at)
    {
        var length = BinaryPrimitives.ReadUInt16BigEndian(span[at..]);
        var value = Encoding.UTF8.GetString(span.Slice(at + 2, length));
        at += 2 + length;
        return value;
    }
}
