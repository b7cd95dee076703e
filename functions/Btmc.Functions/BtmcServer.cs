using Azure.Core;
using Azure.Identity;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Btmc.Chains;
using Btmc.Compute;
using Btmc.Functions.Compute;
using Btmc.Functions.Governance;
using Btmc.Functions.Ledger;
using Btmc.Functions.Partners;
using Btmc.Functions.Supply;
using Btmc.Functions.Trade;
using Btmc.Functions.Witnesses;
using Btmc.Governance;
using Btmc.Platform.Azure.EventHubs;
using Btmc.Platform.Azure.Keys;
using Btmc.Platform.Azure.Tables;
using Btmc.Platform.EventLog;
using Btmc.Platform.Tables;
using Btmc.Supply;
using Btmc.Supply.Sealing;
using Btmc.Supply.Subscriptions;
using Btmc.Trade;
using Microsoft.AspNetCore.Diagnostics;

namespace Btmc.Functions;

/// <summary>
/// Builds the server: configuration, the embedded default adapters, the supply backend, the endpoints.
/// Listens where the Functions host says (FUNCTIONS_CUSTOMHANDLER_PORT, on 127.0.0.1), else on the configured
/// URLs, else on http://localhost:7071.
/// </summary>
public static class BtmcServer
{
    public const string DefaultUrl = "http://localhost:7071";

    /// <param name="args">Command-line settings.</param>
    /// <param name="cancellationToken">Stops the start.</param>
    /// <param name="keyVault">The identity (and, for a test vault, the transport) that signs with Key Vault producer
    /// keys; by default the <c>KeyVault</c> section's credential (see <see cref="CredentialFrom"/>) and the SDK's transport.</param>
    public static async Task<WebApplication> BuildAsync(string[] args, CancellationToken cancellationToken = default, KeyVaultAccess? keyVault = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Configuration.AddEnvironmentVariables("BTMC_");
        var handlerPort = Environment.GetEnvironmentVariable("FUNCTIONS_CUSTOMHANDLER_PORT");
        if (!string.IsNullOrEmpty(handlerPort))
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{handlerPort}");
        }
        else if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var supply = new SupplyOptions();
        if (OnTableStorage(builder.Configuration))
        {
            // Defaults that fit Table storage (docs/storage-layout.md, "Arithmetic"): a block's entries share one
            // partition, which takes at most 2,000 entities a second, and 16 chains keep the sealing capacity.
            supply.SealMaxEvents = SupplyOptions.TableStorageMaxBlockEvents;
            supply.Partitions = SupplyOptions.TableStoragePartitions;
        }

