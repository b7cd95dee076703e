using System.Security.Cryptography;
using System.Text.Json;
using Btmc.Governance;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Btmc.Supply;

namespace Btmc.Functions.Governance;

/// <summary>
/// Opens the producer keys this process signs with and starts the governance chain (docs/dpos.md, "Configuration"):
/// <list type="bullet">
/// <item><c>Producers:N:Id</c> and <c>Producers:N:Key</c>: the producers this process signs for, each key a file name
/// under the data folder's <c>keys/</c>, or an absolute path (instances that share a producer share its file), created
/// on first use. Default: one producer, <c>local-producer</c>, key <c>producer.pem</c>.</item>
/// <item><c>Governance:DeploymentId</c> (default <c>dev-</c> and 8 random hex digits), <c>Governance:SlotMilliseconds</c>
/// (default 3000) and <c>Governance:CommitteeFile</c> (a JSON array of <c>{"member","publicKey"}</c>): used once, when
/// the ledger's genesis is sealed (the committee also later, while the ledger has none).</item>
/// </list>
/// </summary>
public static class GovernanceSetup
{
    public const string DefaultProducer = "local-producer";

    public static async Task<(GovernanceLedger Ledger, IReadOnlyList<GenesisProducer> Producers)> StartAsync(
        IConfiguration configuration, ITableServiceClient tableService, SupplyOptions supply, string dataDirectory, CancellationToken cancellationToken)
    {
        var producers = OpenProducerKeys(configuration, dataDirectory);
        var section = configuration.GetSection("Governance");
        var genesis = new GenesisSettings(
            section["DeploymentId"] is { Length: > 0 } deployment ? deployment : $"dev-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}",
            section.GetValue("SlotMilliseconds", Btmc.Ledger.Dpos.SlotClock.DefaultSlotMilliseconds),
            ReadCommittee(section["CommitteeFile"]),
            producers);
        var ledger = await GovernanceLedger.StartAsync(tableService, supply, genesis, TimeProvider.System,
            (producer, _) => Task.FromResult(OpenRegisteredKey(producer, dataDirectory)), cancellationToken);
        return (ledger, producers);
    }

    private static List<GenesisProducer> OpenProducerKeys(IConfiguration configuration, string dataDirectory)
    {
        var configured = configuration.GetSection("Producers").GetChildren()
            .Select(p => (Id: p["Id"] ?? throw new InvalidOperationException($"Producers:{p.Key}:Id is required."), Key: p["Key"] ?? $"{p["Id"]}.pem"))
            .ToList();
        if (configured.Count == 0)
        {
            configured.Add((configuration["ProducerId"] ?? DefaultProducer, "producer.pem"));
        }

        return configured.Select(p => new GenesisProducer(p.Id, p.Key, LocalKeyFileSigner.OpenOrCreate(LocalKeyPath(dataDirectory, p.Key)))).ToList();
    }

    /// <summary>A registered producer's key, when it is a key file this process has (for producers added by proposal).</summary>
    private static ISigningKey? OpenRegisteredKey(ProducerEntry producer, string dataDirectory) =>
        LocalKeyPath(dataDirectory, producer.Key) is { } path && File.Exists(path) ? LocalKeyFileSigner.Open(path) : null;

    /// <summary>An absolute path as it is; a plain file name in the data folder's keys/; anything else is no local key.</summary>
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
