using Btmc.Infra.Tests.Code;
using Btmc.Supply;
using Xunit;

namespace Btmc.Infra.Tests;

/// <summary>
/// The function app's settings (infra/app/api.bicep) against the code: every setting the code reads in Azure is set,
/// every setting set is read by the code or the Functions host, every function.json connection is identity-based, and
/// the hubs and consumer groups the triggers read exist.
/// </summary>
public sealed class AppSettingsTests
{
    private static Infrastructure Infra => Infrastructure.Current;

    /// <summary>Settings the code reads that the deployment leaves unset on purpose, each with why.</summary>
    private static readonly Dictionary<string, string> LeftUnset = new(StringComparer.OrdinalIgnoreCase)
    {
        ["urls"] = "local only: in Azure the handler listens where the host says (FUNCTIONS_CUSTOMHANDLER_PORT)",
        ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "set by the Functions host itself for the handler process",
        ["Tables:ConnectionString"] = "shared key or Azurite, for development; the storage account refuses shared keys",
        ["SupplyEvents"] = "the connection-string form (shared access key); the namespace has local auth disabled",
        ["SupplyEvents:endpoint"] = "another address for the hub (a gateway, the tests); Azure uses the namespace",
        ["ProducerId"] = "the embedded default's single producer, used only when no Producers:N is set",
        ["Governance:SlotMilliseconds"] = "its default, 3000, is the production slot (docs/dpos.md)",
        ["Supply:SealMaxDelayMilliseconds"] = "default fits (docs/architecture.md)",
        ["Supply:MaxEventsPerCapture"] = "default fits (docs/architecture.md)",
        ["Supply:MaxCaptureBytes"] = "default fits (docs/architecture.md)",
        ["Supply:MaxEventBytes"] = "default fits; Event Hubs takes 1 MB per publication",
        ["Supply:MaxPendingEvents"] = "default fits (docs/architecture.md)",
        ["Supply:ChainPrefix"] = "default chain names supply-<p>",
        ["Supply:TablePrefix"] = "empty: one ledger per storage account",
        ["Ledger:WitnessStates"] = "local witness state folders (embedded default or a mounted share); in Azure the ledger's cosignatures table is the record",
        ["MiningEvents"] = "the connection-string form (shared access key); the namespace has local auth disabled",
        ["MiningEvents:endpoint"] = "another address for the hub (a gateway, the tests); Azure uses the namespace",
        ["Subscriptions:AllowLocalDestinations"] = "false in Azure: webhooks go to public https addresses only (docs/epcis-query.md, Subscriptions)",
        ["Subscriptions:BatchSize"] = "default fits (docs/epcis-query.md)",
        ["Subscriptions:DeliveryTimeoutSeconds"] = "default fits (docs/epcis-query.md)",
        ["Subscriptions:MaxConcurrentDeliveries"] = "default fits (docs/epcis-query.md)",
        ["Subscriptions:PollMilliseconds"] = "default fits (docs/epcis-query.md)",
        ["Subscriptions:RetryBaseMilliseconds"] = "default fits (docs/epcis-query.md)",
        ["Subscriptions:MaxRetryDelaySeconds"] = "default fits (docs/epcis-query.md)",
        ["Compute:EpochSeconds"] = "its default, a UTC day, is the production epoch (docs/compute.md)",
        ["Compute:BucketSeconds"] = "its default, a minute, is the production bucket (docs/compute.md)",
        ["Compute:HeartbeatBridgeBuckets"] = "default fits (docs/compute.md)",
        ["Compute:ShareDifficultyBits"] = "default fits (docs/compute.md)",
        ["Compute:JobLifetimeSeconds"] = "default fits (docs/compute.md)",
        ["Compute:CloseGraceSeconds"] = "default fits the trigger's lag (docs/compute.md)",
        ["Compute:RewardPool"] = "default pool (docs/compute.md)",
        ["Compute:Partitions"] = "the embedded mining log's partitions; Azure uses the hub's",
        ["Compute:VerifySampleRate"] = "default fits (docs/compute-jobs.md)",
        ["Compute:Jobs:InputsFolder"] = "embedded only: in Azure job inputs are blobs of the deployment's storage account (Blobs:ServiceUri)",
        ["Compute:RenderFrameWork"] = "default fits (docs/compute-jobs.md)",
        ["Compute:Jobs:AdvanceMilliseconds"] = "the embedded driver's period; in Azure the AdvanceComputeJobs timer advances jobs",
        ["Compute:LocalPool:Root"] = "local pool only; Azure runs tasks on the Batch pool",
        ["Compute:LocalPool:MaxParallelTasks"] = "local pool only; Azure runs tasks on the Batch pool",
        ["Compute:LocalPool:WorkerCommand"] = "local pool only; Azure runs tasks on the Batch pool",
        ["Compute:LocalPool:ContributorCommands"] = "local pool only; Azure runs tasks on the Batch pool",
        ["DOTNET_HOST_PATH"] = "set by the .NET host for the local pool's worker processes; Azure runs tasks on the Batch pool",
    };

