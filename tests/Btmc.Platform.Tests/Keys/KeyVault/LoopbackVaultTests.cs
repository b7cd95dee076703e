using Btmc.Platform.Keys.KeyVault;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Tests.Keys.KeyVault;

/// <summary>Starts a <see cref="LoopbackKeyVault"/> per test and builds client options for it.</summary>
public abstract class LoopbackVaultTests : IAsyncLifetime
{
    private LoopbackKeyVault? _started;

    protected LoopbackKeyVault Vault => _started ?? throw new InvalidOperationException("The loopback vault has not started.");

    public async Task InitializeAsync() => _started = await LoopbackKeyVault.StartAsync();

    public async Task DisposeAsync()
    {
        if (_started is not null)
        {
            await _started.DisposeAsync();
        }
    }

    /// <summary>
    /// Options for the loopback vault: its host (127.0.0.1) is not a subdomain of the challenge's resource, so resource
    /// verification is off unless asked for, as for any emulator; retries are quick.
    /// </summary>
    protected static KeyClientOptions Options(int maxRetries = 3, bool verifyChallengeResource = false)
    {
        var options = new KeyClientOptions { DisableChallengeResourceVerification = !verifyChallengeResource };
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        return options;
    }

    protected KeyClient NewKeyClient(KeyClientOptions? options = null) => new(Vault.VaultUri, Vault.Credential, options ?? Options());
}
