using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Btmc.Bench;

internal enum FaultKind
{
    ClientDisconnect,
    AzuriteRestart,
    ServerKill,
    SecondServer,
}

/// <summary>A fault the soak injected: when (seconds into the soak), what happened, and whether it went wrong.</summary>
internal sealed record FaultRecord(FaultKind Kind, double At, string What, bool Failed);

/// <summary>
/// The soak's faults, one at a time on a schedule: one every 20-40 s (shorter when the soak is too short for every
/// kind at that pace), the kinds in a random order per round so that every kind comes up, randomised by the seed;
/// until 10 s before the end, except that the first round is always completed.
/// <list type="bullet">
/// <item>client disconnect: a document abandoned mid-request (the headers and half the body over a raw socket, then
/// close; the whole body, then close before the answer; an HttpClient request cancelled just after it started), each
/// then sent again whole, which must be acknowledged (202) within 60 s;</item>
/// <item>Azurite stopped and started again on its port and folder after 3-8 s (with --azurite only);</item>
/// <item>the server killed (kill -9) and started again on its data folder and port;</item>
/// <item>a second server on the same tables: with Azurite, on its own data folder (captures sent to it with its own
/// partner key; what it acknowledges must be sealed like the rest); embedded, on the same data folder, where it must
/// refuse to start (the event log is locked) and exit non-zero within 60 s.</item>
/// </list>
/// </summary>
internal sealed class Faults(SoakEnvironment environment, SoakLoad load, DocumentTemplate template, Random random, IReadOnlyCollection<FaultKind>? only = null)
{
    // Documents of the faults use client numbers the load's clients do not (DocumentTemplate keeps three digits).
    private const int DisconnectClient = 997;
    private const int SecondServerClient = 998;
    private readonly List<FaultRecord> _injected = [];
    private int _disconnectDocuments;
    private int _secondServerDocuments;
    private int _secondServers;

    public IReadOnlyList<FaultRecord> Injected => _injected;

    /// <summary>The kinds this soak injects: all that apply (Azurite's only with Azurite), or those asked for.</summary>
    public FaultKind[] Kinds => [.. Enum.GetValues<FaultKind>().Where(k => (k != FaultKind.AzuriteRestart || environment.Azurite is not null) && (only is null || only.Contains(k)))];

