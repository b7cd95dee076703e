using System.Collections.Concurrent;
using System.CommandLine;
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

    /// <summary>
    /// Gives <paramref name="command"/> (the root command, where the capture benchmark is the default, and "capture")
    /// the benchmark's options and runs it with <paramref name="serverSettings"/>, the words after "--".
    /// </summary>
    public static Command Configure(Command command, string[] serverSettings)
    {
        var seconds = BenchOptions.Int("--seconds", "Seconds of measured load", 30, min: 1);
        var warmup = BenchOptions.Int("--warmup", "Seconds of warm-up load before it, not measured", 10, min: 0);
        // DocumentTemplate keeps three digits of the client's number in every EPC: more clients would send the same events.
        var clients = BenchOptions.Int("--clients", "Concurrent loopback clients", 16, min: 1, max: 999);
        var events = BenchOptions.Int("--events", "Events per captured document", 100, min: 1);
        var keep = new Option<bool>("--keep") { Description = "Keep the data folder after a run that succeeded" };
        var azurite = new Option<bool>("--azurite") { Description = "Put the tables on an Azurite the bench starts, in memory (./test.sh installs Azurite)" };
        command.Options.Add(seconds);
        command.Options.Add(warmup);
        command.Options.Add(clients);
        command.Options.Add(events);
        command.Options.Add(keep);
        command.Options.Add(azurite);
        command.SetAction(parsed => RunAsync(parsed.GetValue(seconds), parsed.GetValue(warmup), parsed.GetValue(clients), parsed.GetValue(events), parsed.GetValue(keep), parsed.GetValue(azurite), serverSettings));
        return command;
    }

    private static async Task<int> RunAsync(int seconds, int warmup, int clients, int eventsPerDocument, bool keep, bool azuriteTables, string[] serverSettings)
    {
        string? azuriteExecutable = null;
        if (azuriteTables && (azuriteExecutable = AzuriteProcess.FindExecutable()) is null)
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
            server = ServerProcess.Start(data, port, [.. tables, .. serverSettings]);
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
}
