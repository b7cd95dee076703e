using Azure.Identity;
using Btmc.Platform.Tables.Azure;
using Btmc.Functions.Ledger;
using Btmc.Functions.Partners;
using Btmc.Functions.Supply;
using Btmc.Platform.EventLog;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Btmc.Supply;

namespace Btmc.Functions;

/// <summary>
/// Builds the server: configuration, the embedded default adapters, the supply backend, the endpoints.
/// Listens where the Functions host says (FUNCTIONS_CUSTOMHANDLER_PORT, on 127.0.0.1), else on the configured
/// URLs, else on http://localhost:7071.
/// </summary>
public static class BtmcServer
{
    public const string DefaultUrl = "http://localhost:7071";

    public static async Task<WebApplication> BuildAsync(string[] args, CancellationToken cancellationToken = default)
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
        builder.Configuration.GetSection("Supply").Bind(supply);
        supply.Validate();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = supply.MaxCaptureBytes + 1L);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var dataDirectory = Path.GetFullPath(builder.Configuration["DataDirectory"] ?? Path.Combine(Directory.GetCurrentDirectory(), ".data"));
        Directory.CreateDirectory(dataDirectory);
        var producerId = builder.Configuration["ProducerId"] ?? "local-producer";
        var tableService = TableServiceFrom(builder.Configuration, dataDirectory);
        var log = new FileEventLog(Path.Combine(dataDirectory, "log"), supply.Partitions);
        var signer = LocalKeyFileSigner.OpenOrCreate(Path.Combine(dataDirectory, "keys", "producer.pem"), producerId);
        var partners = PartnerKeys.LoadOrCreate(dataDirectory, builder.Configuration["Partners:RegistryFile"]);
        var backend = new SupplyBackend(supply, tableService, log, signer);
        await backend.StartAsync(cancellationToken);

        builder.Services.AddSingleton(backend);
        builder.Services.AddSingleton(partners);
        builder.Services.AddSingleton<ITableServiceClient>(tableService);
        builder.Services.AddSingleton<IEventLog>(log);
        builder.Services.AddSingleton<IBlockSigner>(signer);
        builder.Services.AddHostedService<SealerService>();
        builder.Services.AddProblemDetails();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapGet("/", () => Results.Json(new { service = "btmc", status = "ready" }));
        CaptureEndpoints.Map(app);
        LedgerEndpoints.Map(app);
        QueryEndpoints.Map(app);
        Genealogy.TraceEndpoints.Map(app);

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var urls = string.Join(", ", app.Urls);
            Console.WriteLine($"BTMC backend listening on {urls}");
            Console.WriteLine($"  data:         {dataDirectory}");
            Console.WriteLine($"  tables:       {DescribeTables(builder.Configuration, dataDirectory)}");
            Console.WriteLine($"  producer key: {signer.KeyId} ({(signer.Created ? "created" : "loaded")}, {Path.Combine(dataDirectory, "keys", "producer.pem")})");
            Console.WriteLine(partners.CreatedKeyFile is { } keyFile
                ? $"  partners:     created {PartnerKeys.RegistryPath(dataDirectory)}; the API key of partner '{PartnerKeys.DefaultPartner}' is in {keyFile}"
                : $"  partners:     {partners.Count} registered in {PartnerKeys.RegistryPath(dataDirectory)}");
            Console.WriteLine($"  chains:       {string.Join(", ", backend.ChainIds)}; a block every {supply.SealMaxDelayMilliseconds} ms or {supply.SealMaxEvents} events");
        });
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
            (tableService as IDisposable)?.Dispose();
            signer.Dispose();
        });
        return app;
    }

    /// <summary>
    /// The table store: Azure Table storage when <c>Tables:ServiceUri</c> (Entra ID, DefaultAzureCredential: managed
    /// identity in Azure, AZURE_CLIENT_ID selects a user-assigned one) or <c>Tables:ConnectionString</c> (shared key;
    /// <c>UseDevelopmentStorage=true</c> for Azurite) is set, else the embedded SQLite store in the data folder.
    /// </summary>
    private static ITableServiceClient TableServiceFrom(IConfiguration configuration, string dataDirectory)
    {
        if (configuration["Tables:ServiceUri"] is { Length: > 0 } serviceUri)
        {
            return new AzureTableServiceClient(new Uri(serviceUri), new DefaultAzureCredential());
        }

        if (configuration["Tables:ConnectionString"] is { Length: > 0 } connectionString)
        {
            return new AzureTableServiceClient(connectionString);
        }

        return new SqliteTableServiceClient(Path.Combine(dataDirectory, "tables.db"));
    }

    private static string DescribeTables(IConfiguration configuration, string dataDirectory) =>
        configuration["Tables:ServiceUri"] is { Length: > 0 } uri ? $"Azure Table storage {uri} (Entra ID)"
        : configuration["Tables:ConnectionString"] is { Length: > 0 } ? "Azure Table storage (connection string)"
        : $"SQLite in {Path.Combine(dataDirectory, "tables.db")}";
}
