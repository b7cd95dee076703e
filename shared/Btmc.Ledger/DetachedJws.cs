using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Btmc.Ledger;

/// <summary>
/// A JWS (RFC 7515) in compact serialization with a detached payload (appendix F):
/// <c>BASE64URL(header) ".." BASE64URL(signature)</c>. The signature is ES256 (ECDSA P-256 over SHA-256, IEEE P1363
/// r || s, 64 bytes) over the signing input <c>BASE64URL(header) "." BASE64URL(payload)</c>, the payload being the
/// exact bytes that were sent. The protected header is <c>{"alg":"ES256","kid":"&lt;RFC 7638 thumbprint of the
/// signer's P-256 key&gt;"}</c>; other members are allowed and ignored, except <c>crit</c> (no extension is
/// understood) and <c>b64</c> other than true (RFC 7797 unencoded payloads are not supported).
/// </summary>
/// <param name="EncodedHeader">The first part as sent: base64url of the protected header.</param>
/// <param name="Algorithm">The header's <c>alg</c>: always ES256 once parsed.</param>
/// <param name="KeyId">The header's <c>kid</c>: the thumbprint of the key that signed.</param>
/// <param name="Signature">r || s, 64 bytes.</param>
public sealed record DetachedJws(string EncodedHeader, string Algorithm, string KeyId, ReadOnlyMemory<byte> Signature)
{
    /// <summary>The only algorithm accepted.</summary>
    public const string ES256 = "ES256";

    /// <summary>The longest JWS text accepted; an honest one is under 200 characters.</summary>
    public const int MaxLength = 4096;

