using System.Security.Cryptography;
using Btmc.Ledger;

namespace Btmc.Platform.Keys;

/// <summary>
/// A signing key in a local PKCS#8 PEM file readable by its owner only: the embedded default's producer keys, and a
/// committee member's or token holder's own key on their machine. P-256 (ES256) or secp256k1 (ES256K).
/// </summary>
public sealed class LocalKeyFileSigner : ISigningKey, IDisposable
{
    private readonly ECDsa _key;

    private LocalKeyFileSigner(string path, ECDsa key)
    {
        Reference = path;
        _key = key;
        var publicKey = EcPublicJwk.FromECDsa(key);
        KeyId = publicKey.ComputeThumbprint();
        PublicKey = publicKey with { Kid = KeyId };
    }

    public string Reference { get; }

    public string KeyId { get; }

    public EcPublicJwk PublicKey { get; }

    /// <summary>Whether <see cref="OpenOrCreate"/> created the key file.</summary>
    public bool Created { get; private init; }

    /// <summary>Loads the key file, or creates it (mode 0600) on <paramref name="curve"/> (P-256 by default) when it does not exist.</summary>
    /// <exception cref="ArgumentException">The file holds a key on another curve.</exception>
    public static LocalKeyFileSigner OpenOrCreate(string path, SignatureAlgorithm curve = SignatureAlgorithm.ES256)
    {
        if (File.Exists(path))
        {
            return Open(path);
        }

        var created = ECDsa.Create(curve == SignatureAlgorithm.ES256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromValue("1.3.132.0.10"));
        OwnerOnlyFile.Write(path, created.ExportPkcs8PrivateKeyPem());
        return new LocalKeyFileSigner(path, created) { Created = true };
    }

    /// <summary>Loads an existing key file.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="ArgumentException">The file is not a P-256 or secp256k1 private key in PEM.</exception>
    public static LocalKeyFileSigner Open(string path)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            return new LocalKeyFileSigner(path, key);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new ArgumentException($"{path} is not a P-256 or secp256k1 private key in PEM: {ex.Message}", nameof(path), ex);
        }
    }

    public Task<byte[]> SignDigestAsync(Hash32 digest, CancellationToken cancellationToken = default) =>
        Task.FromResult(BlockSignature.Sign(_key, digest));

    public void Dispose() => _key.Dispose();
}
