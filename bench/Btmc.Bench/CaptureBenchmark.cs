using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Btmc.Bench;

/// <summary>
/// Starts the server (handler.dll) in its own process on an empty data folder (its tables in SQLite there, or with
/// --azurite on an Azurite table service the bench starts), drives captures of 100-event documents from concurrent
/// loopback clients for a fixed time, waits until everything accepted is sealed, and prints: events/s accepted and
/// sealed, capture latency p50/p99, accept-to-sealed p50/p99 (from each entry's receive time to its block's commit
/// time, read from the block endpoint), and the server's peak RSS. The server's output goes to &lt;data&gt;/server.log;
/// the data folder is deleted after a run that succeeded, unless --keep.
/// </summary>
public static class CaptureBenchmark
{
    /// <summary>The longest the bench waits for the server to seal what it accepted.</summary>
    private static readonly TimeSpan SealingLimit = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = IntOption(args, "--seconds", 30);
        var warmup = IntOption(args, "--warmup", 10);
        var clients = IntOption(args, "--clients", 16);
        var eventsPerDocument = IntOption(args, "--events", 100);
        var keep = Flag(args, "--keep");
        string? azuriteExecutable = null;
        if (Flag(args, "--azurite") && (azuriteExecutable = AzuriteProcess.FindExecutable()) is null)
        {
            Console.Error.WriteLine($"bench: {AzuriteProcess.NotInstalled}");
            return 2;
        }

