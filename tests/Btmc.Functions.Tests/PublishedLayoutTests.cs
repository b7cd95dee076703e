using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Btmc.Functions.Partners;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>
/// The deployable function app: what <c>dotnet publish</c> of the handler produces (once for the class), and the
/// published handler started and called the way the Functions host does, proxying requests to it unchanged.
/// </summary>
public sealed class PublishedLayoutTests(PublishedLayoutTests.PublishedApp app) : IClassFixture<PublishedLayoutTests.PublishedApp>
{
    [Fact]
    public void Publish_FunctionApp_HasHostJsonTheHandlerAndOneFolderPerFunction()
    {
        Assert.Equal(File.ReadAllText(Path.Combine(SharedTestData.RepositoryRoot, "host.json")), File.ReadAllText(Path.Combine(app.Root, "host.json")));
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(app.Root, "host.json")));
        var executable = host.RootElement.GetProperty("customHandler").GetProperty("description").GetProperty("defaultExecutablePath").GetString();
        Assert.Equal("handler", executable);
        var handler = Path.Combine(app.Root, "handler");
        Assert.True(File.Exists(handler), "no handler at the app root");
        if (!OperatingSystem.IsWindows())
        {
            Assert.True(File.GetUnixFileMode(handler).HasFlag(UnixFileMode.UserExecute), "the handler is not executable");
        }

        var expected = FunctionFiles(Path.Combine(SharedTestData.RepositoryRoot, "functions", "bindings"));
        var published = FunctionFiles(app.Root);
        Assert.Contains(FunctionNames.CaptureEvents, published.Keys);
        Assert.Equal(expected, published);
    }

    [Fact]
    public async Task Handler_StartedLikeTheFunctionsHost_CapturesSealsAndAnswersQueries()
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            await using var server = await LocalServer.StartPublishedAsync(app.Root, data);
            var epc = "urn:epc:id:sgtin:0614141.000042.1";
            using var client = new HttpClient { BaseAddress = server.Http.BaseAddress };

            using var anonymous = new HttpRequestMessage(HttpMethod.Post, "api/epcis/capture") { Content = Document(epc) };
            using var refused = await client.SendAsync(anonymous);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

            using var capture = new HttpRequestMessage(HttpMethod.Post, "api/epcis/capture") { Content = Document(epc) };
            capture.Headers.Add(PartnerAuthentication.HeaderName, (await File.ReadAllTextAsync(Path.Combine(data, "keys", "partner-local.key"))).Trim());
            using var accepted = await client.SendAsync(capture);
            var body = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement;
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{(int)accepted.StatusCode} {body}");
            var captureId = body.GetProperty("captureId").GetString();
            Assert.Equal($"/api/epcis/capture/{captureId}", accepted.Headers.Location?.OriginalString);
            var eventId = Assert.Single(body.GetProperty("eventIds").EnumerateArray()).GetString();

            var status = await server.WaitSealedAsync(captureId ?? string.Empty);
            Assert.Equal(1, status.GetProperty("sealed").GetInt32());
            Assert.Equal(PartnerSetup.LocalPartner, status.GetProperty("partner").GetString());
            var chains = await server.GetJsonAsync("api/ledger/chains");
            Assert.Equal(1, chains.GetProperty("totalEntries").GetInt64());
            var query = await server.GetJsonAsync("api/epcis/events?MATCH_epc=" + Uri.EscapeDataString(epc));
            var found = Assert.Single(query.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList").EnumerateArray());
            Assert.Equal(epc, found.GetProperty("epcList")[0].GetString());
            var stored = await server.GetJsonAsync("api/epcis/events/" + Uri.EscapeDataString(eventId ?? string.Empty));
            Assert.Equal("sealed", stored.GetProperty("status").GetString());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Handler_OnEventHubs_PublishesCapturesAndSealsTheHostsTriggerInvocations()
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            await using var hub = await SimulatedSupplyHub.StartAsync();
            await using var server = await LocalServer.StartPublishedAsync(app.Root, data, hub.AppSettings);
            var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(
                CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.000043.1"), CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.000044.1")));
            Assert.True(status == HttpStatusCode.Accepted, body.ToString());
            var messages = hub.Messages();
            Assert.Equal(2, messages.Count);

            foreach (var partition in messages.GroupBy(m => m.Partition))
            {
                var (sealedStatus, contentType, answer) = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(partition.ToList()));
                Assert.True(sealedStatus == 200, answer.ToString());
                Assert.Equal("application/json", contentType);
                Assert.Equal(JsonValueKind.Array, answer.GetProperty("Logs").ValueKind);
            }

            var capture = await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
            Assert.Equal(2, capture.GetProperty("sealed").GetInt32());
            var timer = await server.Http.PostAsync("/" + FunctionNames.AuditLedger, new StringContent(
                "{\"Data\":{\"timer\":{\"Schedule\":{\"AdjustForDST\":true},\"ScheduleStatus\":null,\"IsPastDue\":false}},\"Metadata\":{\"sys\":{\"MethodName\":\"AuditLedger\"}}}",
                Encoding.UTF8, "application/json"));
            var audit = JsonDocument.Parse(await timer.Content.ReadAsStringAsync()).RootElement;
            Assert.True(timer.StatusCode == HttpStatusCode.OK, audit.ToString());
            Assert.Contains(audit.GetProperty("Logs").EnumerateArray(), l => l.GetString()!.EndsWith("1 entries verified", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Folder name → function.json text, of the folders right under <paramref name="root"/>.</summary>
    private static SortedDictionary<string, string> FunctionFiles(string root) =>
        new(Directory.EnumerateDirectories(root)
            .Where(folder => File.Exists(Path.Combine(folder, FunctionJson.FileName)))
            .ToDictionary(folder => Path.GetFileName(folder), folder => File.ReadAllText(Path.Combine(folder, FunctionJson.FileName))),
            StringComparer.Ordinal);

    private static ByteArrayContent Document(string epc)
    {
        var content = new ByteArrayContent(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event(epc)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
        return content;
    }

    /// <summary>
    /// <c>dotnet publish functions/Btmc.Functions -c Release -r linux-x64 --self-contained false</c> into a temporary
    /// folder, as the deployment does. Incremental: the handler is compiled for linux-x64 once per checkout.
    /// </summary>
    public sealed class PublishedApp : IAsyncLifetime
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("btmc-publish-").FullName;

        public async Task InitializeAsync()
        {
            var project = Path.Combine(SharedTestData.RepositoryRoot, "functions", "Btmc.Functions", "Btmc.Functions.csproj");
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in (string[])["publish", project, "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-o", Root, "--nologo", "--disable-build-servers"])
            {
                start.ArgumentList.Add(arg);
            }

            // The test runs under MSBuild's VSTest task; its settings are not for this build.
            foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                start.Environment.Remove(name);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            var output = new StringBuilder();
            process.OutputDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
            process.ErrorDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"dotnet publish took over 5 minutes:\n{output}");
            }

            // WaitForExitAsync also waits for the redirected output to end.
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet publish failed with exit code {process.ExitCode}:\n{output}");
            }
        }

        public Task DisposeAsync()
        {
            Directory.Delete(Root, recursive: true);
            return Task.CompletedTask;
        }
    }
}
