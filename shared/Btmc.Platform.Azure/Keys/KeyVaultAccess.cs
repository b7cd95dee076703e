using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Keys;

namespace Btmc.Platform.Azure.Keys;

/// <summary>
/// How this process reaches Key Vault keys: the identity it signs as and, for a vault that is not Azure's (the
/// loopback test vault with its self-signed certificate), the HTTP transport that trusts it. Production passes only
/// the credential: the SDK's default transport and the system's certificate store.
/// </summary>
/// <param name="Credential">The identity that gets and signs with keys (Key Vault Crypto User).</param>
/// <param name="Transport">The transport requests go through; null for the SDK's default.</param>
public sealed record KeyVaultAccess(TokenCredential Credential, HttpPipelineTransport? Transport = null)
{
    /// <summary>
    /// Client options for the key <paramref name="keyId"/>. A vault on this machine (an emulator) cannot be a
    /// subdomain of the challenge's resource (vault.azure.net), so resource verification is off for loopback hosts
    /// only; everywhere else the SDK refuses to request a token for a resource another server names.
    /// </summary>
    public KeyClientOptions OptionsFor(Uri keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        var options = new KeyClientOptions { DisableChallengeResourceVerification = keyId.IsLoopback };
        if (Transport is not null)
        {
            options.Transport = Transport;
        }

        return options;
    }
}
