using System.Buffers.Text;
using Azure;
using Azure.Core;
using Azure.Security.KeyVault.Keys;
using Azure.Security.KeyVault.Keys.Cryptography;
using Btmc.Ledger;
using Btmc.Platform.Keys;
using LedgerAlgorithm = Btmc.Ledger.SignatureAlgorithm;
using VaultAlgorithm = Azure.Security.KeyVault.Keys.Cryptography.SignatureAlgorithm;

namespace Btmc.Platform.Azure.Keys;

/// <summary>
/// A producer's or committee member's signing key held in Key Vault, through the official SDK: the private key never
/// leaves the vault. Opened once from a key identifier with <see cref="KeyClient"/>, it pins one key version (the
/// given one, or the latest at opening), so a key rotation in the vault cannot silently change the key blocks are
/// signed with; digests are signed by a <see cref="CryptographyClient"/> for that version. Every signature the vault
/// returns is verified here (ECDsa, System.Security.Cryptography) against the public key fetched at opening before it
/// is handed out, so a wrong key or a vault fault cannot reach a block.
/// </summary>
public sealed class KeyVaultSigningKey : ISigningKey
{
    private readonly CryptographyClient _cryptography;

    private KeyVaultSigningKey(CryptographyClient cryptography, string reference, EcPublicJwk publicKey, string keyId)
    {
        _cryptography = cryptography;
        Reference = reference;
        PublicKey = publicKey;
        KeyId = keyId;
    }

    /// <summary>The pinned, versioned Key Vault key identifier (<c>https://{vault}/keys/{name}/{version}</c>).</summary>
    public string Reference { get; }

    /// <inheritdoc />
    public string KeyId { get; }

    /// <inheritdoc />
    public EcPublicJwk PublicKey { get; }

    /// <summary>As <see cref="OpenAsync(Uri, TokenCredential, KeyClientOptions?, CancellationToken)"/> with the options
    /// <paramref name="access"/> gives for <paramref name="keyId"/>.</summary>
    public static Task<KeyVaultSigningKey> OpenAsync(Uri keyId, KeyVaultAccess access, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(access);
        return OpenAsync(keyId, access.Credential, access.OptionsFor(keyId), cancellationToken);
    }

