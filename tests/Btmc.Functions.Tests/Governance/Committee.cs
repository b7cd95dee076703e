using System.Text.Json;
using Btmc.Cli;
using Btmc.Ledger;
using Btmc.Platform.Azure.Keys;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests.Governance;

/// <summary>Five committee members with their own key files (made by <c>btmc committee keygen</c>), and a server whose
/// ledger was started with them. Members act only through the CLI.</summary>
internal sealed class Committee : IAsyncDisposable
{
    private readonly TempDirectory _keys;

    private readonly LoopbackKeyVault? _vault;

    private Committee(TempDirectory keys, LocalServer server, LoopbackKeyVault? vault)
    {
        _keys = keys;
        Server = server;
        _vault = vault;
    }

    public static readonly string[] Members = ["alice", "bob", "carol", "dave", "erin"];

    public LocalServer Server { get; private set; }

    /// <summary>A second server on the same ledger (same tables and producer key), as another instance in Azure.</summary>
    public LocalServer? Second { get; private set; }

    public string KeysPath => _keys.Path;

    /// <summary>The member's <c>--key</c>: their key in the vault (carol, when the committee has a vault), else their key file.</summary>
    public string KeyOf(string member) =>
        _vault?.FindKey(member) is { } inVault ? new Uri(_vault.VaultUri, $"keys/{inVault.Name}").ToString() : _keys.Combine(member + ".pem");

    public string CommitteeFile => _keys.Combine("committee.json");

    public static Task<Committee> StartAsync(params string[] settings) => StartAsync(null, new TempDirectory(), settings);

    public static Task<Committee> StartAsync(LoopbackKeyVault? vault, params string[] settings) => StartAsync(vault, new TempDirectory(), settings);

    /// <summary>As <see cref="StartAsync(string[])"/>; with a vault, carol's key is a secp256k1 key in it, which only she
    /// (the vault's credential) can sign with.</summary>
    private static async Task<Committee> StartAsync(LoopbackKeyVault? vault, TempDirectory keys, string[] settings)
    {
        var entries = new List<JsonElement>();
        foreach (var member in Members)
        {
            if (vault is not null && member == "carol")
            {
                using var publicKey = vault.AddKey(member, "P-256K").CreatePublicKey();
                entries.Add(JsonSerializer.SerializeToElement(new { member, publicKey = EcPublicJwk.FromECDsa(publicKey) }));
                continue;
            }

            var output = new StringWriter();
            Assert.Equal(0, await BtmcCli.RunAsync(["committee", "keygen", "--out", keys.Combine(member + ".pem")], output, TextWriter.Null));
            entries.Add(JsonDocument.Parse(output.ToString()).RootElement.Clone());
        }

        await File.WriteAllTextAsync(keys.Combine("committee.json"), JsonSerializer.Serialize(entries));
        var server = await LocalServer.StartInProcessAsync(null, ["--Governance:CommitteeFile", keys.Combine("committee.json"), .. settings]);
        return new Committee(keys, server, vault);
    }

    /// <summary>
    /// Five members and two servers sharing one ledger on Azurite (a table prefix of their own) and one producer key
    /// file: two instances of the function app.
    /// </summary>
    public static async Task<Committee> StartTwoInstancesAsync()
    {
        var prefix = "g" + Guid.NewGuid().ToString("N")[..12];
        var keys = new TempDirectory();
        string[] shared = ["--Tables:ConnectionString", EventHubsSealingTests.AzuriteConnectionString(), "--Supply:TablePrefix", prefix,
            "--Producers:0:Id", "local-producer", "--Producers:0:Key", keys.Combine("producer.pem")];
        var committee = await StartAsync(null, keys, shared);
        committee.Second = (await LocalServer.StartInProcessAsync(null, ["--Governance:CommitteeFile", committee.CommitteeFile, .. shared])).CopyKeysFrom(committee.Server);
        return committee;
    }

    /// <summary>Runs <c>btmc</c> against the server; returns its exit code and what it wrote.</summary>
    public async Task<(int Exit, string Output, string Error)> BtmcAsync(params string[] args) => await BtmcOnAsync(Server, args);

    public async Task<(int Exit, string Output, string Error)> BtmcOnAsync(LocalServer server, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        // keygen works offline: it has no --url.
        var exit = await BtmcCli.RunAsync(args is ["committee", "keygen", ..] ? args : [.. args, "--url", server.BaseUrl, "--api-key-file", server.OperatorKeyFile], output, error, keyVault: _vault is null ? null : new KeyVaultAccess(_vault.Credential, _vault.Transport));
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary><c>btmc committee propose</c> by <paramref name="member"/>; returns the new proposal's id.</summary>
    public async Task<string> ProposeAsync(string member, params string[] action)
    {
        var (exit, output, error) = await BtmcAsync(["committee", "propose", .. action, "--key", KeyOf(member)]);
        Assert.True(exit == 0, error);
        return output.Split('\n').Single(l => l.StartsWith("# id: ", StringComparison.Ordinal))["# id: ".Length..].Trim();
    }

    public Task<(int Exit, string Output, string Error)> SignAsync(string member, string proposalId, LocalServer? on = null) =>
        BtmcOnAsync(on ?? Server, "committee", "sign", proposalId, "--key", KeyOf(member));

    public Task<JsonElement> ProposalAsync(string id) => Server.GetJsonAsync($"api/governance/proposals/{id}");

    /// <summary>The governance chain's records, in order, as the ledger's blocks hold them.</summary>
    public async Task<IReadOnlyList<string>> GovernanceRecordIdsAsync()
    {
        var ids = new List<string>();
        for (var height = 0L; ; height++)
        {
            using var response = await Server.Http.GetAsync($"api/ledger/chains/governance/blocks/{height}");
            if (!response.IsSuccessStatusCode)
            {
                return ids;
            }

            var block = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            ids.AddRange(block.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()!));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Second is not null)
        {
            await Second.DisposeAsync();
        }

        await Server.DisposeAsync();
        _keys.Dispose();
    }
}
