using Azure;
using Azure.Core;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// Key Vault keys over the REST API (api-version 7.5 by default) on an Azure.Core pipeline, shaped after the
/// official <c>Azure.Security.KeyVault.Keys.KeyClient</c>:
/// <c>GET {vault}/keys/{name}/{version}</c> (Get Key; no version = the latest) and
/// <c>POST {vault}/keys/{name}/create</c> (Create Key), both answering a key bundle.
/// Authenticates with <see cref="ChallengeBasedAuthenticationPolicy"/>. Failures throw
/// <see cref="RequestFailedException"/> with the status and the service's error code (KeyNotFound, Forbidden,
/// BadParameter, ...). Thread-safe; share one instance per vault.
/// </summary>
public sealed class KeyClient
{
    private readonly KeyVaultPipeline _pipeline;

    /// <summary>A client for the vault at <paramref name="vaultUri"/> (https; http only to a loopback host).</summary>
    /// <exception cref="ArgumentException"><paramref name="vaultUri"/> is not a vault address or not https.</exception>
    public KeyClient(Uri vaultUri, TokenCredential credential, KeyClientOptions? options = null)
        : this(new KeyVaultPipeline(vaultUri, credential, options ?? new KeyClientOptions()))
    {
    }

    internal KeyClient(KeyVaultPipeline pipeline) => _pipeline = pipeline;

    /// <summary>The vault's address.</summary>
    public Uri VaultUri => _pipeline.VaultUri;

    /// <summary>The public part and properties of key <paramref name="name"/>: <paramref name="version"/>, or the latest.</summary>
    /// <exception cref="ArgumentException">The name or version is malformed; nothing is sent.</exception>
    /// <exception cref="RequestFailedException">The vault refused (404 KeyNotFound, 403 Forbidden, ...) or did not answer.</exception>
    public async Task<Response<KeyVaultKey>> GetKeyAsync(string name, string? version = null, CancellationToken cancellationToken = default)
    {
        KeyVaultKeyIdentifier.ValidateName(name, nameof(name));
        if (version is not null)
        {
            KeyVaultKeyIdentifier.ValidateVersion(version, nameof(version));
        }

        var response = await _pipeline.SendAsync(RequestMethod.Get, $"/keys/{name}/{version}", body: null, cancellationToken)
            .ConfigureAwait(false);
        return Response.FromValue(KeyVaultPipeline.Read(response, KeyVaultJson.ReadKeyBundle), response);
    }

    /// <summary>
    /// Creates an EC key, or a new version of it when the name exists: kty "EC" (or "EC-HSM"), crv P-256 or
    /// P-256K, the given key operations.
    /// </summary>
    /// <exception cref="ArgumentException">The curve is not P-256 or P-256K; nothing is sent.</exception>
    /// <exception cref="RequestFailedException">The vault refused or did not answer.</exception>
    public async Task<Response<KeyVaultKey>> CreateEcKeyAsync(CreateEcKeyOptions ecKeyOptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ecKeyOptions);
        var curve = ecKeyOptions.CurveName ?? KeyCurveName.P256;
        if (curve != KeyCurveName.P256 && curve != KeyCurveName.P256K)
        {
            throw new ArgumentException(
                $"Curve '{curve}' is not {KeyCurveName.P256} or {KeyCurveName.P256K}, the curves ledger blocks are signed on.",
                nameof(ecKeyOptions));
        }

        var body = KeyVaultJson.WriteCreateEcKey(ecKeyOptions, curve);
        var response = await _pipeline.SendAsync(RequestMethod.Post, $"/keys/{ecKeyOptions.Name}/create", body, cancellationToken)
            .ConfigureAwait(false);
        return Response.FromValue(KeyVaultPipeline.Read(response, KeyVaultJson.ReadKeyBundle), response);
    }

    /// <summary>A <see cref="CryptographyClient"/> for key <paramref name="keyName"/> (<paramref name="keyVersion"/>, or the latest) on this client's pipeline.</summary>
    /// <exception cref="ArgumentException">The name or version is malformed.</exception>
    public CryptographyClient GetCryptographyClient(string keyName, string? keyVersion = null)
    {
        KeyVaultKeyIdentifier.ValidateName(keyName, nameof(keyName));
        if (keyVersion is not null)
        {
            KeyVaultKeyIdentifier.ValidateVersion(keyVersion, nameof(keyVersion));
        }

        var keyId = new KeyVaultKeyIdentifier(new Uri(VaultUri, $"keys/{keyName}" + (keyVersion is null ? "" : "/" + keyVersion)));
        return new CryptographyClient(_pipeline, keyId);
    }
}