        var data = Directory.CreateTempSubdirectory("btmc-bench-").FullName;
        var succeeded = false;
        AzuriteProcess? azurite = null;
        ServerProcess? server = null;
        try
        {
            string[] tables = [];
            if (azuriteExecutable is not null)
            {
                // In memory: a benchmark's volume outgrows what Azurite can save (AzuriteProcess.EventCapacity), and
                // saving its whole database every 5 s would be measured instead of the server.
                azurite = await AzuriteProcess.StartAsync(azuriteExecutable, Path.Combine(data, "azurite"), inMemory: true);
                tables = azurite.ServerSettings(AzuriteProcess.NewTablePrefix("bench"));
            }

            var port = ServerProcess.FreePort();
            server = ServerProcess.Start(data, port, [.. tables, .. PassThrough(args)]);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
            http.DefaultRequestHeaders.Add("X-API-Key", server.ReadApiKey());
            Console.WriteLine($"server pid {server.Id}, data {data}; {clients} clients, {eventsPerDocument} events per document, {warmup} s warm-up, {seconds} s measured");
            Console.WriteLine(azurite is null
                ? $"server log {server.LogPath}"
                : $"server log {server.LogPath}; tables on Azurite 127.0.0.1:{azurite.Port} (pid {azurite.Id}, log {azurite.LogPath})");
            var template = new DocumentTemplate(eventsPerDocument);
            await DriveAsync(http, template, clients, TimeSpan.FromSeconds(warmup), firstDocument: 0, new ConcurrentBag<double>());
            var waiting = Stopwatch.StartNew();
            Func<string?> broken = () => azurite?.ExitedOnItsOwn();
            while (await TotalSealedAsync(http, broken) < await TotalAcceptedAsync(http, broken))
            {
                ThrowAfter(waiting, "the warm-up's events");
                await Task.Delay(20);
            }

            var sealedBefore = await TotalSealedAsync(http, broken);
            var measuredFrom = DateTimeOffset.UtcNow;
            var latencies = new ConcurrentBag<double>();
            var load = Stopwatch.StartNew();
            var (accepted, rejected, throttled) = await DriveAsync(http, template, clients, TimeSpan.FromSeconds(seconds), firstDocument: 1_000_000, latencies);
            var loadSeconds = load.Elapsed.TotalSeconds;

            long sealedCount;
            waiting.Restart();
            while ((sealedCount = await TotalSealedAsync(http, broken) - sealedBefore) < accepted)
            {
                ThrowAfter(waiting, "the measured load's events");
                await Task.Delay(20);
            }

            var allSealedSeconds = load.Elapsed.TotalSeconds;
            var peakRss = PeakRssMiB(server.Id);
            var sealLatencies = await AcceptToSealedAsync(http, measuredFrom, broken);
            await server.KillAsync();

            var sorted = latencies.Order().ToArray();
            var sealSeconds = allSealedSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                accepted            {accepted:N0} events in {loadSeconds:F1} s = {accepted / loadSeconds:N0} events/s ({rejected} documents refused, {throttled} answers 503 while the sealing backlog was full)
                sealed              {sealedCount:N0} events, all sealed {sealSeconds:F1} s after the measured load began = {sealedCount / sealSeconds:N0} events/s
                capture latency     p50 {Percentile(sorted, 0.50):F1} ms, p99 {Percentile(sorted, 0.99):F1} ms ({sorted.Length:N0} requests)
                accept-to-sealed    p50 {Percentile(sealLatencies, 0.50):F0} ms, p99 {Percentile(sealLatencies, 0.99):F0} ms (receive time to block commit, {sealLatencies.Length:N0} entries)
                server peak RSS     {peakRss:F0} MiB
                """));
            succeeded = rejected == 0;
            return succeeded ? 0 : 1;
        }
        finally
        {
            if (server is not null)
            {
                await server.KillAsync();
            }

            if (azurite is not null)
            {
                await azurite.StopAsync();
            }

            if (succeeded && !keep)
            {
                Directory.Delete(data, recursive: true);
            }
            else
            {
                Console.WriteLine($"kept the data folder {data} (server log {Path.Combine(data, "server.log")})");
            }
        }
    }

    private static void ThrowAfter(Stopwatch waiting, string what)
    {
        if (waiting.Elapsed > SealingLimit)
        {
            throw new TimeoutException($"{what} were not all sealed within {SealingLimit.TotalMinutes:F0} min");
        }
    }

    /// <summary>Posts documents from concurrent clients for the given time; returns events accepted and documents refused.</summary>
    private static async Task<(long Accepted, long Rejected, long Throttled)> DriveAsync(HttpClient http, DocumentTemplate template, int clients, TimeSpan duration, int firstDocument, ConcurrentBag<double> latencies)
    {
        long accepted = 0;
        long rejected = 0;
        long throttled = 0;
        var load = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var body = new byte[template.Length];
            for (var doc = firstDocument; load.Elapsed < duration; doc++)
            {
                template.Fill(body, client, doc);
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync("api/epcis/capture", content);
                await response.Content.ReadAsByteArrayAsync();
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    // Backpressure: the sealing backlog is full. Wait as told and send the same document again.
                    Interlocked.Increment(ref throttled);
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                    doc--;
                }
                else if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    Interlocked.Add(ref accepted, template.Events);
                }
                else
                {
                    Interlocked.Increment(ref rejected);
                }
            }
        })).ToList();
        await Task.WhenAll(workers);
        return (accepted, rejected, throttled);
    }

    /// <summary>Server settings given after "--", e.g. -- --Supply:SealMaxEvents 5000.</summary>
    internal static string[] PassThrough(string[] args) =>
        Array.IndexOf(args, "--") is var at and >= 0 ? args[(at + 1)..] : [];

    private static async Task<long> TotalSealedAsync(HttpClient http, Func<string?> broken) => (await LedgerClient.GetKnownChainsAsync(http, broken: broken)).TotalEntries ?? 0;

    private static async Task<long> TotalAcceptedAsync(HttpClient http, Func<string?> broken)
    {
        var chains = await LedgerClient.GetKnownChainsAsync(http, broken: broken);
        return (chains.TotalEntries ?? 0) + chains.Pending;
    }

    /// <summary>
    /// For each entry received from <paramref name="measuredFrom"/> on: its block's commit time minus the entry's
    /// receive time, read from the block endpoint (each chain from its head down to the first block committed before
    /// <paramref name="measuredFrom"/>). Empty (the figures print NaN) when the server does not report the times.
    /// </summary>
    private static async Task<double[]> AcceptToSealedAsync(HttpClient http, DateTimeOffset measuredFrom, Func<string?> broken)
    {
        var chains = await LedgerClient.GetKnownChainsAsync(http, broken: broken);
        var latencies = new ConcurrentBag<double>();
        await Parallel.ForEachAsync(chains.Chains, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (chain, cancellationToken) =>
        {
            for (var height = chain.Height; height >= 0; height--)
            {
                var block = await LedgerClient.GetBlockAsync(http, chain.ChainId, height, cancellationToken)
                    ?? throw new InvalidOperationException($"{chain.ChainId} has no block {height} below its head {chain.Height}");
                if (block.CommittedAt is not { } committed || committed < measuredFrom)
                {
                    // Blocks are committed in height order: the ones below hold nothing received after measuredFrom.
                    break;
                }

                foreach (var entry in block.Entries)
                {
                    if (entry.ReceivedAt is { } received && received >= measuredFrom)
                    {
                        latencies.Add((committed - received).TotalMilliseconds);
                    }
                }
            }
        });
        return [.. latencies.Order()];
    }

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    internal static double PeakRssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    /// <summary>The integer after <paramref name="name"/> among the bench's own options (those before "--").</summary>
    internal static int IntOption(string[] args, string name, int fallback) =>
        StringOption(args, name) is { } text && int.TryParse(text, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    /// <summary>The word after <paramref name="name"/> among the bench's own options (those before "--"), or null.</summary>
    internal static string? StringOption(string[] args, string name)
    {
        var own = Own(args);
        return Array.IndexOf(own, name) is var at and >= 0 && at + 1 < own.Length ? own[at + 1] : null;
    }

    /// <summary>Whether <paramref name="name"/> is among the bench's own options (those before "--").</summary>
    internal static bool Flag(string[] args, string name) => Array.IndexOf(Own(args), name) >= 0;

    private static string[] Own(string[] args) => Array.IndexOf(args, "--") is var at and >= 0 ? args[..at] : args;
}
