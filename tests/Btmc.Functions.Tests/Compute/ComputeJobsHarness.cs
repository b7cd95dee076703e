using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Btmc.Cli;
using Btmc.Compute;
using Btmc.Compute.Mining;
using Btmc.Platform.Tables;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Btmc.Functions.Tests.Compute;

/// <summary>
/// A server in this process over a fresh data folder, with contributors registered in its <c>contributors</c> table
/// before it starts, its jobs advanced every 100 ms, and tasks run by the local process pool as real
/// <c>dotnet btmc.dll worker</c> processes (btmc.dll is built beside the tests).
/// </summary>
internal sealed class ComputeJobsHarness : IAsyncDisposable
{
    private ComputeJobsHarness(string data, LocalServer server)
    {
        Data = data;
        Server = server;
    }

    public string Data { get; }

    /// <summary>The server's job inputs folder (the embedded default, <c>&lt;data&gt;/compute-inputs</c>): the only files a job may read.</summary>
    public string Inputs => Path.Combine(Data, "compute-inputs");

    public LocalServer Server { get; private set; }

    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "btmc.dll");

    public static async Task<ComputeJobsHarness> StartAsync(string[] contributors, params string[] settings)
    {
        var data = LocalServer.NewDataDirectory();
        using (var service = new SqliteTableServiceClient(Path.Combine(data, "tables.db")))
        {
            var tables = new ComputeTables(service);
            await tables.CreateIfNotExistsAsync();
            foreach (var contributor in contributors)
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var point = key.ExportParameters(false).Q;
                await tables.Contributors.AddEntityAsync(new TableEntity(ComputeTables.ContributorsPartition, contributor, new Dictionary<string, object>
                {
                    ["ResourceType"] = "cpu",
                    ["PublicKey"] = JsonSerializer.Serialize(new { kty = "EC", crv = "P-256", x = Base64Url(point.X!), y = Base64Url(point.Y!) }),
                    ["RegisteredAt"] = DateTimeOffset.UtcNow,
                }));
            }
        }

        return new ComputeJobsHarness(data, await LocalServer.StartInProcessAsync(data, Settings(settings)));
    }

    /// <summary>Stops the server (its running tasks are killed) and starts a new one on the same data folder.</summary>
    public async Task RestartAsync(params string[] settings)
    {
        await Server.DisposeAsync();
        Server = await LocalServer.StartInProcessAsync(Data, Settings(settings));
    }

    /// <summary><c>btmc …</c> against the server, as its local partner.</summary>
    public async Task<(int Exit, string Output, string Error)> BtmcAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] partner = args is ["compute", ..] ? ["--api-key-file", Server.ApiKeyFile] : [];
        var exit = await BtmcCli.RunAsync([.. args, "--url", Server.BaseUrl, .. partner, "--poll-ms", "100"], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    public async Task<(int Status, JsonElement Body)> PostJobAsync(object request)
    {
        using var response = await Server.Http.PostAsJsonAsync("api/compute/jobs", request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Polls the job until it leaves "running".</summary>
    public async Task<JsonElement> WaitFinishedAsync(string jobId, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var job = await Server.GetJsonAsync($"api/compute/jobs/{jobId}");
            if (job.GetProperty("state").GetString() != "running")
            {
                return job;
            }

            Assert.True(watch.Elapsed < (timeout ?? TimeSpan.FromMinutes(3)), $"job {jobId} still running: {job}");
            await Task.Delay(100);
        }
    }

    /// <summary>The taskcredits rows of a contributor.</summary>
    public async Task<IReadOnlyList<TableEntity>> CreditsOfAsync(string contributor)
    {
        var tables = new ComputeTables(Server.Services.GetRequiredService<ITableServiceClient>());
        return (await tables.TaskCredits.QueryAsync(new TableQuery(contributor))).Items;
    }

    public static List<ulong> PlainLoop(byte[] header, int bits, ulong start, ulong count)
    {
        var found = new List<ulong>();
        for (var nonce = start; nonce < start + count; nonce++)
        {
            if (ShareHash.Meets(header, nonce, bits))
            {
                found.Add(nonce);
            }
        }

        return found;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Data, recursive: true);
    }

    private static string[] Settings(string[] settings) => ["--Compute:Jobs:AdvanceMilliseconds", "100", .. settings];

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
