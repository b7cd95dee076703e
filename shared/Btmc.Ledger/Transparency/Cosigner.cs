using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Btmc.Ledger.Transparency;

/// <summary>How a cosigner signs.</summary>
public enum CosignatureAlgorithm
{
    /// <summary>c2sp.org/tlog-cosignature v1: timestamped Ed25519, signature type 0x04.</summary>
    Ed25519,

    /// <summary>
    /// BTMC's ECDSA variant of the same statement, for witness keys in Azure Key Vault (which has no Ed25519): the
    /// same <c>cosignature/v1</c> message and timestamped layout, ECDSA P-256 over SHA-256 with a DER signature,
    /// signature type 0xff followed by <see cref="Cosigner.EcdsaIdentifier"/> (signed-note's byte for types it does
    /// not assign).
    /// </summary>
    EcdsaP256,
}

/// <summary>
/// A witness's public identity: its name, algorithm and public key (32 raw bytes for Ed25519, DER SubjectPublicKeyInfo
/// for ECDSA). Computes the key ID, reads and writes verifier keys, and verifies cosignatures on checkpoints.
/// </summary>
public sealed record Cosigner(string Name, CosignatureAlgorithm Algorithm, byte[] PublicKey)
{
    /// <summary>Signature type of Ed25519 cosignatures.</summary>
    public const byte Ed25519Type = 0x04;

    /// <summary>Signature type byte for types signed-note does not assign, followed by a longer identifier.</summary>
    public const byte ExtensionType = 0xff;

    /// <summary>The identifier after <see cref="ExtensionType"/> for BTMC's ECDSA cosignatures.</summary>
    public const string EcdsaIdentifier = "btmc-ecdsa-cosignature/v1";

    /// <summary>The first line of the signed message, for domain separation.</summary>
    public const string Header = "cosignature/v1";

    /// <summary>The type bytes of the key ID and verifier key: 0x04, or 0xff and the identifier.</summary>
    public byte[] TypeBytes => Algorithm == CosignatureAlgorithm.Ed25519
        ? [Ed25519Type]
        : [ExtensionType, .. Encoding.ASCII.GetBytes(EcdsaIdentifier)];

