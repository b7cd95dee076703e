using System.Security.Cryptography;
using Btmc.Ledger;

namespace Btmc.Platform.Keys;

/// <summary>
/// The embedded default's producer key: a P-256 private key in a PKCS#8 PEM file readable by the owner only,
/// created on first use.
/// </summary>
public sealed class LocalKeyFileSigner : IBlockSigner, IDisposable
{
    private readonly ECDsa _key;

    private LocalKeyFileSigner(string producerId, ECDsa key)
    {
        ProducerId = producerId;
        _key = key;
        PublicKey = EcPublicJwk.FromECDsa(key);
        KeyId = PublicKey.ComputeThumbprint();
        PublicKey = PublicKey with { Kid = KeyId };
    }

    public string ProducerId { get; }

    public string KeyId { get; }

    public EcPublicJwk PublicKey { get; }

    /// <summary>Whether <see cref="OpenOrCreate"/> created the key file.</summary>
    public bool Created { get; private init; }

    /// <summary>Loads the key file, or creates it (mode 0600) when it does not exist.</summary>
    public static LocalKeyFileSigner OpenOrCreate(string path, string producerId)
    {
        if (File.Exists(path))
        {
            var key = ECDsa.Create();
            key.ImportFromPem(File.ReadAllText(path));
            return new LocalKeyFileSigner(producerId, key);
        }

        var created = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        OwnerOnlyFile.Write(path, created.ExportPkcs8PrivateKeyPem());
        return new LocalKeyFileSigner(producerId, created) { Created = true };
    }

    public Task<byte[]> SignDigestAsync(Hash32 digest, CancellationToken cancellationToken = default) =>
        Task.FromResult(BlockSignature.Sign(_key, digest));

    public void Dispose() => _key.Dispose();
}