    /// <summary>
    /// Fetches the public key of <paramref name="keyId"/> (Get Key) and pins its version. The key must be an EC key
    /// on P-256 (signs ES256) or P-256K (signs ES256K).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="keyId"/> is not a key identifier.</exception>
    /// <exception cref="InvalidOperationException">The key is not such an EC key, the vault answered another key, or
    /// the vault is not reached over https (the SDK sends no bearer token in the clear).</exception>
    /// <exception cref="RequestFailedException">The vault refused or did not answer.</exception>
    public static async Task<KeyVaultSigningKey> OpenAsync(
        Uri keyId, TokenCredential credential, KeyClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(credential);
        // The SDK's identifier parses any collection (secrets/, certificates/) as a key's; only keys/ is one.
        if (keyId.Segments is not [_, "keys/", _, ..])
        {
            throw new ArgumentException($"'{keyId}' is not a Key Vault key identifier (https://{{vault}}/keys/{{name}}[/{{version}}]).", nameof(keyId));
        }

        var requested = new KeyVaultKeyIdentifier(keyId);
        var client = new KeyClient(requested.VaultUri, credential, options ?? new KeyClientOptions());
        KeyVaultKey key = await client.GetKeyAsync(requested.Name, requested.Version, cancellationToken).ConfigureAwait(false);

        var version = key.Properties.Version;
        if (string.IsNullOrEmpty(version)
            || !string.Equals(key.Name, requested.Name, StringComparison.OrdinalIgnoreCase)
            || (requested.Version is not null && !string.Equals(version, requested.Version, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"Asked Key Vault for key '{requested.SourceId}', it answered '{key.Id}'.");
        }

        var publicKey = ToEcPublicJwk(key);
        var thumbprint = publicKey.ComputeThumbprint();
        var reference = new Uri(requested.VaultUri, $"keys/{key.Name}/{version}").AbsoluteUri;
        return new KeyVaultSigningKey(client.GetCryptographyClient(key.Name, version), reference, publicKey with { Kid = thumbprint }, thumbprint);
    }

    /// <summary>Signs <paramref name="digest"/> in the vault with the pinned key version and checks the signature here.</summary>
    /// <exception cref="InvalidOperationException">The vault's signature does not verify against <see cref="PublicKey"/>.</exception>
    /// <exception cref="RequestFailedException">The vault refused or did not answer.</exception>
    public async Task<byte[]> SignDigestAsync(Hash32 digest, CancellationToken cancellationToken = default)
    {
        var algorithm = PublicKey.Algorithm switch
        {
            LedgerAlgorithm.ES256 => VaultAlgorithm.ES256,
            LedgerAlgorithm.ES256K => VaultAlgorithm.ES256K,
            var other => throw new InvalidOperationException($"Key Vault key '{Reference}' has algorithm {other}, not ES256 or ES256K."),
        };
        SignResult result = await _cryptography.SignAsync(algorithm, digest.ToArray(), cancellationToken).ConfigureAwait(false);
        var signature = result.Signature ?? [];
        if (!BlockSignature.Verify(PublicKey, digest, signature))
        {
            throw new InvalidOperationException(
                $"Key Vault key '{Reference}' returned a {signature.Length}-byte {result.Algorithm} signature (kid '{result.KeyId}') "
                + $"that does not verify against its public key {KeyId}; it was not used.");
        }

        return signature;
    }

    /// <summary>
    /// The key as the ledger's <see cref="EcPublicJwk"/>: kty "EC" (for "EC" and "EC-HSM"), crv "P-256" or
    /// "secp256k1" (Key Vault's "P-256K"), x and y as 32 bytes. A coordinate the service sent shorter than 32 bytes is
    /// left-padded with zeros, one longer only by leading zeros is trimmed (the same integer either way), so the
    /// thumbprint is the canonical RFC 7638 one.
    /// </summary>
    private static EcPublicJwk ToEcPublicJwk(KeyVaultKey key)
    {
        var jwk = key.Key ?? throw new InvalidOperationException($"Key Vault answered key '{key.Id}' without its public part.");
        if (jwk.KeyType != KeyType.Ec && jwk.KeyType != KeyType.EcHsm)
        {
            throw new InvalidOperationException($"Key '{key.Id}' is of type '{jwk.KeyType}', not an EC key.");
        }

        var crv = jwk.CurveName == KeyCurveName.P256 ? EcPublicJwk.CurveP256
            : jwk.CurveName == KeyCurveName.P256K ? EcPublicJwk.CurveSecp256k1
            : throw new InvalidOperationException(
                $"Key '{key.Id}' is on curve '{jwk.CurveName}'; only {KeyCurveName.P256} and {KeyCurveName.P256K} sign ledger blocks.");
        return new EcPublicJwk(
            EcPublicJwk.KeyTypeEc,
            crv,
            Base64Url.EncodeToString(Coordinate(key, jwk.X, "x")),
            Base64Url.EncodeToString(Coordinate(key, jwk.Y, "y")));
    }

    private static byte[] Coordinate(KeyVaultKey key, byte[]? value, string name)
    {
        const int Size = EcPublicJwk.CoordinateSize;
        if (value is null || value.Length == 0)
        {
            throw new InvalidOperationException($"Key '{key.Id}' has no '{name}' coordinate.");
        }

        var significant = value.AsSpan().TrimStart((byte)0);
        if (significant.Length > Size)
        {
            throw new InvalidOperationException($"Key '{key.Id}' has a {value.Length}-byte '{name}' coordinate; expected {Size}.");
        }

        var padded = new byte[Size];
        significant.CopyTo(padded.AsSpan(Size - significant.Length));
        return padded;
    }
}
