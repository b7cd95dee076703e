using Azure;
using Azure.Core;
using Btmc.Ledger;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// A producer's signing key held in Key Vault: the private key never leaves the vault. Opened once from a key
/// identifier, it pins one key version (the given one, or the latest at opening), so a key rotation in the vault
/// cannot silently change the key blocks are signed with. Every signature the vault returns is verified here
/// against the public key fetched at opening before it is handed out, so a wrong key or a vault fault cannot reach a
/// block.
/// </summary>
public sealed class KeyVaultSigningKey : ISigningKey
{
    private readonly CryptographyClient _cryptography;

    private KeyVaultSigningKey(CryptographyClient cryptography, EcPublicJwk publicKey, string keyId)
    {
        _cryptography = cryptography;
        PublicKey = publicKey;
        KeyId = keyId;
    }

    /// <summary>The pinned, versioned Key Vault key identifier (<c>https://{vault}/keys/{name}/{version}</c>).</summary>
    public string Reference => _cryptography.KeyId;

    /// <inheritdoc />
    public string KeyId { get; }

    /// <inheritdoc />
    public EcPublicJwk PublicKey { get; }

    /// <summary>
    /// Fetches the public key of <paramref name="keyId"/> (Get Key) and pins its version. The key must be an EC key
    /// on P-256 (signs ES256) or P-256K (signs ES256K).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="keyId"/> is not a key identifier.</exception>
    /// <exception cref="InvalidOperationException">The key is not such an EC key, or the vault answered another key.</exception>
    /// <exception cref="RequestFailedException">The vault refused or did not answer.</exception>
    public static async Task<KeyVaultSigningKey> OpenAsync(
        Uri keyId, TokenCredential credential, KeyClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        var requested = new KeyVaultKeyIdentifier(keyId);
        var client = new KeyClient(requested.VaultUri, credential, options);
        KeyVaultKey key = await client.GetKeyAsync(requested.Name, requested.Version, cancellationToken).ConfigureAwait(false);

        if (key.Version is null
            || !string.Equals(key.Name, requested.Name, StringComparison.OrdinalIgnoreCase)
            || (requested.Version is not null && !string.Equals(key.Version, requested.Version, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"Asked Key Vault for key '{requested.SourceId}', it answered '{key.Id}'.");
        }

        var publicKey = key.Key.ToEcPublicJwk();
        var thumbprint = publicKey.ComputeThumbprint();
        return new KeyVaultSigningKey(client.GetCryptographyClient(key.Name, key.Version), publicKey with { Kid = thumbprint }, thumbprint);
    }

    /// <summary>Signs <paramref name="digest"/> in the vault with the pinned key version and checks the signature here.</summary>
    /// <exception cref="InvalidOperationException">The vault's signature does not verify against <see cref="PublicKey"/>.</exception>
    /// <exception cref="RequestFailedException">The vault refused or did not answer.</exception>
    public async Task<byte[]> SignDigestAsync(Hash32 digest, CancellationToken cancellationToken = default)
    {
        var result = await _cryptography.SignAsync(PublicKey.Algorithm, digest.ToArray(), cancellationToken).ConfigureAwait(false);
        if (!BlockSignature.Verify(PublicKey, digest, result.Signature))
        {
            throw new InvalidOperationException(
                $"Key Vault key '{Reference}' returned a {result.Signature.Length}-byte {result.Algorithm} signature (kid '{result.KeyId}') "
                + $"that does not verify against its public key {KeyId}; it was not used.");
        }

        return result.Signature;
    }
}