    /// <summary>SHA-256(name || 0x0A || type bytes || public key)[:4], big-endian.</summary>
    public uint KeyId
    {
        get
        {
            var input = Encoding.UTF8.GetBytes(Name + "\n").Concat(TypeBytes).Concat(PublicKey).ToArray();
            return BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(input));
        }
    }

    /// <summary>The verifier key: <c>name+hex(key ID)+base64(type bytes || public key)</c>.</summary>
    public string ToVerifierKey() => $"{Name}+{KeyId:x8}+{Convert.ToBase64String([.. TypeBytes, .. PublicKey])}";

    /// <summary>A cosigner from its verifier key.</summary>
    /// <exception cref="FormatException">Not three '+'-separated parts, a bad name, base64 or key, an unknown type, or a key ID that does not match.</exception>
    public static Cosigner ParseVerifierKey(string verifierKey)
    {
        ArgumentNullException.ThrowIfNull(verifierKey);
        var parts = verifierKey.Trim().Split('+', 3);
        if (parts.Length != 3 || !SignedNote.IsValidKeyName(parts[0]))
        {
            throw new FormatException("A verifier key is name+hex(key ID)+base64(type || public key).");
        }

        byte[] material;
        try
        {
            material = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException ex)
        {
            throw new FormatException("The verifier key's key material is not base64.", ex);
        }

        var ecdsaType = new Cosigner(parts[0], CosignatureAlgorithm.EcdsaP256, []).TypeBytes;
        Cosigner cosigner;
        if (material is [Ed25519Type, ..] && material.Length == 33)
        {
            cosigner = new Cosigner(parts[0], CosignatureAlgorithm.Ed25519, material[1..]);
        }
        else if (material.AsSpan().StartsWith(ecdsaType))
        {
            cosigner = new Cosigner(parts[0], CosignatureAlgorithm.EcdsaP256, material[ecdsaType.Length..]);
            try
            {
                using var key = ECDsa.Create();
                key.ImportSubjectPublicKeyInfo(cosigner.PublicKey, out var read);
                if (read != cosigner.PublicKey.Length || key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
                {
                    throw new FormatException("The ECDSA cosigner key must be a P-256 SubjectPublicKeyInfo.");
                }
            }
            catch (CryptographicException ex)
            {
                throw new FormatException("The ECDSA cosigner key is not a valid SubjectPublicKeyInfo.", ex);
            }
        }
        else
        {
            throw new FormatException("The verifier key is neither an Ed25519 cosigner (0x04) nor a BTMC ECDSA cosigner (0xff btmc-ecdsa-cosignature/v1).");
        }

        if (!uint.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var keyId) || parts[1].Length != 8 || keyId != cosigner.KeyId)
        {
            throw new FormatException($"The verifier key's key ID '{parts[1]}' is not {cosigner.KeyId:x8}, the ID of its name and key.");
        }

        return cosigner;
    }

    /// <summary>The signed message: <c>cosignature/v1</c>, <c>time &lt;timestamp&gt;</c>, then the checkpoint text.</summary>
    public static byte[] Message(string checkpointText, long timestamp) =>
        Encoding.UTF8.GetBytes($"{Header}\ntime {timestamp.ToString(CultureInfo.InvariantCulture)}\n{checkpointText}");

    /// <summary>
    /// This cosigner's timestamp on <paramref name="note"/> when it carries a line with this name and key ID whose
    /// signature verifies over the note's text; null otherwise (no such line, a bad signature).
    /// </summary>
    public DateTimeOffset? Verify(SignedNote note)
    {
        ArgumentNullException.ThrowIfNull(note);
        var keyId = KeyId;
        var line = note.Signatures.FirstOrDefault(s => s.KeyName == Name && s.KeyId == keyId);
        if (line is null || line.Signature.Length < 9)
        {
            return null;
        }

        var timestamp = BinaryPrimitives.ReadUInt64BigEndian(line.Signature);
        if (timestamp > long.MaxValue || timestamp > (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return null;
        }

        var message = Message(note.Text, (long)timestamp);
        var signature = line.Signature.AsSpan(8);
        bool valid;
        if (Algorithm == CosignatureAlgorithm.Ed25519)
        {
            if (PublicKey.Length != Ed25519PublicKeyParameters.KeySize || signature.Length != Ed25519.SignatureSize)
            {
                return null;
            }

            var verifier = new Ed25519Signer();
            verifier.Init(false, new Ed25519PublicKeyParameters(PublicKey));
            verifier.BlockUpdate(message, 0, message.Length);
            valid = verifier.VerifySignature(signature.ToArray());
        }
        else
        {
            using var key = ECDsa.Create();
            try
            {
                key.ImportSubjectPublicKeyInfo(PublicKey, out _);
            }
            catch (CryptographicException)
            {
                return null;
            }

            valid = EcdsaNoteKey.VerifyDer(key, message, signature);
        }

        return valid ? DateTimeOffset.FromUnixTimeSeconds((long)timestamp) : null;
    }

    /// <summary>The cosigner of an Ed25519 private key.</summary>
    public static Cosigner OfEd25519(string name, Ed25519PrivateKeyParameters privateKey) =>
        new(name, CosignatureAlgorithm.Ed25519, privateKey.GeneratePublicKey().GetEncoded());

    /// <summary>The cosigner of an EC P-256 public key.</summary>
    public static Cosigner OfEcdsa(string name, EcPublicJwk publicKey) =>
        publicKey.Crv == EcPublicJwk.CurveP256
            ? new(name, CosignatureAlgorithm.EcdsaP256, EcdsaNoteKey.SubjectPublicKeyInfo(publicKey))
            : throw new ArgumentException("ECDSA cosigner keys are P-256.", nameof(publicKey));

    /// <summary>Cosigns <paramref name="checkpointText"/> at <paramref name="time"/> (whole seconds) with an Ed25519 key.</summary>
    public NoteSignature SignEd25519(Ed25519PrivateKeyParameters privateKey, string checkpointText, DateTimeOffset time)
    {
        var timestamp = time.ToUnixTimeSeconds();
        var message = Message(checkpointText, timestamp);
        var signer = new Ed25519Signer();
        signer.Init(true, privateKey);
        signer.BlockUpdate(message, 0, message.Length);
        return new NoteSignature(Name, KeyId, [.. TimestampBytes(timestamp), .. signer.GenerateSignature()]);
    }

    /// <summary>Cosigns with an EC key that signs digests and returns r || s (a Key Vault key, a key file).</summary>
    public async Task<NoteSignature> SignEcdsaAsync(Func<Hash32, CancellationToken, Task<byte[]>> signDigest, string checkpointText, DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signDigest);
        var timestamp = time.ToUnixTimeSeconds();
        var raw = await signDigest(Hash32.Compute(Message(checkpointText, timestamp)), cancellationToken).ConfigureAwait(false);
        return new NoteSignature(Name, KeyId, [.. TimestampBytes(timestamp), .. EcdsaNoteKey.P1363ToDer(raw)]);
    }

    private static byte[] TimestampBytes(long timestamp)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, (ulong)timestamp);
        return bytes;
    }

    private static class Ed25519
    {
        public const int SignatureSize = 64;
    }
}
