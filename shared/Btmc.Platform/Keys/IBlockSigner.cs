using Btmc.Ledger;

namespace Btmc.Platform.Keys;

/// <summary>
/// A producer's signing key, held where the process cannot read it out (Key Vault in Azure, a local key file in the
/// embedded default). Signs 32-byte digests; returns raw r||s as Key Vault does.
/// </summary>
public interface IBlockSigner
{
    string ProducerId { get; }

    /// <summary>The key id written into block headers: the RFC 7638 thumbprint of <see cref="PublicKey"/>.</summary>
    string KeyId { get; }

    EcPublicJwk PublicKey { get; }

    Task<byte[]> SignDigestAsync(Hash32 digest, CancellationToken cancellationToken = default);
}
