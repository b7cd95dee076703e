using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Btmc.Bench;

/// <summary>
/// The server (handler.dll, built beside the bench) in its own process on a loopback port and a data folder, its
/// stdout and stderr appended to <c>&lt;data&gt;/server.log</c> (or the log named), logging at Warning.
/// </summary>
internal sealed class ServerProcess
{
    private ServerProcess(ChildProcess child, string dataDirectory, int port)
    {
        Child = child;
        DataDirectory = dataDirectory;
        Port = port;
    }

    public ChildProcess Child { get; }

    public int Id => Child.Id;

    public string DataDirectory { get; }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public string LogPath => Child.LogPath;

    /// <summary>The API key of partner <c>local</c>, which the server writes into its data folder on first start.</summary>
    public string ApiKeyFile => Path.Combine(DataDirectory, "keys", "partner-local.key");

    public string ReadApiKey() => File.ReadAllText(ApiKeyFile).Trim();

    /// <param name="settings">Server settings (<c>--Supply:SealMaxEvents 5000</c> ...), after the bench's own.</param>
    /// <param name="logPath">Where stdout and stderr go: <c>&lt;data&gt;/server.log</c> unless named.</param>
    public static ServerProcess Start(string dataDirectory, int port, IEnumerable<string> settings, string? logPath = null)
    {
        Directory.CreateDirectory(dataDirectory);
        var handler = Path.Combine(AppContext.BaseDirectory, "handler.dll");
        var child = ChildProcess.Start("dotnet", [handler, "--urls", $"http://127.0.0.1:{port}", "--DataDirectory", dataDirectory,
            "--Logging:LogLevel:Default", "Warning", .. settings], logPath ?? Path.Combine(dataDirectory, "server.log"));
        return new ServerProcess(child, dataDirectory, port);
    }

    /// <summary>Waits until the server answers <c>GET /</c>; throws when it exits first or does not answer within <paramref name="timeout"/>.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (Child.HasExited)
            {
                throw new InvalidOperationException($"the server exited with code {Child.ExitCode} (log: {LogPath})");
            }

            try
            {
                using var response = await http.GetAsync(string.Empty, cancellationToken);
                return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The 5-s timeout of one probe.
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"the server did not answer within {timeout.TotalSeconds:F0} s (log: {LogPath})");
    }

    /// <summary>kill -9.</summary>
    public Task KillAsync() => Child.KillAsync();

    /// <summary>SIGTERM (ASP.NET Core's orderly shutdown), kill -9 after <paramref name="grace"/>; true when it exited on its own.</summary>
    public Task<bool> StopAsync(TimeSpan grace) => Child.StopAsync("TERM", grace);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
