using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Btmc.Bench;

/// <summary>
/// Azurite's table service (node_modules/.bin/azurite-table, which ./test.sh installs) on a free loopback port with its
/// own folder (the database and <c>azurite.log</c>), the way test.sh starts it. It can be stopped and started again on
/// the same port and folder. Stopping sends SIGINT, on which Azurite saves its database and exits; kill -9 would lose
/// what it wrote in the last 5 s (it saves every 5 s), which Azure Table storage never does, so it is used only when
/// Azurite does not exit within 15 s.
/// </summary>
internal sealed class AzuriteProcess
{
    /// <summary>What the commands print when Azurite is not installed.</summary>
    public const string NotInstalled = "node_modules/.bin/azurite-table not found: run ./test.sh once, which installs Azurite";

    // Azurite's published development account (not a secret).
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _executable;
    private readonly bool _inMemory;
    private ChildProcess _child;
    private bool _stopping;

    private AzuriteProcess(string executable, string folder, int port, bool inMemory, ChildProcess child)
    {
        _executable = executable;
        _inMemory = inMemory;
        Folder = folder;
        Port = port;
        _child = child;
    }

    public string Folder { get; }

    public int Port { get; }

    public int Id => _child.Id;

    /// <summary>
    /// About how many events a soak may put into Azurite: it keeps its whole table database in memory and saves it as
    /// one JSON string, which V8 cannot make longer than 512 MiB; the ledger takes about 3.5 KB per event there (entries,
    /// the event, its index and term rows: 131 MB for 37,500 events), and Azurite crashed in JSON.stringify with a
    /// 533 MB database, at about 150,000 events.
    /// </summary>
    public const int EventCapacity = 100_000;

    /// <summary>Null while Azurite runs (or was stopped by the bench); else how it ended, with the reason its log gives.</summary>
    public string? ExitedOnItsOwn()
    {
        if (!_child.HasExited || _stopping)
        {
            return null;
        }

        var why = _child.LastLogLineWith("Check failed") ?? _child.LastLogLineWith("Fatal error") ?? _child.LastLogLineWith("error");
        var where = _child.LastLogLineWith("JsonStringify") is null ? string.Empty : " in JSON.stringify (saving its database)";
        return $"Azurite (pid {_child.Id}) exited on its own with code {_child.ExitCode}{(why is null ? string.Empty : $": {why}")}{where} (log {LogPath})";
    }

    public string LogPath => Path.Combine(Folder, "azurite.log");

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};TableEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    /// <summary>The server settings that put its ledger tables on this Azurite, under <paramref name="tablePrefix"/>.</summary>
    public string[] ServerSettings(string tablePrefix) => ["--Tables:ConnectionString", ConnectionString, "--Supply:TablePrefix", tablePrefix];

    /// <summary>A table prefix no earlier run used: letters and digits, starting with <paramref name="stem"/>.</summary>
    public static string NewTablePrefix(string stem) => stem + Guid.NewGuid().ToString("N")[..12];

    /// <summary>node_modules/.bin/azurite-table in the current folder or a folder above it or above the bench; null when missing.</summary>
    public static string? FindExecutable()
    {
        foreach (var start in (string[])[Directory.GetCurrentDirectory(), AppContext.BaseDirectory])
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "node_modules", ".bin", "azurite-table");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Starts Azurite on a free port, its log in <paramref name="folder"/>, and waits until it listens. Its database is
    /// in <paramref name="folder"/> too, or, with <paramref name="inMemory"/>, only in memory: never saved, so neither
    /// limited by the 512 MiB string of a save nor slowed down by saving it every 5 s, but lost when it stops.
    /// </summary>
    public static async Task<AzuriteProcess> StartAsync(string executable, string folder, bool inMemory = false)
    {
        Directory.CreateDirectory(folder);
        var port = ServerProcess.FreePort();
        var azurite = new AzuriteProcess(executable, folder, port, inMemory, Launch(executable, folder, port, inMemory));
        await azurite.WaitReadyAsync();
        return azurite;
    }

    /// <summary>Stops Azurite (SIGINT; kill -9 after 15 s); true when it exited on its own.</summary>
    public Task<bool> StopAsync()
    {
        _stopping = true;
        return _child.StopAsync("INT", TimeSpan.FromSeconds(15));
    }

    /// <summary>Starts Azurite again on the same port and folder, and waits until it listens.</summary>
    public async Task StartAgainAsync()
    {
        _child = Launch(_executable, Folder, Port, _inMemory);
        _stopping = false;
        await WaitReadyAsync();
    }

    private static ChildProcess Launch(string executable, string folder, int port, bool inMemory) =>
        ChildProcess.Start(executable, ["--tableHost", "127.0.0.1", "--tablePort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            .. inMemory ? (string[])["--inMemoryPersistence"] : ["--location", Path.Combine(folder, "data")],
            "--silent", "--skipApiVersionCheck", "--disableTelemetry"], Path.Combine(folder, "azurite.log"));

    private async Task WaitReadyAsync()
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_child.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {_child.ExitCode} (log: {LogPath})");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"Azurite did not listen on 127.0.0.1:{Port} within 30 s (log: {LogPath})");
    }
}
