using Btmc.Ledger;

namespace Btmc.Platform.Keys;

/// <summary>
/// An EC signing key held where the process cannot read it out: a Key Vault key in Azure, a local key file in the
/// embedded default and on a committee member's own machine. Signs 32-byte digests as they are (ES256 on P-256,
/// ES256K on secp256k1) and returns raw r || s (IEEE P1363, 64 bytes), the form Key Vault returns.
/// </summary>
public interface ISigningKey
{
    /// <summary>Where the key lives, for messages: a Key Vault key identifier or a file path.</summary>
    string Reference { get; }

    /// <summary>The RFC 7638 thumbprint of <see cref="PublicKey"/>: the key id written into block headers.</summary>
    string KeyId { get; }

    /// <summary>The public half, with <c>kid</c> set to <see cref="KeyId"/>.</summary>
    EcPublicJwk PublicKey { get; }

    /// <summary>Signs <paramref name="digest"/> with the key's algorithm; returns r || s.</summary>
    Task<byte[]> SignDigestAsync(Hash32 digest, CancellationToken cancellationToken = default);
}
