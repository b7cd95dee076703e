using Azure;
using Azure.Core;
using Btmc.Ledger;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// Signs and verifies with one Key Vault key, remotely, shaped after the official
/// <c>Azure.Security.KeyVault.Keys.Cryptography.CryptographyClient</c>:
/// <c>POST {keyId}/sign</c> with <c>{"alg":"ES256"|"ES256K","value":"&lt;base64url digest&gt;"}</c> answers
/// <c>{"kid","value":"&lt;base64url r||s&gt;"}</c>; <c>POST {keyId}/verify</c> with <c>{"alg","digest","value"}</c>
/// answers <c>{"value":true|false}</c>. The digest is the 32-byte SHA-256 the algorithm names, checked before
/// anything is sent. Thread-safe.
/// </summary>
public sealed class CryptographyClient
{
    /// <summary>The digest length of ES256 and ES256K (SHA-256).</summary>
    public const int DigestSize = 32;

    private readonly KeyVaultPipeline _pipeline;
    private readonly KeyVaultKeyIdentifier _keyId;

    /// <summary>A client for the key <paramref name="keyId"/> (<c>https://{vault}/keys/{name}[/{version}]</c>; without a version, the latest).</summary>
    /// <exception cref="ArgumentException"><paramref name="keyId"/> is not a key identifier, or not https.</exception>
    public CryptographyClient(Uri keyId, TokenCredential credential, KeyClientOptions? options = null)
    {
        _keyId = new KeyVaultKeyIdentifier(keyId);
        _pipeline = new KeyVaultPipeline(_keyId.VaultUri, credential, options ?? new KeyClientOptions());
    }

    internal CryptographyClient(KeyVaultPipeline pipeline, KeyVaultKeyIdentifier keyId)
    {
        _pipeline = pipeline;
        _keyId = keyId;
    }

    /// <summary>The key identifier this client works with.</summary>
    public string KeyId => _keyId.SourceId.AbsoluteUri;

    /// <summary>Signs <paramref name="digest"/> as it is (it is not hashed again); the signature is raw r || s.</summary>
    /// <exception cref="ArgumentException">The digest is not 32 bytes; nothing is sent.</exception>
    /// <exception cref="RequestFailedException">The vault refused (e.g. 400 BadParameter for an algorithm the key's curve does not take) or did not answer.</exception>
    public async Task<SignResult> SignAsync(SignatureAlgorithm algorithm, byte[] digest, CancellationToken cancellationToken = default)
    {
        var alg = WireName(algorithm);
        CheckDigest(digest);
        var response = await _pipeline.SendAsync(RequestMethod.Post, OperationPath("sign"), KeyVaultJson.WriteSign(alg, digest), cancellationToken)
            .ConfigureAwait(false);
        var (kid, signature) = KeyVaultPipeline.Read(response, KeyVaultJson.ReadKeyOperationResult);
        return new SignResult(kid, signature, algorithm);
    }

    /// <summary>Asks the vault whether <paramref name="signature"/> (r || s) is valid for <paramref name="digest"/>.</summary>
    /// <exception cref="ArgumentException">The digest is not 32 bytes; nothing is sent.</exception>
    /// <exception cref="RequestFailedException">The vault refused or did not answer.</exception>
    public async Task<VerifyResult> VerifyAsync(
        SignatureAlgorithm algorithm, byte[] digest, byte[] signature, CancellationToken cancellationToken = default)
    {
        var alg = WireName(algorithm);
        CheckDigest(digest);
        ArgumentNullException.ThrowIfNull(signature);
        var body = KeyVaultJson.WriteVerify(alg, digest, signature);
        var response = await _pipeline.SendAsync(RequestMethod.Post, OperationPath("verify"), body, cancellationToken).ConfigureAwait(false);
        return new VerifyResult(KeyId, KeyVaultPipeline.Read(response, KeyVaultJson.ReadVerifyResult), algorithm);
    }

    /// <summary>The JWA name Key Vault takes in <c>alg</c>.</summary>
    internal static string WireName(SignatureAlgorithm algorithm) => algorithm switch
    {
        SignatureAlgorithm.ES256 => "ES256",
        SignatureAlgorithm.ES256K => "ES256K",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not an ECDSA algorithm Key Vault signs with."),
    };

    private string OperationPath(string operation) =>
        $"/keys/{_keyId.Name}/" + (_keyId.Version is null ? "" : _keyId.Version + "/") + operation;

    private static void CheckDigest(byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (digest.Length != DigestSize)
        {
            throw new ArgumentException($"The digest is {digest.Length} bytes; ES256 and ES256K sign a {DigestSize}-byte SHA-256 digest.", nameof(digest));
        }
    }
}
