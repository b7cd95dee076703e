using System.Security.Cryptography;

namespace Btmc.Ledger;

/// <summary>ECDSA signatures over a 32-byte digest (the block hash) in IEEE P1363 form: r || s, 64 bytes.</summary>
public static class BlockSignature
{
    /// <summary>The length of an ES256 / ES256K signature in bytes.</summary>
    public const int SignatureSize = 64;

    /// <summary>Signs <paramref name="digest"/> as is (it is not hashed again); returns r || s.</summary>
    /// <exception cref="ArgumentException">The key is not a 256-bit curve key.</exception>
    public static byte[] Sign(ECDsa privateKey, in Hash32 digest)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        if (privateKey.KeySize != 256)
        {
            throw new ArgumentException($"Expected a 256-bit curve key, got {privateKey.KeySize} bits.", nameof(privateKey));
        }

        return privateKey.SignHash(digest.AsSpan(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>True when <paramref name="signature"/> is a valid r || s signature of <paramref name="digest"/> under <paramref name="key"/>.</summary>
    /// <remarks>Returns false, never throws, for signatures of the wrong length or malformed content.</remarks>
    /// <exception cref="ArgumentException">The key itself is malformed.</exception>
    public static bool Verify(EcPublicJwk key, in Hash32 digest, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (signature.Length != SignatureSize)
        {
            return false;
        }

        using var ecdsa = key.CreateECDsa();
        return Verify(ecdsa, digest, signature);
    }

    /// <summary>As <see cref="Verify(EcPublicJwk, in Hash32, ReadOnlySpan{byte})"/> with a key already loaded (for callers that cache keys).</summary>
    public static bool Verify(ECDsa publicKey, in Hash32 digest, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        if (signature.Length != SignatureSize || publicKey.KeySize != 256)
        {
            return false;
        }

        try
        {
            return publicKey.VerifyHash(digest.AsSpan(), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