        builder.Configuration.GetSection("Supply").Bind(supply);
        supply.Validate();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = supply.MaxCaptureBytes + 1L);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var time = TimeProvider.System;
        var dataDirectory = Path.GetFullPath(builder.Configuration["DataDirectory"] ?? Path.Combine(Directory.GetCurrentDirectory(), ".data"));
        Directory.CreateDirectory(dataDirectory);
        var tableService = TableServiceFrom(builder.Configuration, dataDirectory);
        var supplyEvents = SupplyEventsFrom(builder.Configuration);
        var log = supplyEvents is null ? new FileEventLog(Path.Combine(dataDirectory, "log"), supply.Partitions) : null;
        var vaultAccess = new Lazy<KeyVaultAccess>(() => keyVault ?? new KeyVaultAccess(CredentialFrom(builder.Configuration.GetSection("KeyVault"))));
        var (governance, producers) = await GovernanceSetup.StartAsync(builder.Configuration, tableService, supply, dataDirectory, () => vaultAccess.Value, time, cancellationToken);
        var rollback = await RollbackSetup.StartAsync(builder.Configuration, governance.Store.Reader, Enumerable.Range(0, supply.Partitions).Select(supply.ChainId), cancellationToken);
        governance.Store.Guard = rollback;
        var partners = await PartnerSetup.StartAsync(governance, dataDirectory, builder.Configuration["Partners:RegistryFile"], cancellationToken);
        var backend = supplyEvents is null
            ? new SupplyBackend(supply, tableService, log!, governance.Scheduler, time)
            : new SupplyBackend(supply, tableService, supplyEvents, governance.Scheduler, time);
        backend.Store.Guard = rollback;
        await backend.StartAsync(cancellationToken);
        backend.Capture.IsErrorDeclarationApproved = eventId => governance.State.ApprovedErrorDeclarations.Contains(eventId);
        backend.Receipts.Witnesses = () => governance.State.Witnesses.Values.ToList();
        // Which partner a party is follows the registry as it changes (GovernanceSync), so it is read at each derivation.
        backend.Ownership.Partners = () => partners.Registry.Directory.Partners.Values.Select(p => p.AsCaller()).ToList();
        var computeOptions = new ComputeOptions();
        builder.Configuration.GetSection("Compute").Bind(computeOptions);
        computeOptions.Validate();
        var miningEvents = MiningEventsFrom(builder.Configuration);
        var miningLog = miningEvents is null ? new FileEventLog(Path.Combine(dataDirectory, "mining-log"), computeOptions.Partitions) : null;
        var compute = miningLog is not null
            ? new ComputeBackend(computeOptions, tableService, backend.Store, governance.Scheduler, miningLog, supply.TablePrefix, time)
            : new ComputeBackend(computeOptions, tableService, backend.Store, governance.Scheduler, miningEvents!, supply.TablePrefix, time);
        await compute.StartAsync(cancellationToken);
        var (computeJobs, localPool, computeDriver) = await ComputeSetup.StartAsync(builder.Configuration, tableService, dataDirectory, cancellationToken);
        var tradeLedger = new TradeLedger(backend.Store, governance.Scheduler, time);
        await tradeLedger.SyncAsync(cancellationToken);
        var trade = new TradeService(tradeLedger, backend, new TradeDirectory(
            () => governance.Partners.Partners.Values.Where(p => !p.Suspended).Select(p => p.AsCaller()).ToList(),
            partner => governance.Partners.Partners.GetValueOrDefault(partner)?.Spec.SigningKey));

        var subscriptionOptions = new SubscriptionOptions();
        builder.Configuration.GetSection("Subscriptions").Bind(subscriptionOptions);
        subscriptionOptions.Validate();
        builder.Services.AddSingleton(services => new SubscriptionDispatcher(backend.Subscriptions, backend.NamedQueries, backend.Query.ResolveMasterDataAsync,
            new SealedFeed(supply, backend.Reader), new Destinations(subscriptionOptions.AllowLocalDestinations),
            // Deliveries go with the partner's rights as they are at each delivery: a suspended partner is sent nothing.
            partner => governance.Partners.Partners.GetValueOrDefault(partner) is { Suspended: false } p ? p.AsCaller() : null,
            subscriptionOptions, time, services.GetRequiredService<ILogger<SubscriptionDispatcher>>()));
        builder.Services.AddHostedService<SubscriptionService>();
        builder.Services.AddSingleton(backend);
        builder.Services.AddSingleton(new SealingWatch(backend));
        builder.Services.AddSingleton(compute);
        if (miningLog is not null)
        {
            builder.Services.AddHostedService<ComputeService>();
        }
        builder.Services.AddSingleton(governance);
        builder.Services.AddSingleton(rollback);
        builder.Services.AddSingleton(new GovernanceService(governance, time));
        builder.Services.AddSingleton(new LedgerAuditor(backend.Store.Reader));
        builder.Services.AddSingleton(partners.Registry);
        builder.Services.AddSingleton(new WitnessRegistry(governance));
        builder.Services.AddSingleton(time);
        builder.Services.AddHostedService<GovernanceSync>();
        builder.Services.AddHostedService<RootCheckpointService>();
        builder.Services.AddSingleton<ITableServiceClient>(tableService);
        if (log is not null)
        {
            builder.Services.AddSingleton<IEventLog>(log);
            builder.Services.AddHostedService<SealerService>();
            builder.Services.AddHostedService<SealingMonitor>();
        }
        else
        {
            builder.Services.AddHostedService<PendingSweepService>();
        }
        builder.Services.AddSingleton(computeJobs);
        builder.Services.AddSingleton(trade);
        builder.Services.AddSingleton(computeDriver);
        if (localPool is not null)
        {
            // In Azure (the Batch pool) the AdvanceComputeJobs timer function advances jobs instead.
            builder.Services.AddHostedService<ComputeJobsDriver>();
        }

        builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = StorageProblem);
        builder.Services.AddExceptionHandler<RefusalHandler>();

        var app = builder.Build();
        _ = backend.TermBackfill.ContinueWith(t => app.Logger.LogError(t.Exception, "Backfilling the term index failed; queries by place, step, hour or transaction scan until a restart completes it"),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // The table store or the hub out of reach after the clients' bounded retries: 503, say which and why.
            // A request Kestrel refuses while the endpoint reads it (over the body limit, malformed): its own status.
            StatusCodeSelector = exception => IsStorageOutage(exception) || exception is SealingRefusedException ? StatusCodes.Status503ServiceUnavailable
                : exception is BadHttpRequestException bad ? bad.StatusCode
                : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseWebSockets();
        // termIndex: "backfilling" while blocks sealed by an earlier version get the term index's newer rows (queries by
        // place, step, hour or transaction scan meanwhile; docs/epcis-query.md, "Planning").
        app.MapGet("/", () => Results.Json(new { service = "btmc", status = "ready", termIndex = backend.Terms.Complete ? "complete" : "backfilling" }));
        CaptureEndpoints.Map(app);
        LedgerEndpoints.Map(app);
        CheckpointEndpoints.Map(app);
        LeafEndpoints.Map(app);
        QueryEndpoints.Map(app);
        NamedQueryEndpoints.Map(app);
        SubscriptionEndpoints.Map(app);
        Genealogy.TraceEndpoints.Map(app);
        Assets.AssetEndpoints.Map(app);
        SupplyEventsTrigger.Map(app);
        GovernanceEndpoints.Map(app);
        MiningEndpoints.Map(app);
        JobEndpoints.Map(app);
        PartnerEndpoints.Map(app);
        WitnessEndpoints.Map(app);
        TradeEndpoints.Map(app);

        // The hubs' AMQP connections close with the app (the senders are not the container's to dispose).
        app.Lifetime.ApplicationStopped.Register(() => Task.WhenAll(
            (supplyEvents?.DisposeAsync() ?? ValueTask.CompletedTask).AsTask(),
            (miningEvents?.DisposeAsync() ?? ValueTask.CompletedTask).AsTask()).GetAwaiter().GetResult());
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var urls = string.Join(", ", app.Urls);
            Console.WriteLine($"BTMC backend listening on {urls}");
            Console.WriteLine($"  data:         {dataDirectory}");
            Console.WriteLine($"  tables:       {DescribeTables(builder.Configuration, dataDirectory)}");
            Console.WriteLine(supplyEvents is null
                ? $"  events:       embedded log in {Path.Combine(dataDirectory, "log")}, sealed in this process"
                : $"  events:       Event Hubs {supplyEvents.FullyQualifiedNamespace}/{supplyEvents.EventHubName}, sealed by the {FunctionNames.SealSupplyEvents} trigger");
            Console.WriteLine($"  governance:   {governance.State.Domain}, {governance.State.Committee.Count} committee members, {governance.State.Producers.Count} producers registered");
            foreach (var producer in producers)
            {
                Console.WriteLine($"  producer:     {producer.Producer} signs with {producer.Key.KeyId} ({producer.Key.Reference})");
            }

            foreach (var finding in rollback.Findings)
            {
                app.Logger.LogCritical("Sealing refused: {Finding}", finding.Describe());
            }

            if (rollback.IsRefused)
            {
                app.Logger.LogCritical("{Recovery}", RollbackSetup.Recovery);
            }

            if (partners.ImportedFrom is { } imported)
            {
                Console.WriteLine($"  partners:     imported {imported} into the governance chain (once; the file is no longer read)");
            }

            if (partners.LocalKeyFile is { } localKey)
            {
                Console.WriteLine($"  partners:     created partner '{PartnerSetup.LocalPartner}' (every prefix); its API key is in {localKey}");
            }

            if (partners.OperatorKeyFile is { } operatorKey)
            {
                Console.WriteLine($"  partners:     created the operator credential (manages partners: btmc partner ...); its API key is in {operatorKey}");
            }

            Console.WriteLine($"  partners:     {partners.Registry.Directory.Partners.Count} registered in the governance chain; changes made elsewhere apply here within {GovernanceSync.Interval.TotalSeconds:0} s");
            Console.WriteLine(localPool is not null
                ? $"  compute:      local process pool in {localPool.Root}, {localPool.MaxParallelTasks} tasks at once, jobs advanced every {computeDriver.AdvanceMilliseconds} ms"
                : $"  compute:      {computeJobs.Pool.GetType().Name}, jobs advanced by the {FunctionNames.AdvanceComputeJobs} trigger");
            Console.WriteLine($"  chains:       {string.Join(", ", backend.ChainIds)}; at most one block per {governance.Rules.Clock.SlotMilliseconds} ms slot each, of up to {supply.SealMaxEvents} events");
            if (!backend.IsSealingOwner)
            {
                Console.WriteLine($"  NOT SEALING:  {backend.Capture.NotSealingReason} Captures are refused (503); reads and governance work.");
            }

            if (tableService is AzureTableStore && supply.SealMaxEvents > SupplyOptions.TableStorageMaxBlockEvents)
            {
                Console.WriteLine($"  WARNING:      Supply:SealMaxEvents {supply.SealMaxEvents} on Table storage puts more than {SupplyOptions.TableStorageMaxBlockEvents} entities in one block's partition (docs/storage-layout.md); set it to {SupplyOptions.TableStorageMaxBlockEvents} and raise Supply:Partitions instead.");
            }
        });
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            // Running tasks are killed and stay "running" in the pool's folder: the next start runs them again.
            localPool?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            log?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            miningLog?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            (tableService as IDisposable)?.Dispose();
            foreach (var producer in producers)
            {
                (producer.Key as IDisposable)?.Dispose();
            }
        });
        return app;
    }

    private static bool OnTableStorage(IConfiguration configuration) =>
        configuration["Tables:ServiceUri"] is { Length: > 0 } || configuration["Tables:ConnectionString"] is { Length: > 0 };

    internal static bool IsStorageOutage(Exception exception) =>
        exception is TableStoreException { Status: >= 500 } or Azure.RequestFailedException { Status: 0 or >= 500 }
            // The hub's client says which failures are worth retrying later (busy, timeouts, the connection lost).
            or EventHubsException { IsTransient: true };

    private static void StorageProblem(ProblemDetailsContext context)
    {
        if (context.HttpContext.Features.Get<IExceptionHandlerFeature>()?.Error is { } error && IsStorageOutage(error))
        {
            context.ProblemDetails.Title = "Storage unavailable";
            context.ProblemDetails.Detail = $"{error.Message} Nothing of this request was acknowledged; retry it later.";
            context.HttpContext.Response.Headers.RetryAfter = "5";
        }
        else if (context.HttpContext.Features.Get<IExceptionHandlerFeature>()?.Error is SealingRefusedException refused)
        {
            context.ProblemDetails.Title = "Sealing refused";
            context.ProblemDetails.Detail = $"{refused.Message}. {RollbackSetup.Recovery}";
        }
    }

    /// <summary>
    /// The table store: Azure Table storage when <c>Tables:ServiceUri</c> (Entra ID: see <see cref="CredentialFrom"/>)
    /// or <c>Tables:ConnectionString</c> (shared key; <c>UseDevelopmentStorage=true</c> for Azurite) is set, else the
    /// embedded SQLite store in the data folder.
    /// </summary>
    private static ITableServiceClient TableServiceFrom(IConfiguration configuration, string dataDirectory)
    {
        if (configuration["Tables:ServiceUri"] is { Length: > 0 } serviceUri)
        {
            return new AzureTableStore(new Uri(serviceUri), CredentialFrom(configuration.GetSection("Tables")));
        }

        if (configuration["Tables:ConnectionString"] is { Length: > 0 } connectionString)
        {
            return new AzureTableStore(connectionString);
        }

        return new SqliteTableServiceClient(Path.Combine(dataDirectory, "tables.db"));
    }

    /// <summary>
    /// The supply-events hub, named like the Functions host's connection <c>SupplyEvents</c> so that the host's trigger
    /// and the handler's publisher read the same app settings: <c>SupplyEvents__fullyQualifiedNamespace</c> (Entra ID,
    /// see <see cref="CredentialFrom"/>), or the connection string <c>SupplyEvents</c> (shared access key;
    /// <c>UseDevelopmentEmulator=true</c> speaks plain AMQP to the emulator or a test hub). Null, the embedded log, when
    /// neither is set. <c>SupplyEvents__endpoint</c> connects to another address (a gateway, a private endpoint).
    /// </summary>
    private static EventHubSender? SupplyEventsFrom(IConfiguration configuration)
    {
        // Written out for each hub (not one helper taking the name): the infrastructure tests read the hub name from
        // each EventHubProducerClient construction to derive the roles the app needs (tests/Btmc.Infra.Tests).
        var section = configuration.GetSection(SupplyEventsTrigger.Connection);
        if (section["fullyQualifiedNamespace"] is { Length: > 0 } fullyQualifiedNamespace)
        {
            return new EventHubSender(new EventHubProducerClient(fullyQualifiedNamespace, SupplyEventsTrigger.EventHubName, CredentialFrom(section), HubOptions(section)));
        }

        return section.Value is { Length: > 0 } connectionString
            ? new EventHubSender(new EventHubProducerClient(connectionString, SupplyEventsTrigger.EventHubName, HubOptions(section)))
            : null;
    }

    /// <summary>The mining-events hub, read the same way through the connection <c>MiningEvents</c> (docs/compute.md).</summary>
    private static EventHubSender? MiningEventsFrom(IConfiguration configuration)
    {
        var section = configuration.GetSection(MiningEndpoints.Connection);
        if (section["fullyQualifiedNamespace"] is { Length: > 0 } fullyQualifiedNamespace)
        {
            return new EventHubSender(new EventHubProducerClient(fullyQualifiedNamespace, MiningEndpoints.EventHubName, CredentialFrom(section), HubOptions(section)));
        }

        return section.Value is { Length: > 0 } connectionString
            ? new EventHubSender(new EventHubProducerClient(connectionString, MiningEndpoints.EventHubName, HubOptions(section)))
            : null;
    }

    /// <summary>
    /// Bounded retries: a capture waits until its events are durable in the hub, so a hub out of reach must end in a
    /// refusal (503) within about a minute, not hang. <c>{connection}__endpoint</c> connects to another address.
    /// </summary>
    private static EventHubProducerClientOptions HubOptions(IConfigurationSection section)
    {
        var options = new EventHubProducerClientOptions
        {
            RetryOptions = new EventHubsRetryOptions
            {
                Mode = EventHubsRetryMode.Exponential,
                MaximumRetries = 3,
                Delay = TimeSpan.FromMilliseconds(800),
                MaximumDelay = TimeSpan.FromSeconds(10),
                TryTimeout = TimeSpan.FromSeconds(15),
            },
        };
        if (section["endpoint"] is { Length: > 0 } endpoint)
        {
            options.ConnectionOptions.CustomEndpointAddress = new Uri(endpoint);
        }

        return options;
    }

    /// <summary>
    /// The Entra ID credential of a connection section, as the Functions host reads identity-based connections:
    /// <c>credential=managedidentity</c> with an optional <c>clientId</c> (a user-assigned identity) selects managed
    /// identity; otherwise DefaultAzureCredential (managed identity in Azure, the developer's sign-in locally).
    /// </summary>
    internal static TokenCredential CredentialFrom(IConfigurationSection section)
    {
        var clientId = section["clientId"];
        if (string.Equals(section["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase) || !string.IsNullOrEmpty(clientId))
        {
            return string.IsNullOrEmpty(clientId)
                ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
        }

        return new DefaultAzureCredential();
    }

    private static string DescribeTables(IConfiguration configuration, string dataDirectory) =>
        configuration["Tables:ServiceUri"] is { Length: > 0 } uri ? $"Azure Table storage {uri} (Entra ID)"
        : configuration["Tables:ConnectionString"] is { Length: > 0 } ? "Azure Table storage (connection string)"
        : $"SQLite in {Path.Combine(dataDirectory, "tables.db")}";
}