    /// <summary>Injects faults until <paramref name="duration"/> (of the soak's clock) minus 10 s, and the first round in any case; each one is completed.</summary>
    public async Task RunAsync(TimeSpan duration, CancellationToken abort)
    {
        var round = new Queue<FaultKind>();
        if (Kinds.Length == 0)
        {
            return;
        }

        var end = duration.TotalSeconds - 10;
        while (!abort.IsCancellationRequested)
        {
            if (round.Count == 0)
            {
                foreach (var kind in Kinds.OrderBy(_ => random.Next()))
                {
                    round.Enqueue(kind);
                }
            }

            var remaining = end - load.Now;
            var mean = Math.Max(5, Math.Min(30, remaining / round.Count));
            var gap = Math.Min(mean * (2.0 / 3 + (random.NextDouble() * 2 / 3)), remaining);
            if (gap < 3)
            {
                // Out of time. The first round is finished all the same, the rest back to back, so that every kind
                // is injected once however slowly the earlier faults went (a restart can take half a minute).
                if (_injected.Count >= Kinds.Length)
                {
                    return;
                }

                gap = 0;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(gap), abort);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var next = round.Dequeue();
            var record = await InjectAsync(next, abort);
            _injected.Add(record);
            Console.WriteLine($"  fault t={record.At,6:F1} s {Name(record.Kind)}: {record.What}{(record.Failed ? "  <-- FAILED" : string.Empty)}");
        }
    }

    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.ClientDisconnect => "client-disconnect",
        FaultKind.AzuriteRestart => "azurite-restart",
        FaultKind.ServerKill => "server-kill",
        _ => "second-server",
    };

    private async Task<FaultRecord> InjectAsync(FaultKind kind, CancellationToken abort)
    {
        var at = load.Now;
        try
        {
            var (what, failed) = kind switch
            {
                FaultKind.ClientDisconnect => await ClientDisconnectAsync(abort),
                FaultKind.AzuriteRestart => await AzuriteRestartAsync(),
                FaultKind.ServerKill => await ServerKillAsync(),
                _ => environment.Azurite is null ? await SecondServerOnSameFolderAsync() : await SecondServerOnSameTablesAsync(),
            };
            return new FaultRecord(kind, at, what, failed);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or HttpRequestException or SocketException or OperationCanceledException)
        {
            return new FaultRecord(kind, at, $"{e.GetType().Name}: {e.Message}", true);
        }
    }

    private async Task<(string, bool)> ClientDisconnectAsync(CancellationToken abort)
    {
        var notes = new List<string>();
        var failed = false;
        foreach (var variant in (string[])["half", "whole", "cancel"])
        {
            var body = new byte[template.Length];
            template.Fill(body, DisconnectClient, _disconnectDocuments++);
            var how = variant == "cancel" ? await CancelledRequestAsync(body) : await AbandonOverSocketAsync(body, whole: variant == "whole");
            var wait = random.Next(2) == 0 ? 0 : random.Next(200, 2000);
            await Task.Delay(wait, abort);
            var result = await load.SendUntilAcknowledgedAsync(body, "disconnect retry", TimeSpan.FromSeconds(60), abort);
            failed |= !result.Acknowledged;
            notes.Add(result.Acknowledged
                ? $"{how}; resent after {wait} ms: 202 in {result.Elapsed.TotalMilliseconds:F0} ms ({result.Attempts} attempt{(result.Attempts == 1 ? "" : "s")})"
                : $"{how}; resent after {wait} ms: NOT acknowledged within 60 s ({result.Attempts} attempts, last: {result.Last})");
        }

        return (string.Join("; ", notes), failed);
    }

    /// <summary>Sends the headers and half the body (or all of it) over a raw socket, then closes it (FIN or RST) without reading the answer.</summary>
    private async Task<string> AbandonOverSocketAsync(byte[] body, bool whole)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, environment.Port);
        var head = string.Create(CultureInfo.InvariantCulture,
            $"POST /api/epcis/capture HTTP/1.1\r\nHost: 127.0.0.1:{environment.Port}\r\nX-API-Key: {environment.Server.ReadApiKey()}\r\nContent-Type: application/ld+json\r\nContent-Length: {body.Length}\r\n\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        var sent = whole ? body.Length : body.Length / 2;
        await socket.SendAsync(body.AsMemory(0, sent));
        var linger = whole ? 0 : random.Next(20, 300);
        await Task.Delay(linger);
        var reset = random.Next(2) == 0;
        if (reset)
        {
            socket.LingerState = new LingerOption(true, 0);
        }

        socket.Close();
        return whole
            ? $"whole body ({body.Length:N0} bytes) sent, then {(reset ? "RST" : "FIN")} without reading the answer"
            : $"headers and {sent:N0} of {body.Length:N0} body bytes sent, then {(reset ? "RST" : "FIN")} after {linger} ms";
    }

    /// <summary>Starts a capture with its own HttpClient and cancels it a few milliseconds later.</summary>
    private async Task<string> CancelledRequestAsync(byte[] body)
    {
        using var http = new HttpClient { BaseAddress = environment.Server.BaseAddress };
        http.DefaultRequestHeaders.Add("X-API-Key", environment.Server.ReadApiKey());
        var after = random.Next(1, 40);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(after));
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
        try
        {
            using var response = await http.PostAsync("api/epcis/capture", content, cancel.Token);
            return $"HttpClient request meant to be cancelled after {after} ms was answered first ({(int)response.StatusCode})";
        }
        catch (OperationCanceledException)
        {
            return $"HttpClient request cancelled after {after} ms";
        }
    }

    private async Task<(string, bool)> AzuriteRestartAsync()
    {
        var azurite = environment.Azurite ?? throw new InvalidOperationException("no Azurite in this soak");
        var throttledBefore = load.Throttled;
        var errorsBefore = load.ConnectionErrors;
        var pid = azurite.Id;
        var down = Stopwatch.StartNew();
        var graceful = await azurite.StopAsync();
        var stopped = down.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(3 + (random.NextDouble() * 5)));
        await azurite.StartAgainAsync();
        var downFor = down.Elapsed.TotalSeconds;
        // Let the captures waiting out their Retry-After come back before counting.
        await Task.Delay(TimeSpan.FromSeconds(5));
        return (string.Create(CultureInfo.InvariantCulture,
            $"Azurite pid {pid} stopped ({(graceful ? "SIGINT" : "SIGINT, then kill -9 after 15 s")}, {stopped:F1} s), listening again (pid {azurite.Id}) {downFor:F1} s after the stop began; meanwhile and 5 s after: {load.Throttled - throttledBefore} answers 503, {load.ConnectionErrors - errorsBefore} connection errors"), false);
    }

    private async Task<(string, bool)> ServerKillAsync()
    {
        var pid = environment.Server.Id;
        await environment.Server.KillAsync();
        var restart = Stopwatch.StartNew();
        try
        {
            await environment.RestartServerAsync();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            return ($"kill -9 pid {pid}; the restart failed: {e.Message}", true);
        }

        return (string.Create(CultureInfo.InvariantCulture, $"kill -9 pid {pid}, started again (pid {environment.Server.Id}) and ready in {restart.Elapsed.TotalSeconds:F1} s"), false);
    }

    /// <summary>Embedded: a second server on the same data folder must refuse to start (the event log is locked) and exit non-zero.</summary>
    private async Task<(string, bool)> SecondServerOnSameFolderAsync()
    {
        var n = ++_secondServers;
        var second = environment.StartOther(environment.ServerData, Path.Combine(environment.ServerData, $"server-second-{n}.log"));
        var watch = Stopwatch.StartNew();
        if (await second.Child.WaitForExitAsync(TimeSpan.FromSeconds(60)))
        {
            var why = second.Child.LastLogLineWith("locked") ?? second.Child.LastLogLineWith("exception") ?? "(no reason in its log)";
            return second.Child.ExitCode != 0
                ? (string.Create(CultureInfo.InvariantCulture, $"second server (pid {second.Id}) on the same data folder refused to start: exit code {second.Child.ExitCode} after {watch.Elapsed.TotalSeconds:F1} s: {why}"), false)
                : ($"second server (pid {second.Id}) on the same data folder exited with code 0 (expected a refusal); log {second.LogPath}", true);
        }

        string answered;
        using (var http = new HttpClient { BaseAddress = second.BaseAddress, Timeout = TimeSpan.FromSeconds(5) })
        {
            try
            {
                using var response = await http.GetAsync(string.Empty);
                answered = $"answers GET / with {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                answered = "does not answer";
            }
        }

        await second.KillAsync();
        return ($"second server (pid {second.Id}) on the same data folder still running after 60 s ({answered}): expected it to refuse to start; killed; log {second.LogPath}", true);
    }

    /// <summary>
    /// Azurite: a second server on its own data folder and the same tables; three captures sent to it with its own
    /// partner key, what it answers recorded, its 202s acknowledged like the rest; stopped 5 s later.
    /// </summary>
    private async Task<(string, bool)> SecondServerOnSameTablesAsync()
    {
        var n = ++_secondServers;
        var second = environment.StartOther(Path.Combine(environment.Root, $"second-{n}"));
        var watch = Stopwatch.StartNew();
        try
        {
            await second.WaitReadyAsync(TimeSpan.FromSeconds(90));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            var why = second.Child.LastLogLineWith("exception") ?? second.Child.LastLogLineWith("error");
            await second.KillAsync();
            return ($"second server (pid {second.Id}) on its own data folder did not start: {e.Message}{(why is null ? "" : ": " + why)}", false);
        }

        var ready = watch.Elapsed.TotalSeconds;
        var answers = new List<string>();
        using (var http = new HttpClient { BaseAddress = second.BaseAddress, Timeout = Timeout.InfiniteTimeSpan })
        {
            http.DefaultRequestHeaders.Add("X-API-Key", second.ReadApiKey());
            for (var i = 0; i < 3; i++)
            {
                var body = new byte[template.Length];
                template.Fill(body, SecondServerClient, _secondServerDocuments++);
                var answer = await SoakLoad.PostAsync(http, body, TimeSpan.FromSeconds(30), CancellationToken.None);
                if (answer.Status == 202)
                {
                    load.Record(answer, $"second server {n}");
                }

                answers.Add(answer.Status == 202 ? $"202 ({answer.EventIds.Count} events acknowledged)" : SoakLoad.Describe(answer));
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(5));
        var stoppedOnItsOwn = await second.StopAsync(TimeSpan.FromSeconds(15));
        var summary = string.Join(", ", answers.GroupBy(a => a).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} x{g.Count()}"));
        return (string.Create(CultureInfo.InvariantCulture,
            $"second server (pid {second.Id}, port {second.Port}) on its own data folder and the same tables: ready in {ready:F1} s; answered its 3 captures: {summary}; stopped ({(stoppedOnItsOwn ? $"SIGTERM, exit code {second.Child.ExitCode}" : "SIGTERM ignored for 15 s, killed")})"), false);
    }
}