    /// <summary>Settings set for the Functions host or platform rather than the handler's code.</summary>
    private static readonly Dictionary<string, string> ForTheHost = new(StringComparer.OrdinalIgnoreCase)
    {
        ["AzureWebJobsStorage__accountName"] = "host storage, identity-based",
        ["AzureWebJobsStorage__credential"] = "host storage, identity-based",
        ["AzureWebJobsStorage__clientId"] = "host storage, identity-based",
        ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "host telemetry",
        ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "host telemetry with Entra ID",
    };

    /// <summary>
    /// Settings provisioned for compute sharing (issue 6) before its code reads them; the names that code must use.
    /// Remove an entry once the code reads it (the test below says when).
    /// </summary>
    private static readonly HashSet<string> PendingIssue6 = new(StringComparer.OrdinalIgnoreCase)
    {
    };

    private static IReadOnlyList<ConfigurationRead> Reads => SourceCode.Current.ConfigurationReads();

    private static HashSet<string> SetKeys => Infra.AppSettings.Select(s => s.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void CodeReads_AreFound()
    {
        // The derivation must see the reads this code is known to make, or its silence would prove nothing.
        var keys = Reads.Select(r => r.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var expected in new[] { "Tables:ServiceUri", "Tables:clientId", "SupplyEvents:fullyQualifiedNamespace", "KeyVault:credential", "Producers:N:Key", "Supply:Partitions", "Governance:DeploymentId", "DataDirectory", "Partners:RegistryFile" })
        {
            Assert.Contains(expected, keys);
        }
    }

    [Fact]
    public void EverySettingTheCodeReads_IsSetByTheBicep_OrLeftUnsetForAStatedReason()
    {
        var set = SetKeys;
        var missing = Reads
            .Where(r => !set.Contains(r.AppSettingKey) && !LeftUnset.ContainsKey(r.Key))
            .GroupBy(r => r.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g => $"{g.Key} (read at {string.Join(", ", g.Select(r => r.Location).Distinct())}): set {g.First().AppSettingKey} in {Infrastructure.AppModuleFile}, or say why not in {nameof(LeftUnset)}")
            .ToList();
        Assert.True(missing.Count == 0, "Settings the code reads that the deployment does not set:\n  " + string.Join("\n  ", missing));

        var read = Reads.Select(r => r.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var stale = LeftUnset.Keys.Where(k => !read.Contains(k)).ToList();
        Assert.True(stale.Count == 0, $"{nameof(LeftUnset)} names settings the code no longer reads: {string.Join(", ", stale)}");
        var contradictory = LeftUnset.Keys.Where(k => set.Contains(k.Replace(":", "__", StringComparison.Ordinal))).ToList();
        Assert.True(contradictory.Count == 0, $"{nameof(LeftUnset)} names settings the Bicep sets: {string.Join(", ", contradictory)}");
    }

    [Fact]
    public void EverySettingTheBicepSets_IsReadByTheCodeOrTheHost()
    {
        var read = Reads.Select(r => r.AppSettingKey).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var connections = ConnectionNames();
        var unused = Infra.AppSettings
            .Where(s => !read.Contains(s.Key) && !ForTheHost.ContainsKey(s.Key) && !PendingIssue6.Contains(s.Key)
                && !connections.Any(c => s.Key.StartsWith(c + "__", StringComparison.OrdinalIgnoreCase)))
            .Select(s => s.Key)
            .ToList();
        Assert.True(unused.Count == 0, "Settings the Bicep sets that neither the code nor the host reads: " + string.Join(", ", unused));

        var nowRead = PendingIssue6.Where(read.Contains).ToList();
        Assert.True(nowRead.Count == 0, $"The code reads these now; remove them from {nameof(PendingIssue6)} (and their operations from {nameof(AzureOperations)}.{nameof(AzureOperations.PendingIssue6)}): {string.Join(", ", nowRead)}");
        var notSet = PendingIssue6.Where(k => !SetKeys.Contains(k)).ToList();
        Assert.True(notSet.Count == 0, "Compute-sharing settings not set: " + string.Join(", ", notSet));
    }

    [Fact]
    public void EveryFunctionJsonConnection_IsIdentityBased()
    {
        var settings = Infra.AppSettings.ToDictionary(s => s.Key, StringComparer.OrdinalIgnoreCase);
        var connections = ConnectionNames();
        Assert.Contains("SupplyEvents", connections);
        foreach (var connection in connections.Append("MiningEvents"))
        {
            Assert.True(settings.TryGetValue($"{connection}__fullyQualifiedNamespace", out var ns), $"{connection}__fullyQualifiedNamespace is not set");
            Assert.EndsWith(".servicebus.windows.net'", ns!.Value.Text, StringComparison.Ordinal);
            Assert.Equal("managedidentity", settings[$"{connection}__credential"].Literal);
            Assert.Equal("identityClientId", settings[$"{connection}__clientId"].Value.Text);
            Assert.False(settings.ContainsKey(connection), $"{connection} must not be a connection string (shared keys are off)");
        }
    }

    [Fact]
    public void EveryCredentialSetting_IsTheAppsManagedIdentity()
    {
        var settings = Infra.AppSettings.ToDictionary(s => s.Key, StringComparer.OrdinalIgnoreCase);
        var credentials = settings.Keys.Where(k => k.EndsWith("__credential", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Contains("AzureWebJobsStorage__credential", credentials);
        foreach (var key in credentials)
        {
            Assert.Equal("managedidentity", settings[key].Literal);
            var prefix = key[..^"__credential".Length];
            Assert.True(settings.TryGetValue(prefix + "__clientId", out var clientId), $"{prefix}__clientId is not set");
            Assert.Equal("identityClientId", clientId!.Value.Text);
        }

        Assert.False(settings.ContainsKey("AzureWebJobsStorage"), "host storage must be identity-based, not a connection string");
        Assert.Contains("Authorization=AAD", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"].Value.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void EventHubTriggers_ReadHubsAndConsumerGroupsTheBicepCreates()
    {
        var resources = Infra.Files.SelectMany(f => f.Resources).Where(r => !r.Existing).ToList();
        var triggers = AzureOperations.FunctionBindings().Where(b => b.Binding.GetProperty("type").GetString() == "eventHubTrigger").ToList();
        Assert.NotEmpty(triggers);
        foreach (var (path, binding) in triggers)
        {
            var hubName = binding.GetProperty("eventHubName").GetString();
            var groupName = binding.GetProperty("consumerGroup").GetString();
            var hub = resources.SingleOrDefault(r => r.Type == AzureOperations.EventHub && r.Name == hubName);
            Assert.True(hub is not null, $"{path}: no hub '{hubName}' in the Bicep");
            Assert.True(resources.Any(r => r.Type == AzureOperations.EventHub + "/consumergroups" && r.Name == groupName && r.File == hub!.File && r.Property("parent")?.Text == hub.Symbol),
                $"{path}: no consumer group '{groupName}' on hub '{hubName}'");
        }

        // Issue 6's trigger (connection MiningEvents) reads mining-events through consumer group accountant.
        var mining = resources.Single(r => r.Type == AzureOperations.EventHub && r.Name == "mining-events");
        Assert.Contains(resources, r => r.Name == "accountant" && r.Property("parent")?.Text == mining.Symbol);
    }

    [Fact]
    public void SupplyPartitions_EqualTheSupplyHubsPartitionCount_AndBlocksFitATablePartition()
    {
        var settings = Infra.AppSettings.ToDictionary(s => s.Key, StringComparer.OrdinalIgnoreCase);
        Assert.Equal("string(supplyPartitions)", settings["Supply__Partitions"].Value.Text);
        var main = Infra.Main.Modules;
        Assert.Equal("supplyPartitions", main.Single(m => m.Symbol == "api").Property("params")?.Property("supplyPartitions")?.Text);
        Assert.Equal("supplyPartitions", main.Single(m => m.Symbol == "eventHubs").Property("params")?.Property("supplyEventsPartitionCount")?.Text);
        var hub = Infra.File("infra/app/eventhubs.bicep").Resources.Single(r => r.Name == "supply-events");
        Assert.Equal("supplyEventsPartitionCount", hub.Property("properties")?.Property("partitionCount")?.Text);
        Assert.Contains("param supplyPartitions int = 16", Infra.Main.Source, StringComparison.Ordinal); // docs/storage-layout.md

        var sealMax = int.Parse(settings["Supply__SealMaxEvents"].Literal!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(sealMax, 1, SupplyOptions.TableStorageMaxBlockEvents);
    }

    [Fact]
    public void ProducerSettings_AreSetForEveryKeyTheHookRegisters()
    {
        var keys = Infra.AppSettings.Select(s => s.Key).ToList();
        Assert.Contains("Producers__N__Id", keys);
        Assert.Contains("Producers__N__Key", keys);
        Assert.Equal("${BTMC_PRODUCER_KEY_IDS=}", Infra.ParameterMappings["producerKeyIds"]);
        var hook = File.ReadAllText(Repository.PathOf("infra", "hooks", "postprovision.sh"));
        Assert.Contains("azd env set BTMC_PRODUCER_KEY_IDS", hook, StringComparison.Ordinal);
        Assert.Contains("az keyvault key create", hook, StringComparison.Ordinal);
        Assert.Contains("--curve P-256", hook, StringComparison.Ordinal);
        Assert.Contains("Producers__${i}__Id", hook, StringComparison.Ordinal);
        Assert.Contains("Producers__${i}__Key", hook, StringComparison.Ordinal);
    }

    [Fact]
    public void FilesTheSettingsName_ShipInThePackage()
    {
        var settings = Infra.AppSettings.ToDictionary(s => s.Key, StringComparer.OrdinalIgnoreCase);
        var project = File.ReadAllText(Repository.PathOf("functions", "Btmc.Functions", "Btmc.Functions.csproj"));
        foreach (var key in new[] { "Partners__RegistryFile", "Governance__CommitteeFile" })
        {
            var file = settings[key].Literal!;
            Assert.StartsWith("deploy/", file, StringComparison.Ordinal); // relative to the app root, the handler's working folder
            Assert.True(File.Exists(Repository.PathOf(file.Split('/'))), $"{key}: {file} is not in the repository");
        }

        Assert.Contains("Include=\"../../deploy/*.json\" Link=\"deploy/", project, StringComparison.Ordinal);
        Assert.Equal("/tmp/btmc", settings["DataDirectory"].Literal);
    }

    private static IReadOnlyList<string> ConnectionNames() =>
        AzureOperations.FunctionBindings()
            .Where(b => b.Binding.TryGetProperty("connection", out _))
            .Select(b => b.Binding.GetProperty("connection").GetString()!)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
}
