using System.Buffers.Binary;
using System.Text;

namespace Btmc.Ledger;

/// <summary>
/// What a partner signed when it captured an event (docs/partners.md, "Signed captures"): the SHA-256 of the exact
/// request body, the detached JWS (<see cref="DetachedJws"/>) over that body, and the partner's registered P-256
/// public key the JWS verified with at capture time. The ledger leaf of each of the capture's events (format 0x03)
/// ends with <see cref="ComputeAttestation"/>, which binds the document hash and the JWS; the JWS's protected header
/// names the key by its thumbprint (<c>kid</c>), which binds the key.
/// </summary>
/// <param name="DocumentSha256">SHA-256 of the request body exactly as sent and signed.</param>
/// <param name="Jws">The detached compact JWS, as received in the <c>Btmc-Signature</c> header.</param>
/// <param name="SigningKey">The partner's registered public key the JWS verified with.</param>
public sealed record SignedCapture(Hash32 DocumentSha256, string Jws, EcPublicJwk SigningKey)
{
    /// <summary>The domain separation tag that starts the attestation encoding.</summary>
    public const string AttestationTag = "btmc-signed-capture-v1";

    /// <summary>
    /// The capture attestation digest: <c>SHA-256(u16 len(tag) | tag | document SHA-256 (32) | u16 len(JWS) | JWS)</c>,
    /// tag = <see cref="AttestationTag"/>, lengths big-endian in bytes, the JWS as ASCII (docs/ledger-format.md).
    /// </summary>
    /// <exception cref="ArgumentException">The JWS is empty, longer than <see cref="DetachedJws.MaxLength"/> or not ASCII.</exception>
    public Hash32 ComputeAttestation()
    {
        if (string.IsNullOrEmpty(Jws) || Jws.Length > DetachedJws.MaxLength || !Ascii.IsValid(Jws))
        {
            throw new ArgumentException($"A capture signature is 1..{DetachedJws.MaxLength} ASCII characters.", nameof(Jws));
        }

        var tagLength = AttestationTag.Length;
        var buffer = new byte[2 + tagLength + Hash32.Size + 2 + Jws.Length];
        BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)tagLength);
        Encoding.ASCII.GetBytes(AttestationTag, buffer.AsSpan(2));
        DocumentSha256.CopyTo(buffer.AsSpan(2 + tagLength));
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2 + tagLength + Hash32.Size), (ushort)Jws.Length);
        Encoding.ASCII.GetBytes(Jws, buffer.AsSpan(2 + tagLength + Hash32.Size + 2));
        return Hash32.Compute(buffer);
    }
}
