using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests.Governance;

/// <summary>Producer keys held in Key Vault: the server seals with them through the same signing port as key files,
/// and the private keys never leave the vault.</summary>
public sealed class KeyVaultProducerTests
{
    [Fact]
    public async Task Sealing_ProducersInKeyVault_SignsEveryBlockInTheVaultAndTheLedgerVerifies()
    {
        await using var vault = await LoopbackKeyVault.StartAsync();
        var fab = vault.AddKey("producer-fab", "P-256");
        var osat = vault.AddKey("producer-osat", "P-256K");
        await using var server = await LocalServer.StartInProcessWithKeyVaultAsync(vault,
            "--Producers:0:Id", "fab-a", "--Producers:0:Key", new Uri(vault.VaultUri, "keys/producer-fab").ToString(),
            "--Producers:1:Id", "osat-b", "--Producers:1:Key", new Uri(vault.VaultUri, "keys/producer-osat").ToString());

        for (var i = 0; i < 4; i++)
        {
            await server.CaptureSealedAsync(TestEvents.Commission($"urn:epc:id:sgtin:0614141.000021.{i}", i));
        }

        var producers = (await server.GetJsonAsync("api/governance")).GetProperty("producers").EnumerateArray().ToDictionary(p => p.GetProperty("producer").GetString()!, p => p.GetProperty("key").GetString()!);
        // The registry records each key pinned to its version.
        Assert.Equal(vault.KeyIdOf(fab).ToString(), producers["fab-a"]);
        Assert.Equal(vault.KeyIdOf(osat).ToString(), producers["osat-b"]);
        var signs = vault.Requests.Count(r => r.Method == "POST" && r.Path.EndsWith("/sign", StringComparison.Ordinal) && r.Authorization is not null);
        var chains = await server.GetJsonAsync("api/ledger/chains");
        var blocks = chains.GetProperty("chains").EnumerateArray().Sum(c => c.GetProperty("height").GetInt64() + 1) + 1;
        Assert.True(signs >= blocks, $"{signs} signatures in the vault for {blocks} blocks");
        var verify = await server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
    }
}
