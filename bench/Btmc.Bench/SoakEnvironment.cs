namespace Btmc.Bench;

/// <summary>
/// The processes of a soak, under one folder: the server on <c>server/</c> and a fixed port (started again there after
/// a kill), Azurite on <c>azurite/</c> when asked (the server's tables there under a fresh prefix), and the other
/// servers the faults start. All of them are killed or stopped at the end.
/// </summary>
internal sealed class SoakEnvironment : IAsyncDisposable
{
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromMinutes(2);
    private readonly List<ServerProcess> _others = [];

    private SoakEnvironment(string root, AzuriteProcess? azurite, string? tablePrefix, string[] serverSettings)
    {
        Root = root;
        Azurite = azurite;
        TablePrefix = tablePrefix;
        ServerSettings = serverSettings;
        Port = ServerProcess.FreePort();
    }

    public string Root { get; }

    public string ServerData => Path.Combine(Root, "server");

    public int Port { get; }

    public AzuriteProcess? Azurite { get; }

    public string? TablePrefix { get; }

    /// <summary>The settings every server of the soak gets: the tables (Azurite) and those given after "--".</summary>
    public string[] ServerSettings { get; }

    /// <summary>The server the load goes to; a new process after each restart.</summary>
    public ServerProcess Server { get; private set; } = null!;

    public IReadOnlyList<ServerProcess> Others => _others;

    public string Tables => Azurite is null
        ? "embedded SQLite tables in the data folder"
        : $"tables on Azurite 127.0.0.1:{Azurite.Port} (prefix {TablePrefix}, pid {Azurite.Id})";

    /// <summary>Starts Azurite (when <paramref name="azuriteExecutable"/> is given) and the server, and waits until the server is ready.</summary>
    public static async Task<SoakEnvironment> StartAsync(string root, string? azuriteExecutable, string[] passThrough)
    {
        AzuriteProcess? azurite = null;
        SoakEnvironment? environment = null;
        try
        {
            string? prefix = null;
            if (azuriteExecutable is not null)
            {
                azurite = await AzuriteProcess.StartAsync(azuriteExecutable, Path.Combine(root, "azurite"));
                prefix = AzuriteProcess.NewTablePrefix("soak");
            }

            environment = new SoakEnvironment(root, azurite, prefix, [.. azurite?.ServerSettings(prefix!) ?? [], .. passThrough]);
            await environment.RestartServerAsync();
            return environment;
        }
        catch
        {
            if (environment is not null)
            {
                await environment.DisposeAsync();
            }
            else if (azurite is not null)
            {
                await azurite.StopAsync();
            }

            throw;
        }
    }

    /// <summary>Starts the server (again) on its data folder and port, and waits (at most 2 min) until it is ready.</summary>
    public async Task RestartServerAsync()
    {
        Server = ServerProcess.Start(ServerData, Port, ServerSettings);
        await Server.WaitReadyAsync(ReadyLimit);
    }

    /// <summary>Starts another server with the soak's settings on <paramref name="dataDirectory"/> and a free port; it is killed at the end.</summary>
    public ServerProcess StartOther(string dataDirectory, string? logPath = null)
    {
        var other = ServerProcess.Start(dataDirectory, ServerProcess.FreePort(), ServerSettings, logPath);
        _others.Add(other);
        return other;
    }

    /// <summary>The logs the soak leaves: the servers' and Azurite's.</summary>
    public IEnumerable<string> Logs =>
        new[] { Server?.LogPath }.Concat(_others.Select(o => o.LogPath)).Append(Azurite?.LogPath).OfType<string>().Distinct();

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.KillAsync();
        }

        foreach (var other in _others)
        {
            await other.KillAsync();
        }

        if (Azurite is not null)
        {
            await Azurite.StopAsync();
        }
    }
}
