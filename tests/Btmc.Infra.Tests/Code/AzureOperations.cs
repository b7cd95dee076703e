using System.Text.Json;

namespace Btmc.Infra.Tests.Code;

/// <summary>What a role grants, as the capabilities these tests speak of.</summary>
public static class Capability
{
    public const string BlobRead = "blob.read";
    public const string BlobWrite = "blob.write";
    public const string BlobOwner = "blob.owner"; // containers, leases, ACLs: what the Functions host asks for
    public const string TableReadWrite = "table.readwrite";
    public const string EventHubsSend = "eventhubs.send";
    public const string EventHubsReceive = "eventhubs.receive";
    public const string KeysGet = "keys.get";
    public const string KeysSign = "keys.sign";
    public const string KeysCreate = "keys.create";
    public const string TelemetryPublish = "telemetry.publish";
    public const string BatchJobs = "batch.jobs";
    public const string BatchPools = "batch.pools";
}

/// <summary>A built-in Azure role: its id, name and what it lets a principal do (data plane).</summary>
public sealed record BuiltInRole(string Id, string Name, IReadOnlySet<string> Capabilities)
{
    /// <summary>The built-in roles the deployment may use, by role definition id.</summary>
    public static readonly IReadOnlyDictionary<string, BuiltInRole> Known = new[]
    {
        new BuiltInRole("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner", Set(Capability.BlobRead, Capability.BlobWrite, Capability.BlobOwner)),
        new BuiltInRole("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "Storage Blob Data Contributor", Set(Capability.BlobRead, Capability.BlobWrite)),
        new BuiltInRole("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader", Set(Capability.BlobRead)),
        new BuiltInRole("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Storage Table Data Contributor", Set(Capability.TableReadWrite)),
        new BuiltInRole("2b629674-e913-4c01-ae53-ef4638d8f975", "Azure Event Hubs Data Sender", Set(Capability.EventHubsSend)),
        new BuiltInRole("a638d3c7-ab3a-418d-83e6-5f17a39d4fde", "Azure Event Hubs Data Receiver", Set(Capability.EventHubsReceive)),
        new BuiltInRole("f526a384-b230-433a-b45c-95f59c4a2dec", "Azure Event Hubs Data Owner", Set(Capability.EventHubsSend, Capability.EventHubsReceive)),
        new BuiltInRole("12338af0-0e69-4776-bea7-57ae8d297424", "Key Vault Crypto User", Set(Capability.KeysGet, Capability.KeysSign)),
        new BuiltInRole("14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "Key Vault Crypto Officer", Set(Capability.KeysGet, Capability.KeysSign, Capability.KeysCreate)),
        new BuiltInRole("21090545-7ca7-4776-b22c-e363652d74d2", "Key Vault Reader", Set(Capability.KeysGet)),
        new BuiltInRole("3913510d-42f4-4e42-8a64-420c390055eb", "Monitoring Metrics Publisher", Set(Capability.TelemetryPublish)),
        new BuiltInRole("48e5e92e-a480-4e71-aa9c-2778f4c13781", "Azure Batch Job Submitter", Set(Capability.BatchJobs)),
        new BuiltInRole("6aaa78f1-f7de-44ca-8722-c64a23943cae", "Azure Batch Data Contributor", Set(Capability.BatchJobs, Capability.BatchPools)),
    }.ToDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);

    private static HashSet<string> Set(params string[] capabilities) => new(capabilities, StringComparer.Ordinal);
}

/// <summary>
/// Where an operation acts: a resource of <paramref name="Type"/>, and when it matters which one, its literal
/// <paramref name="Name"/> (a hub, a container) or the symbol the Bicep declares it under (<paramref name="Symbol"/>:
/// <c>producerVault</c>, <c>committeeVault</c>).
/// </summary>
public sealed record ScopeSpec(string Type, string? Name = null, string? Symbol = null)
{
    public override string ToString() => Type + (Name is null ? "" : $" '{Name}'") + (Symbol is null ? "" : $" ({Symbol})");
}

/// <summary>An Azure data-plane operation the function app performs, why we know, and where it acts.</summary>
public sealed record AzureOperation(string What, string Capability, ScopeSpec Scope, string Source)
{
    public override string ToString() => $"{What} [{Capability} on {Scope}] ({Source})";
}

/// <summary>The Azure operations of the function app, derived from its code and its function.json files.</summary>
public static class AzureOperations
{
    public const string StorageAccount = "Microsoft.Storage/storageAccounts";
    public const string EventHub = "Microsoft.EventHub/namespaces/eventhubs";
    public const string Vault = "Microsoft.KeyVault/vaults";
    public const string ProducerVault = "producerVault";
    public const string CommitteeVault = "committeeVault";

    /// <summary>The Azure namespaces of Btmc.Platform and Btmc.Platform.Azure, and of the Azure SDKs the server
    /// constructs clients of: a type from them named in functions/ is an Azure client or one of its helpers, and must
    /// be listed below.</summary>
    public static readonly string[] AzureNamespaces =
    [
        "Btmc.Platform.Azure.Tables", "Btmc.Platform.EventHubs", "Btmc.Platform.Azure.EventHubs", "Azure.Messaging.EventHubs", "Btmc.Platform.Azure.Keys", "Btmc.Platform.Azure.Batch", "Btmc.Platform.Blobs",
        "Azure.Security.KeyVault.Keys",
    ];

