using System.Security.Cryptography;
using System.Text.Json;
using Btmc.Governance;
using Btmc.Platform.Azure.Keys;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Btmc.Supply;

namespace Btmc.Functions.Governance;

/// <summary>
/// Opens the producer keys this process signs with and starts the governance chain (docs/dpos.md, "Configuration"):
/// <list type="bullet">
/// <item><c>Producers:N:Id</c> and <c>Producers:N:Key</c>: the producers this process signs for. A key is a Key Vault
/// key identifier (<c>https://{vault}.vault.azure.net/keys/{name}[/{version}]</c>, signed in the vault with the
/// credential of the <c>KeyVault</c> section: <c>KeyVault__credential=managedidentity</c>, <c>KeyVault__clientId</c>), a
/// file name under the data folder's <c>keys/</c>, or an absolute path (instances that share a producer share its
/// file); key files are created on first use. Default: one producer, <c>local-producer</c>, key <c>producer.pem</c>.
/// Producers added later by a committee proposal are signed for when their key reference is one of these.</item>
/// <item><c>Governance:DeploymentId</c> (default <c>dev-</c> and 8 random hex digits), <c>Governance:SlotMilliseconds</c>
/// (default 3000) and <c>Governance:CommitteeFile</c> (a JSON array of <c>{"member","publicKey"}</c>): used once, when
/// the ledger's genesis is sealed (the committee also later, while the ledger has none).</item>
/// </list>
/// </summary>
public static class GovernanceSetup
{
    public const string DefaultProducer = "local-producer";

    public static async Task<(GovernanceLedger Ledger, IReadOnlyList<GenesisProducer> Producers)> StartAsync(
        IConfiguration configuration, ITableServiceClient tableService, SupplyOptions supply, string dataDirectory, Func<KeyVaultAccess> keyVault, TimeProvider time, CancellationToken cancellationToken)
    {
        var producers = await OpenProducerKeysAsync(configuration, dataDirectory, keyVault, cancellationToken);
        var section = configuration.GetSection("Governance");
        var genesis = new GenesisSettings(
            section["DeploymentId"] is { Length: > 0 } deployment ? deployment : $"dev-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}",
            section.GetValue("SlotMilliseconds", Btmc.Ledger.Dpos.SlotClock.DefaultSlotMilliseconds),
            ReadCommittee(section["CommitteeFile"]),
            producers);
        var ledger = await GovernanceLedger.StartAsync(tableService, supply.TablePrefix, genesis, time,
            (producer, ct) => OpenRegisteredKeyAsync(producer, dataDirectory, keyVault, ct), cancellationToken);
        return (ledger, producers);
    }

    private static async Task<List<GenesisProducer>> OpenProducerKeysAsync(IConfiguration configuration, string dataDirectory, Func<KeyVaultAccess> keyVault, CancellationToken cancellationToken)
    {
        var configured = configuration.GetSection("Producers").GetChildren()
            .Select(p => (Id: p["Id"] ?? throw new InvalidOperationException($"Producers:{p.Key}:Id is required."), Key: p["Key"] ?? $"{p["Id"]}.pem"))
            .ToList();
        if (configured.Count == 0)
        {
            configured.Add((configuration["ProducerId"] ?? DefaultProducer, "producer.pem"));
        }

        var producers = new List<GenesisProducer>();
        foreach (var (id, key) in configured)
        {
            if (KeyVaultUri(key) is { } uri)
            {
                // Registered pinned to its version: the registry names exactly the key that signs.
                var inVault = await KeyVaultSigningKey.OpenAsync(uri, keyVault(), cancellationToken);
                producers.Add(new GenesisProducer(id, inVault.Reference, inVault));
            }
            else
            {
                producers.Add(new GenesisProducer(id, key, LocalKeyFileSigner.OpenOrCreate(LocalKeyPath(dataDirectory, key))));
            }
        }

        return producers;
    }

    /// <summary>A registered producer's key, when this process can reach it: a Key Vault key its identity may sign
    /// with, or a key file it has (for producers added by proposal). Null otherwise: another process signs for it.</summary>
    private static async Task<ISigningKey?> OpenRegisteredKeyAsync(ProducerEntry producer, string dataDirectory, Func<KeyVaultAccess> keyVault, CancellationToken cancellationToken)
    {
        if (KeyVaultUri(producer.Key) is { } uri)
        {
            try
            {
                return await KeyVaultSigningKey.OpenAsync(uri, keyVault(), cancellationToken);
            }
            catch (Azure.RequestFailedException)
            {
                return null;
            }
        }

        return Path.IsPathFullyQualified(producer.Key) || producer.Key == Path.GetFileName(producer.Key)
            ? File.Exists(LocalKeyPath(dataDirectory, producer.Key)) ? LocalKeyFileSigner.Open(LocalKeyPath(dataDirectory, producer.Key)) : null
            : null;
    }

    /// <summary>A key identifier: https only, as the SDK sends bearer tokens over TLS only (a test vault too).</summary>
    private static Uri? KeyVaultUri(string key) =>
        Uri.TryCreate(key, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps ? uri : null;

    /// <summary>An absolute path as it is; a plain file name in the data folder's keys/.</summary>
    private static string LocalKeyPath(string dataDirectory, string key) =>
        Path.IsPathFullyQualified(key) ? key
        : key == Path.GetFileName(key) && !key.StartsWith('.') ? Path.Combine(dataDirectory, "keys", key)
        : throw new InvalidOperationException($"Producer key '{key}' is neither a file name in {Path.Combine(dataDirectory, "keys")} nor an absolute path.");

    private static IReadOnlyList<MemberKey> ReadCommittee(string? file)
    {
        if (string.IsNullOrEmpty(file))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<List<MemberKey>>(File.ReadAllText(file), JsonSerializerOptions.Web)
                ?? throw new InvalidOperationException($"{file} is empty.");
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new InvalidOperationException($"Governance:CommitteeFile {file} is not a JSON array of {{\"member\",\"publicKey\"}}: {ex.Message}", ex);
        }
    }
}