    /// <summary>
    /// Signs <paramref name="payload"/> with a P-256 key; returns the detached compact JWS whose <c>kid</c> is the
    /// key's RFC 7638 thumbprint.
    /// </summary>
    /// <exception cref="ArgumentException">The key is not a P-256 key.</exception>
    public static string Sign(ECDsa key, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(key);
        var jwk = EcPublicJwk.FromECDsa(key);
        if (jwk.Crv != EcPublicJwk.CurveP256)
        {
            throw new ArgumentException($"A capture is signed with a P-256 key (ES256), not {jwk.Crv}.", nameof(key));
        }

        // The thumbprint is base64url, so it needs no JSON escaping.
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"{{ES256}}","kid":"{{jwk.ComputeThumbprint()}}"}"""));
        var signature = key.SignHash(Hash32.Compute(SigningInput(header, payload)).AsSpan(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return header + ".." + Base64Url.EncodeToString(signature);
    }

    /// <summary>
    /// True when <paramref name="jws"/> is a well-formed detached ES256 JWS whose <c>kid</c> is the thumbprint of
    /// <paramref name="key"/> and whose signature verifies over <paramref name="payload"/> with that key; otherwise
    /// false, and <paramref name="failure"/> says why. Never throws for a bad JWS.
    /// </summary>
    /// <exception cref="ArgumentException">The key itself is malformed or not on P-256.</exception>
    public static bool Verify(string? jws, ReadOnlySpan<byte> payload, EcPublicJwk key, out string failure)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Crv != EcPublicJwk.CurveP256)
        {
            throw new ArgumentException($"ES256 needs a P-256 key, not {key.Crv}.", nameof(key));
        }

        if (!TryParse(jws, out var parsed, out failure))
        {
            return false;
        }

        var thumbprint = key.ComputeThumbprint();
        if (!string.Equals(parsed.KeyId, thumbprint, StringComparison.Ordinal))
        {
            failure = $"the JWS header's kid '{parsed.KeyId}' is not the registered key's thumbprint '{thumbprint}'";
            return false;
        }

        if (!VerifyEs256(key, SigningInput(parsed.EncodedHeader, payload), parsed.Signature.Span))
        {
            failure = "the ES256 signature does not verify over the payload with the registered key";
            return false;
        }

        failure = string.Empty;
        return true;
    }

    /// <summary>
    /// Reads a detached compact JWS strictly: three parts of canonical unpadded base64url, the middle one empty; a
    /// protected header that is a JSON object (no member twice) with <c>alg</c> ES256 and a <c>kid</c>, no
    /// <c>crit</c>, no <c>b64</c> other than true; a signature of exactly 64 bytes. False, with the reason, otherwise.
    /// </summary>
    public static bool TryParse(string? jws, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DetachedJws? parsed, out string failure)
    {
        parsed = null;
        if (string.IsNullOrEmpty(jws))
        {
            failure = "the JWS is empty";
            return false;
        }

        if (jws.Length > MaxLength)
        {
            failure = $"the JWS is {jws.Length} characters; at most {MaxLength} are accepted";
            return false;
        }

        var parts = jws.Split('.');
        if (parts.Length != 3)
        {
            failure = "a compact JWS has three parts separated by '.'";
            return false;
        }

        if (parts[1].Length != 0)
        {
            failure = "the payload part is not empty: the JWS must be detached (RFC 7515 appendix F), BASE64URL(header) '..' BASE64URL(signature)";
            return false;
        }

        if (!TryDecodeBase64Url(parts[0], out var headerBytes))
        {
            failure = "the protected header is not canonical unpadded base64url";
            return false;
        }

        if (!TryDecodeBase64Url(parts[2], out var signature))
        {
            failure = "the signature is not canonical unpadded base64url";
            return false;
        }

        if (signature.Length != BlockSignature.SignatureSize)
        {
            failure = $"the signature is {signature.Length} bytes; ES256 is r || s, {BlockSignature.SignatureSize} bytes";
            return false;
        }

        if (!TryReadHeader(headerBytes, out var alg, out var kid, out failure))
        {
            return false;
        }

        parsed = new DetachedJws(parts[0], alg, kid, signature);
        return true;
    }

    /// <summary>
    /// The ES256 primitive: true when <paramref name="signature"/> (r || s) is a valid ECDSA P-256 signature of
    /// SHA-256(<paramref name="signingInput"/>) under <paramref name="key"/>. False, never an exception, for a
    /// signature of the wrong length or with r or s out of range.
    /// </summary>
    /// <exception cref="ArgumentException">The key itself is malformed.</exception>
    public static bool VerifyEs256(EcPublicJwk key, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature) =>
        BlockSignature.Verify(key, Hash32.Compute(signingInput), signature);

    /// <summary>The JWS signing input: <c>ASCII(encodedHeader "." BASE64URL(payload))</c>.</summary>
    public static byte[] SigningInput(string encodedHeader, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(encodedHeader);
        var input = new byte[encodedHeader.Length + 1 + Base64Url.GetEncodedLength(payload.Length)];
        Encoding.ASCII.GetBytes(encodedHeader, input);
        input[encodedHeader.Length] = (byte)'.';
        Base64Url.EncodeToUtf8(payload, input.AsSpan(encodedHeader.Length + 1));
        return input;
    }

    private static bool TryReadHeader(byte[] header, out string alg, out string kid, out string failure)
    {
        alg = kid = string.Empty;
        string? foundAlg = null, foundKid = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var reader = new Utf8JsonReader(header);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                failure = "the protected header is not a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                reader.Read();

                // RFC 7515 section 5.2: a header with a member name twice is rejected (or the last one used); rejected here.
                if (!seen.Add(name))
                {
                    failure = $"the protected header names '{name}' twice";
                    return false;
                }

                switch (name)
                {
                    case "alg" when reader.TokenType == JsonTokenType.String:
                        foundAlg = reader.GetString();
                        break;
                    case "kid" when reader.TokenType == JsonTokenType.String:
                        foundKid = reader.GetString();
                        break;
                    case "alg" or "kid":
                        failure = $"the header's {name} is not a string";
                        return false;
                    case "crit":
                        failure = "the header lists critical extensions ('crit'), and none is understood here";
                        return false;
                    case "b64" when reader.TokenType != JsonTokenType.True:
                        failure = "the header sets b64 (RFC 7797 unencoded payload), which is not supported: the payload is base64url-encoded in the signing input";
                        return false;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                failure = "the protected header is not one JSON object";
                return false;
            }
        }
        catch (JsonException)
        {
            failure = "the protected header is not valid JSON";
            return false;
        }

        if (foundAlg != ES256)
        {
            failure = foundAlg is null ? "the header has no alg" : $"the header's alg is '{foundAlg}'; only {ES256} is accepted";
            return false;
        }

        if (string.IsNullOrEmpty(foundKid))
        {
            failure = "the header has no kid (the RFC 7638 thumbprint of the signing key)";
            return false;
        }

        (alg, kid, failure) = (foundAlg, foundKid, string.Empty);
        return true;
    }

    // Canonical unpadded base64url: no padding, no other characters, and the unused low bits of the last character zero
    // (so that one value has one text, and a JWS cannot be altered without altering what it says).
    private static bool TryDecodeBase64Url(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || text.Length % 4 == 1)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        var decoded = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
        if (Base64Url.DecodeFromChars(text, decoded, out var consumed, out var written) != OperationStatus.Done || consumed != text.Length)
        {
            return false;
        }

        bytes = decoded[..written];
        return string.Equals(Base64Url.EncodeToString(bytes), text, StringComparison.Ordinal);
    }
}
