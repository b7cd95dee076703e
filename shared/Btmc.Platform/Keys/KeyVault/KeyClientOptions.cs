using Azure.Core;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// Pipeline settings of <see cref="KeyClient"/> and <see cref="CryptographyClient"/>, shaped after the official
/// <c>Azure.Security.KeyVault.Keys.KeyClientOptions</c>. Retries are bounded and exponential: by default 4 retries
/// from 1 s up to 16 s apart (Key Vault's throttling guidance: back off 1 s, 2 s, 4 s ...), for 408, 429, 500, 502,
/// 503, 504 and network failures (Azure.Core's default classification). Azure.Core's retry policy waits at least as
/// long as a <c>Retry-After</c> header asks, even beyond <see cref="RetryOptions.MaxDelay"/>; the caller's
/// cancellation token bounds that. Each attempt is cut off after 30 s (<see cref="RetryOptions.NetworkTimeout"/>).
/// </summary>
public sealed class KeyClientOptions : ClientOptions
{
    /// <summary>The service version used when none is given.</summary>
    internal const ServiceVersion LatestVersion = ServiceVersion.V7_5;

    /// <summary>Creates options for <paramref name="version"/> (7.5 by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="version"/> is not a known version.</exception>
    public KeyClientOptions(ServiceVersion version = LatestVersion)
    {
        if (!Enum.IsDefined(version))
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, "Unknown Key Vault service version.");
        }

        Version = version;
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 4;
        Retry.Delay = TimeSpan.FromSeconds(1);
        Retry.MaxDelay = TimeSpan.FromSeconds(16);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>The Key Vault REST API versions this client speaks; all of them carry EC keys, P-256K and ES256K.</summary>
    public enum ServiceVersion
    {
        /// <summary>api-version 7.4.</summary>
        V7_4 = 4,

        /// <summary>api-version 7.5.</summary>
        V7_5 = 5,

        /// <summary>api-version 7.6.</summary>
        V7_6 = 6,
    }

    /// <summary>The service version sent as <c>api-version</c> on every request.</summary>
    public ServiceVersion Version { get; }

    /// <summary>
    /// When false (the default), the resource of an authentication challenge must be a parent domain of the vault's
    /// host (e.g. <c>https://vault.azure.net</c> for <c>myvault.vault.azure.net</c>), so a token is never requested
    /// for a resource some other server names. Set true for a vault whose host does not match its resource (an
    /// emulator, a private endpoint alias), as with the official client.
    /// </summary>
    public bool DisableChallengeResourceVerification { get; set; }

    internal string GetVersionString() => Version switch
    {
        ServiceVersion.V7_4 => "7.4",
        ServiceVersion.V7_5 => "7.5",
        ServiceVersion.V7_6 => "7.6",
        _ => throw new ArgumentOutOfRangeException(nameof(Version), Version, "Unknown Key Vault service version."),
    };
}
