using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Btmc.Platform.Tables;
using Btmc.Supply;

namespace Btmc.Bench;

/// <summary>
/// Starts the server (handler.dll) in its own process on an empty data folder, drives captures of 100-event documents
/// from concurrent loopback clients for a fixed time, waits until everything accepted is sealed, and prints:
/// events/s accepted and sealed, capture latency p50/p99, accept-to-sealed p50/p99 (from each entry's receive time
/// to its block row's commit time, read from the store), and the server's peak RSS.
/// </summary>
public static class CaptureBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = IntOption(args, "--seconds", 30);
        var warmup = IntOption(args, "--warmup", 10);
        var clients = IntOption(args, "--clients", 16);
        var eventsPerDocument = IntOption(args, "--events", 100);
        var data = Directory.CreateTempSubdirectory("btmc-bench-").FullName;
        var port = FreePort();
        var server = StartServer(data, port, args);
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
            await WaitReadyAsync(http, server);
            http.DefaultRequestHeaders.Add("X-API-Key", File.ReadAllText(Path.Combine(data, "keys", "partner-local.key")).Trim());
            Console.WriteLine($"server pid {server.Id}, data {data}; {clients} clients, {eventsPerDocument} events per document, {warmup} s warm-up, {seconds} s measured");
            var template = new DocumentTemplate(eventsPerDocument);
            await DriveAsync(http, template, clients, TimeSpan.FromSeconds(warmup), firstDocument: 0, new ConcurrentBag<double>());
            while (await TotalSealedAsync(http) < await TotalAcceptedAsync(http))
            {
                await Task.Delay(20);
            }

            var sealedBefore = await TotalSealedAsync(http);
            var measuredFrom = DateTimeOffset.UtcNow;
            var latencies = new ConcurrentBag<double>();
            var load = Stopwatch.StartNew();
            var (accepted, rejected, throttled) = await DriveAsync(http, template, clients, TimeSpan.FromSeconds(seconds), firstDocument: 1_000_000, latencies);
            var loadSeconds = load.Elapsed.TotalSeconds;

            long sealedCount;
            while ((sealedCount = await TotalSealedAsync(http) - sealedBefore) < accepted)
            {
                await Task.Delay(20);
            }

            var allSealedSeconds = load.Elapsed.TotalSeconds;
            var peakRss = PeakRssMiB(server.Id);
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();

            var sealLatencies = await AcceptToSealedAsync(data, measuredFrom);
            var sorted = latencies.Order().ToArray();
            var sealSeconds = allSealedSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                accepted            {accepted:N0} events in {loadSeconds:F1} s = {accepted / loadSeconds:N0} events/s ({rejected} documents refused, {throttled} answers 503 while the sealing backlog was full)
                sealed              {sealedCount:N0} events, all sealed {sealSeconds:F1} s after the measured load began = {sealedCount / sealSeconds:N0} events/s
                capture latency     p50 {Percentile(sorted, 0.50):F1} ms, p99 {Percentile(sorted, 0.99):F1} ms ({sorted.Length:N0} requests)
                accept-to-sealed    p50 {Percentile(sealLatencies, 0.50):F0} ms, p99 {Percentile(sealLatencies, 0.99):F0} ms (receive time to block commit, {sealLatencies.Length:N0} entries)
                server peak RSS     {peakRss:F0} MiB
                """));
            return rejected == 0 ? 0 : 1;
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }

            Directory.Delete(data, recursive: true);
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

    internal static Process StartServer(string data, int port, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "handler.dll"), "--urls", $"http://127.0.0.1:{port}", "--DataDirectory", data,
            "--Logging:LogLevel:Default", "Warning", .. PassThrough(args)])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        return process;
    }

    /// <summary>Server settings given after "--", e.g. -- --Supply:SealMaxEvents 5000.</summary>
    private static IEnumerable<string> PassThrough(string[] args) =>
        Array.IndexOf(args, "--") is var at and >= 0 ? args[(at + 1)..] : [];

    internal static async Task WaitReadyAsync(HttpClient http, Process server)
    {
        for (var i = 0; i < 600; i++)
        {
            if (server.HasExited)
            {
                throw new InvalidOperationException($"the server exited with code {server.ExitCode}");
            }

            try
            {
                using var response = await http.GetAsync(string.Empty);
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException("the server did not start within 30 s");
    }

    private static async Task<long> TotalSealedAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("api/ledger/chains"));
        return doc.RootElement.GetProperty("totalEntries").GetInt64();
    }

    private static async Task<long> TotalAcceptedAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("api/ledger/chains"));
        return doc.RootElement.GetProperty("totalEntries").GetInt64() + doc.RootElement.GetProperty("pending").GetInt32();
    }

    private static async Task<double[]> AcceptToSealedAsync(string data, DateTimeOffset measuredFrom)
    {
        using var service = new SqliteTableServiceClient(Path.Combine(data, "tables.db"));
        var options = new SupplyOptions();
        var tables = new LedgerTables(service, options.Partitions);
        var reader = new LedgerReader(options, tables, new PendingEvents());
        var latencies = new List<double>();
        for (var p = 0; p < options.Partitions; p++)
        {
            string? continuation = null;
            do
            {
                var page = await tables.Blocks.QueryAsync(new TableQuery(options.ChainId(p), null, null, 1000, continuation));
                foreach (var row in page.Items)
                {
                    var committed = row.Timestamp ?? throw new InvalidOperationException("block row without a timestamp");
                    var block = await reader.GetBlockAsync(options.ChainId(p), long.Parse(row.RowKey, CultureInfo.InvariantCulture));
                    foreach (var entry in await reader.ReadEntriesAsync(block!.Header.ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: false))
                    {
                        if (entry.ReceivedAt >= measuredFrom)
                        {
                            latencies.Add((committed - entry.ReceivedAt).TotalMilliseconds);
                        }
                    }
                }

                continuation = page.ContinuationToken;
            }
            while (continuation is not null);
        }

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

    internal static int IntOption(string[] args, string name, int fallback) =>
        Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
