using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Identity;
using Btmc.Ledger;
using Btmc.Platform.Azure.Keys;
using Btmc.Platform.Keys;

namespace Btmc.Cli;

/// <summary>The keys the CLI signs with (<c>--key</c>) and the public keys it reads (<c>--public-key</c>).</summary>
public static class SigningKeys
{
    /// <summary>
    /// A Key Vault key (its key identifier, <c>https://{vault}.vault.azure.net/keys/{name}[/{version}]</c>; signed as
    /// <paramref name="keyVault"/> says, by default the signed-in identity through DefaultAzureCredential), or a local
    /// key file (PKCS#8 PEM, P-256 or secp256k1). An http key identifier is refused (the SDK sends no token in the clear).
    /// </summary>
    public static async Task<ISigningKey> OpenAsync(string reference, KeyVaultAccess? keyVault, CancellationToken cancellationToken)
    {
        if (Uri.TryCreate(reference, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
        {
            try
            {
                return await KeyVaultSigningKey.OpenAsync(uri, keyVault ?? new KeyVaultAccess(new DefaultAzureCredential()), cancellationToken);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or RequestFailedException or AuthenticationFailedException)
            {
                throw new HttpRequestException($"--key {reference}: {ex.Message}", ex);
            }
        }

        if (!File.Exists(reference))
        {
            throw new CliUsageException($"--key {reference}: no such key file.");
        }

        try
        {
            return LocalKeyFileSigner.Open(reference);
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException($"--key {reference}: {ex.Message}");
        }
    }

    /// <summary>A public key from a JWK file, or from a PEM file holding a public or private EC key (only the public half is used).</summary>
    public static EcPublicJwk ReadPublicKey(string path)
    {
        var text = File.Exists(path) ? File.ReadAllText(path) : throw new CliUsageException($"--public-key {path}: no such file.");
        try
        {
            if (text.TrimStart().StartsWith('{'))
            {
                var jwk = JsonSerializer.Deserialize<EcPublicJwk>(text) ?? throw new JsonException("empty");
                _ = jwk.ComputeThumbprint();
                return jwk with { Kid = null };
            }

            using var key = ECDsa.Create();
            key.ImportFromPem(text);
            return EcPublicJwk.FromECDsa(key);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or CryptographicException)
        {
            throw new CliUsageException($"--public-key {path}: not an EC public key (JWK or PEM) on P-256 or secp256k1: {ex.Message}");
        }
    }
}
