using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Btmc.Functions.Partners;
using Btmc.Platform.Azure.Keys;
using Btmc.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>
/// The real server on a loopback port: in this process (<see cref="StartInProcessAsync(string?, string[])"/>) or as a child process
/// started from the built executable (<see cref="StartProcessAsync(string, string[])"/>) or from a published function
/// app (<see cref="StartPublishedAsync"/>), which a test can kill -9.
/// </summary>
internal sealed class LocalServer : IAsyncDisposable
{
    private readonly WebApplication? _app;
    private readonly Process? _process;
    private StringBuilder? _output;
    private readonly bool _ownsData;
    private bool _stopped;

    private LocalServer(string baseUrl, string dataDirectory, bool ownsData, WebApplication? app, Process? process)
    {
        BaseUrl = baseUrl;
        DataDirectory = dataDirectory;
        _ownsData = ownsData;
        _app = app;
        _process = process;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl + "/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The API key of the partner the server created on first start; the <see cref="Http"/> client sends it
    /// once <see cref="Authenticate"/> ran (the start methods do).</summary>
    public string ApiKeyFile => PartnerSetup.LocalKeyPath(DataDirectory);

    private LocalServer Authenticate()
    {
        Http.DefaultRequestHeaders.Remove(PartnerAuthentication.HeaderName);
        if (File.Exists(ApiKeyFile))
        {
            // A registry written by a test may have no local partner.
            Http.DefaultRequestHeaders.Add(PartnerAuthentication.HeaderName, File.ReadAllText(ApiKeyFile).Trim());
        }

        return this;
    }

    public string BaseUrl { get; }

    /// <summary>The supply backend of a server running in this process.</summary>
    public Btmc.Supply.SupplyBackend Backend => (_app ?? throw new InvalidOperationException("Only an in-process server exposes its backend."))
        .Services.GetRequiredService<Btmc.Supply.SupplyBackend>();

    public string DataDirectory { get; }

    /// <summary>The services of a server running in this process (its table store, its compute job service).</summary>
    public IServiceProvider Services => (_app ?? throw new InvalidOperationException("Only an in-process server exposes its services.")).Services;

    public HttpClient Http { get; }

    /// <summary>What a server process printed so far (standard output and error), for a failure message; empty in process.</summary>
    public string ProcessOutput
    {
        get
        {
            if (_output is null)
            {
                return string.Empty;
            }

            lock (_output)
            {
                return $"exited: {(_process?.HasExited == true ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "no")}\n{_output}";
            }
        }
    }

    public static string NewDataDirectory() =>
        Directory.CreateTempSubdirectory("btmc-test-").FullName;

    /// <summary>Sealing settings that make tests quick: a block at most every 50 ms.</summary>
    /// <summary>Blocks at most 50 ms after their first event, in 50 ms slots (production: 3 s slots; docs/dpos.md).
    /// Tests of the producer schedule itself set 3000.</summary>
    public static readonly string[] FastSealing = ["--Supply:SealMaxDelayMilliseconds", "50", "--Governance:SlotMilliseconds", "50"];

    /// <summary>The entries of the supply chains a ledger verification counted (the governance chain holds its genesis too).</summary>
    public static long SupplyEntries(JsonElement verify) =>
        verify.GetProperty("chains").EnumerateArray().Where(c => c.GetProperty("chainId").GetString() != "governance").Sum(c => c.GetProperty("entries").GetInt64());

    public static Task<LocalServer> StartInProcessAsync(string? dataDirectory = null, params string[] settings) =>
        StartInProcessAsync(dataDirectory, dataDirectory is null, settings);

    /// <summary>An in-process server that signs with Key Vault producer keys in <paramref name="vault"/>, as its
    /// credential and over its transport (which trusts exactly the vault's self-signed certificate).</summary>
    public static Task<LocalServer> StartInProcessWithKeyVaultAsync(LoopbackKeyVault vault, params string[] settings) =>
        StartInProcessAsync(null, true, settings, new KeyVaultAccess(vault.Credential, vault.Transport));

    /// <summary>A server whose partner registry also holds <paramref name="partners"/>, each owning every prefix and
    /// with the API key <see cref="PartnerApiKey"/>.</summary>
    public static async Task<LocalServer> StartWithPartnersAsync(params string[] partners)
    {
        var server = await StartInProcessAsync();
        foreach (var partner in partners)
        {
            await server.AddPartnerAsync(partner, ["*"]);
        }

        return server;
    }

    /// <summary>The operator credential the server created on first start.</summary>
    public string OperatorKeyFile => PartnerSetup.OperatorKeyPath(DataDirectory);

    /// <summary>Registers a partner as the operator, with the API key <see cref="PartnerApiKey"/>; returns the answer.</summary>
    public async Task<JsonElement> AddPartnerAsync(string id, string[] prefixes, string[]? roles = null, string[]? grantedPrefixes = null,
        Btmc.Ledger.EcPublicJwk? signingKey = null, bool requireSignature = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/partners")
        {
            Content = JsonContent.Create(new
            {
                id, prefixes, roles = roles ?? ["partner"], grantedPrefixes = grantedPrefixes ?? [],
                apiKeySha256 = Btmc.Governance.PartnerDirectory.HashKey(PartnerApiKey(id)), signingKey, requireSignature,
            }),
        };
        request.Headers.Add(PartnerAuthentication.HeaderName, File.ReadAllText(OperatorKeyFile).Trim());
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST api/partners {id}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Uses the partner keys of <paramref name="source"/>, a server on the same table store: the registry is the
    /// ledger's, so the keys the first server created work here too.</summary>
    public LocalServer CopyKeysFrom(LocalServer source)
    {
        Directory.CreateDirectory(Path.Combine(DataDirectory, "keys"));
        foreach (var (from, to) in new[] { (source.ApiKeyFile, ApiKeyFile), (source.OperatorKeyFile, OperatorKeyFile) })
        {
            // A ledger with a committee has no local partner.
            if (File.Exists(from))
            {
                File.Copy(from, to, overwrite: true);
            }
        }

        return Authenticate();
    }

    /// <summary>A client that authenticates as <paramref name="partner"/> (its <see cref="PartnerApiKey"/>), or as nobody.</summary>
    public HttpClient ClientAs(string? partner)
    {
        var client = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = Http.Timeout };
        if (partner is not null)
        {
            client.DefaultRequestHeaders.Add(PartnerAuthentication.HeaderName, partner == "operator" ? File.ReadAllText(OperatorKeyFile).Trim() : PartnerApiKey(partner));
        }

        return client;
    }

    public static string PartnerApiKey(string partner) => partner + "-secret";

    private static async Task<LocalServer> StartInProcessAsync(string? dataDirectory, bool ownsData, string[] settings, KeyVaultAccess? keyVault = null)
    {
        var owns = ownsData;
        dataDirectory ??= NewDataDirectory();
        string[] args = ["--urls", "http://127.0.0.1:0", "--DataDirectory", dataDirectory, .. FastSealing, .. settings];
        var app = await BtmcServer.BuildAsync(args, keyVault: keyVault);
        await app.StartAsync();
        return new LocalServer(app.Urls.Single().TrimEnd('/'), dataDirectory, owns, app, null).Authenticate();
    }

    /// <summary>Starts the built server executable (handler.dll) under dotnet.</summary>
    public static Task<LocalServer> StartProcessAsync(string dataDirectory, params string[] settings)
    {
        var port = FreePort();
        var handler = Path.Combine(AppContext.BaseDirectory, "handler.dll");
        Assert.True(File.Exists(handler), $"server executable not found at {handler}");
        var start = new ProcessStartInfo("dotnet");
        foreach (var arg in (string[])[handler, "--urls", $"http://127.0.0.1:{port}", "--DataDirectory", dataDirectory, .. FastSealing, .. settings])
        {
            start.ArgumentList.Add(arg);
        }

        return StartProcessAsync(start, port, dataDirectory);
    }

    /// <summary>
    /// Starts a published function app's handler the way the Functions host does: the executable named by host.json's
    /// customHandler.description.defaultExecutablePath, relative to the app root, which is the working directory; the
    /// port in FUNCTIONS_CUSTOMHANDLER_PORT; settings as environment variables (BTMC_DataDirectory, ...).
    /// </summary>
    public static Task<LocalServer> StartPublishedAsync(string appRoot, string dataDirectory, IReadOnlyDictionary<string, string>? appSettings = null)
    {
        var port = FreePort();
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(appRoot, "host.json")));
        var executable = host.RootElement.GetProperty("customHandler").GetProperty("description").GetProperty("defaultExecutablePath").GetString();
        Assert.False(string.IsNullOrEmpty(executable), "host.json names no defaultExecutablePath");
        var start = new ProcessStartInfo(Path.Combine(appRoot, executable)) { WorkingDirectory = appRoot };
        start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["FUNCTIONS_APP_ROOT_PATH"] = appRoot;
        start.Environment["BTMC_DataDirectory"] = dataDirectory;
        start.Environment["BTMC_Supply__SealMaxDelayMilliseconds"] = "50";
        foreach (var (name, value) in appSettings ?? new Dictionary<string, string>())
        {
            // App settings reach the handler as environment variables, "__" for ":" (SupplyEvents__fullyQualifiedNamespace).
            start.Environment[name] = value;
        }