    /// <summary>Clients that call Azure: type name to the operations one use stands for. A hub operation's hub is
    /// the string constant passed to the client (resolved by <see cref="SourceCode"/>).</summary>
    private static readonly Dictionary<string, Func<AzureClientUse, IEnumerable<AzureOperation>>> Clients = new(StringComparer.Ordinal)
    {
        ["AzureTableStore"] = use => [new("ledger tables: create, read, insert, upsert, delete, query, transactions (Azure.Data.Tables)", Capability.TableReadWrite, new(StorageAccount), use.Location)],
        ["EventHubProducerClient"] = use => use.ConstantArguments.Select(hub => new AzureOperation($"publish to {hub}", Capability.EventHubsSend, new(EventHub, hub), use.Location)),
        // KeyVaultSigningKey reads the key with the SDK's KeyClient (keys/read) and signs with its CryptographyClient
        // (keys/sign, after the CryptographyClient's own Get Key): Key Vault Crypto User.
        ["KeyVaultSigningKey"] = use => [new("producer keys: get (KeyClient) and sign block hashes (CryptographyClient)", Capability.KeysSign, new(Vault, Symbol: ProducerVault), use.Location)],
        ["KeyClient"] = use => [new("producer keys: get", Capability.KeysGet, new(Vault, Symbol: ProducerVault), use.Location)],
        ["BatchClient"] = use => [new("compute jobs: create jobs and task collections, read tasks and their files, terminate", Capability.BatchJobs, new("Microsoft.Batch/batchAccounts"), use.Location)],
        ["CryptographyClient"] = use => [new("producer keys: get and sign", Capability.KeysSign, new(Vault, Symbol: ProducerVault), use.Location)],
    };

    /// <summary>Types of those namespaces that make no call of their own (options, identifiers, value types).</summary>
    public static readonly IReadOnlySet<string> NoCallOfTheirOwn = new HashSet<string>(StringComparer.Ordinal)
    {
        "EventHubProducerClientOptions", "EventHubsRetryOptions", "EventHubConnectionOptions", "KeyClientOptions",
        // Sends through the EventHubProducerClient it is given; that construction names the hub and is mapped above.
        "EventHubSender",
        "KeyVaultAccess", "KeyVaultKeyIdentifier", "KeyVaultKey", "KeyProperties", "JsonWebKey", "KeyCurveName", "KeyType", "KeyOperation",
        "SignResult", "VerifyResult", "CreateEcKeyOptions",
        "BatchPoolSettings", "BatchComputePool", "BatchClientOptions",
    };

    /// <summary>
    /// Compute sharing (issue 6) is provisioned before its code exists: the operations that code will perform, each
    /// with the setting it will read. Remove an entry once the code names its client (then the code derives it).
    /// </summary>
    public static readonly IReadOnlyList<AzureOperation> PendingIssue6 =
    [
    ];

    /// <summary>Every operation: from the clients the code uses, the triggers of its function.json files, the
    /// Functions host, telemetry, and the pending compute-sharing ones.</summary>
    public static IReadOnlyList<AzureOperation> Derive(IReadOnlyList<AzureClientUse> uses, out IReadOnlyList<AzureClientUse> unmapped)
    {
        var operations = new List<AzureOperation>
        {
            new("the Functions host: timer monitor, Event Hubs checkpoints and leases, keys; the Flex deployment package", Capability.BlobOwner, new(StorageAccount), "AzureWebJobsStorage__* (identity-based host storage)"),
            new("telemetry with Entra ID", Capability.TelemetryPublish, new("Microsoft.Insights/components"), "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"),
        };
        var notMapped = new List<AzureClientUse>();
        foreach (var use in uses)
        {
            if (Clients.TryGetValue(use.TypeName, out var map))
            {
                var derived = map(use).ToList();
                if (derived.Count == 0)
                {
                    notMapped.Add(use);
                }

                operations.AddRange(derived);
            }
            else if (!NoCallOfTheirOwn.Contains(use.TypeName))
            {
                notMapped.Add(use);
            }
        }

        foreach (var (path, binding) in FunctionBindings())
        {
            var type = binding.GetProperty("type").GetString();
            if (type == "eventHubTrigger")
            {
                var hub = binding.GetProperty("eventHubName").GetString()!;
                operations.Add(new($"trigger reads {hub}", Capability.EventHubsReceive, new(EventHub, hub), path));
            }
            else if (type == "timerTrigger")
            {
                operations.Add(new("timer schedule monitor", Capability.BlobOwner, new(StorageAccount), path));
            }
            else if (type is not ("httpTrigger" or "http"))
            {
                notMapped.Add(new AzureClientUse($"binding {type}", path, []));
            }
        }

        operations.AddRange(PendingIssue6);
        unmapped = notMapped;
        return operations;
    }

    /// <summary>Every binding of every checked-in functions/bindings/&lt;Name&gt;/function.json.</summary>
    public static IEnumerable<(string Path, JsonElement Binding)> FunctionBindings() =>
        Directory.EnumerateDirectories(Repository.PathOf("functions", "bindings")).Order(StringComparer.Ordinal)
            .Select(folder => Path.Combine(folder, "function.json"))
            .Where(File.Exists)
            .SelectMany(path =>
            {
                using var document = JsonDocument.Parse(File.ReadAllText(path));
                var relative = Path.GetRelativePath(Repository.Root, path).Replace('\\', '/');
                return document.RootElement.GetProperty("bindings").EnumerateArray().Select(b => (relative, b.Clone())).ToList();
            });

    /// <summary>The Azure-namespace type names of the server's assemblies and of the Key Vault SDK.</summary>
    public static IReadOnlySet<string> AzureTypeNames() =>
        SourceCode.ServerAssemblies().Append(typeof(Azure.Security.KeyVault.Keys.KeyClient).Assembly).Distinct().SelectMany(a => a.GetExportedTypes())
            .Where(t => t.Namespace is { } ns && AzureNamespaces.Any(n => ns == n || ns.StartsWith(n + ".", StringComparison.Ordinal)))
            .Select(t => t.Name.Split('`')[0])
            .ToHashSet(StringComparer.Ordinal);
}
