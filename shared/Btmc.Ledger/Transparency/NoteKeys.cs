using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Btmc.Ledger.Transparency;

/// <summary>
/// Signed-note ECDSA signatures, type 0x02 of c2sp.org/signed-note (as github.com/transparency-dev/witness and the
/// Sigstore Rekor log implement them): the key ID is the first four bytes of SHA-256 of the public key's DER
/// SubjectPublicKeyInfo, the signature is ASN.1 DER ECDSA over SHA-256 of the note text. Producers sign their chains'
/// checkpoints this way because their keys are Key Vault EC keys, which cannot do Ed25519.
/// </summary>
public static class EcdsaNoteKey
{
    /// <summary>The signature type byte of verifier keys.</summary>
    public const byte SignatureType = 0x02;

    /// <summary>The key ID of <paramref name="key"/>: SHA-256(SPKI DER)[:4], big-endian.</summary>
    public static uint KeyIdOf(EcPublicJwk key) => KeyIdOf(SubjectPublicKeyInfo(key));

    /// <inheritdoc cref="KeyIdOf(EcPublicJwk)"/>
    public static uint KeyIdOf(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(subjectPublicKeyInfo));

    /// <summary>The DER SubjectPublicKeyInfo of an EC public key.</summary>
    public static byte[] SubjectPublicKeyInfo(EcPublicJwk key)
    {
        using var ecdsa = key.CreateECDsa();
        return ecdsa.ExportSubjectPublicKeyInfo();
    }

    /// <summary>The verifier key (vkey): <c>name+hex(key ID)+base64(0x02 || SPKI)</c>.</summary>
    public static string VerifierKey(string name, EcPublicJwk key)
    {
        var spki = SubjectPublicKeyInfo(key);
        return $"{name}+{KeyIdOf(spki):x8}+{Convert.ToBase64String([SignatureType, .. spki])}";
    }

    /// <summary>
    /// Signs <paramref name="text"/> with a key that signs digests (a Key Vault key, a key file), which returns r || s;
    /// the note carries the DER form.
    /// </summary>
    public static async Task<NoteSignature> SignAsync(string keyName, EcPublicJwk key, string text, Func<Hash32, CancellationToken, Task<byte[]>> signDigest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signDigest);
        if (!SignedNote.IsValidKeyName(keyName))
        {
            throw new ArgumentException($"'{keyName}' is not a valid key name.", nameof(keyName));
        }

        var digest = Hash32.Compute(Encoding.UTF8.GetBytes(text));
        var raw = await signDigest(digest, cancellationToken).ConfigureAwait(false);
        return new NoteSignature(keyName, KeyIdOf(key), P1363ToDer(raw));
    }

    /// <summary>
    /// True when <paramref name="note"/> carries a signature line with <paramref name="keyName"/> and this key's ID
    /// that verifies over the note text. Lines of other keys are ignored, as the spec requires.
    /// </summary>
    public static bool Verify(SignedNote note, string keyName, EcPublicJwk key)
    {
        ArgumentNullException.ThrowIfNull(note);
        uint keyId;
        ECDsa ecdsa;
        try
        {
            keyId = KeyIdOf(key);
            ecdsa = key.CreateECDsa();
        }
        catch (ArgumentException)
        {
            return false;
        }

        using (ecdsa)
        {
            var text = note.TextBytes;
            foreach (var signature in note.Signatures)
            {
                if (signature.KeyName == keyName && signature.KeyId == keyId)
                {
                    return VerifyDer(ecdsa, text, signature.Signature);
                }
            }
        }

        return false;
    }

    /// <summary>ECDSA over SHA-256 of <paramref name="message"/>, the signature in DER; false for malformed signatures.</summary>
    internal static bool VerifyDer(ECDsa key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> derSignature)
    {
        try
        {
            return key.VerifyData(message, derSignature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>r || s (two equal halves) as the DER SEQUENCE { INTEGER r, INTEGER s } ECDSA verifiers read.</summary>
    public static byte[] P1363ToDer(ReadOnlySpan<byte> rs)
    {
        if (rs.Length == 0 || rs.Length % 2 != 0)
        {
            throw new ArgumentException($"An r || s signature has two equal halves; got {rs.Length} bytes.", nameof(rs));
        }

        var half = rs.Length / 2;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(new BigInteger(rs[..half], isUnsigned: true, isBigEndian: true));
            writer.WriteInteger(new BigInteger(rs[half..], isUnsigned: true, isBigEndian: true));
        }

        return writer.Encode();
    }
}