        return StartProcessAsync(start, port, dataDirectory);
    }

    /// <summary>Starts the process and waits, as the Functions host does, until GET / gets an HTTP answer.</summary>
    private static async Task<LocalServer> StartProcessAsync(ProcessStartInfo start, int port, string dataDirectory)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new LocalServer($"http://127.0.0.1:{port}", dataDirectory, false, null, process) { _output = output };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                lock (output)
                {
                    Assert.Fail($"server exited with code {process.ExitCode} during start-up:\n{output}");
                }
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the server did not answer GET / within 60 s");
            try
            {
                using var ready = await server.Http.GetAsync(string.Empty);
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

                // The answer must be this process's: a free port found earlier may have been taken meanwhile by another
                // test's server, which would answer while this one fails to bind and exits.
                bool listening;
                lock (output)
                {
                    listening = output.ToString().Contains($"listening on http://127.0.0.1:{port}", StringComparison.Ordinal);
                }

                if (listening)
                {
                    return server.Authenticate();
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(25);
        }
    }

    /// <summary>SIGKILL: the process gets no chance to flush or close anything.</summary>
    public void Kill()
    {
        if (_process is null)
        {
            throw new InvalidOperationException("Only a server process can be killed.");
        }

        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Captures as the local partner, or as <paramref name="partner"/> (see <see cref="StartWithPartnersAsync(string[])"/>).</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> CaptureAsync(byte[] document, string? partner = null, string mediaType = "application/ld+json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/epcis/capture") { Content = new ByteArrayContent(document) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var asPartner = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = Http.Timeout };
        asPartner.DefaultRequestHeaders.Add(PartnerAuthentication.HeaderName, partner is null ? File.ReadAllText(ApiKeyFile).Trim() : PartnerApiKey(partner));
        var response = await asPartner.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone(), response);
    }

    /// <summary>GETs as the operator, who sees every partner's data (or as the local partner where the registry has no
    /// operator), and expects success.</summary>
    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var asOperator = File.Exists(OperatorKeyFile) ? ClientAs("operator") : null;
        using var response = await (asOperator ?? Http).GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Waits until the capture has nothing pending, and returns its status.</summary>
    public async Task<JsonElement> WaitSealedAsync(string captureId, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            // As the operator, who sees every partner's captures (the local partner sees only its own).
            using var asOperator = File.Exists(OperatorKeyFile) ? ClientAs("operator") : null;
            using var response = await (asOperator ?? Http).GetAsync($"api/epcis/capture/{captureId}");
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"GET capture {captureId}: {(int)response.StatusCode} {text}");
            var status = JsonDocument.Parse(text).RootElement.Clone();
            if (status.GetProperty("pending").GetInt32() == 0)
            {
                return status;
            }

            Assert.True(watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)), $"capture {captureId} not sealed in time: {status}");
            await Task.Delay(20);
        }
    }

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        else if (_process is { HasExited: false })
        {
            Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
        _process?.Dispose();
        if (_ownsData)
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
