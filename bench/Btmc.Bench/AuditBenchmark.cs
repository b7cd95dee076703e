using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Btmc.Cli;

namespace Btmc.Bench;

/// <summary>
/// The audit benchmark (issue 16): on a data folder of N sealed events (filled once, as the trace benchmark fills
/// it), starts the server and times what an auditor and a witness pay: a whole independent verification
/// (<c>btmc verify-chain --url</c>, every chain downloaded and re-derived on the client), the same offline on the data
/// folder (<c>--data</c>), then — after G more events are sealed — the daily audit from the saved checkpoints
/// (<c>--from-checkpoint</c>), and consistency proofs of the largest supply chain over the growth and over the
/// whole history.
/// </summary>
public static class AuditBenchmark
{
    public static Command CreateCommand(string[] serverSettings)
    {
        var events = BenchOptions.Int("--events", "Sealed events to fill the data folder with", 200_000, min: 1000);
        var growth = BenchOptions.Int("--growth", "Events sealed after the first audit, which the daily audit then covers", 10_000, min: 1);
        var data = new Option<DirectoryInfo?>("--data")
        {
            Description = "The data folder, filled once and kept [default: btmc-audit-bench-<events> in the temporary folder]; the growth is added to it on every run",
            HelpName = "folder",
        };
        var command = new Command("audit", "Audit benchmark: times btmc verify-chain --url (whole and from saved checkpoints), --data, and consistency proofs on a data folder of sealed events")
        {
            events,
            growth,
            data,
        };
        command.SetAction(parsed => RunAsync(parsed.GetValue(events), parsed.GetValue(growth), parsed.GetValue(data)));
        return command.WithoutServerSettings(serverSettings);
    }

    private static async Task<int> RunAsync(int events, int growth, DirectoryInfo? dataFolder)
    {
        var data = dataFolder?.FullName ?? Path.Combine(Path.GetTempPath(), $"btmc-audit-bench-{events}");
        var marker = Path.Combine(data, "audit-bench.filled");
        if (!File.Exists(marker))
        {
            Directory.CreateDirectory(data);
            await TraceBenchmark.FillAsync(data, events, lineages: 1);
            await File.WriteAllTextAsync(marker, events.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var saved = Path.Combine(data, "audit-bench.notes");
        var server = ServerProcess.Start(data, ServerProcess.FreePort(), []);
        try
        {
            await server.WaitReadyAsync(TimeSpan.FromSeconds(120));
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
            http.DefaultRequestHeaders.Add("X-API-Key", server.ReadApiKey());
            var before = await TotalEntriesAsync(http);

            var (full, fullLines) = await TimeAsync("verify-chain", "--url", server.BaseAddress.ToString(), "--api-key-file", server.ApiKeyFile, "--save-checkpoints", saved);
            Console.WriteLine($"verify-chain --url (whole ledger, {before:N0} entries): {full:F1} s, {before / full:N0} entries/s");
            Console.WriteLine($"  {fullLines}");
            var (offline, _) = await TimeAsync("verify-chain", "--data", data);
            Console.WriteLine($"verify-chain --data (same ledger, offline, with event bodies): {offline:F1} s, {before / offline:N0} entries/s");

            await CaptureGrowthAsync(http, growth);
            var after = await WaitSealedAsync(http, before + growth);
            var (daily, dailyLines) = await TimeAsync("verify-chain", "--url", server.BaseAddress.ToString(), "--api-key-file", server.ApiKeyFile, "--from-checkpoint", saved);
            Console.WriteLine($"verify-chain --url --from-checkpoint ({after - before:N0} new entries of {after:N0}): {daily:F1} s");
            Console.WriteLine($"  {dailyLines}");

            await ConsistencyAsync(http, saved);
            return 0;
        }
        finally
        {
            await server.KillAsync();
        }
    }

    /// <summary>Runs a btmc command in this process; its time in seconds and its last output line. A failed command fails the benchmark.</summary>
    private static async Task<(double Seconds, string Last)> TimeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var watch = Stopwatch.StartNew();
        var exit = await BtmcCli.RunAsync(args, output, error);
        var seconds = watch.Elapsed.TotalSeconds;
        if (exit != 0)
        {
            throw new InvalidOperationException($"btmc {string.Join(' ', args)} exited {exit}: {output}{error}");
        }

        return (seconds, output.ToString().TrimEnd().Split('\n')[^1]);
    }

    private static async Task<long> TotalEntriesAsync(HttpClient http)
    {
        using var chains = JsonDocument.Parse(await http.GetStringAsync("api/ledger/chains"));
        return chains.RootElement.GetProperty("chains").EnumerateArray().Sum(c => c.GetProperty("totalEntries").GetInt64());
    }

    /// <summary>Waits (bounded) until the supply chains hold <paramref name="expected"/> entries.</summary>
    private static async Task<long> WaitSealedAsync(HttpClient http, long expected)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var total = await TotalEntriesAsync(http);
            if (total >= expected)
            {
                return total;
            }

            if (deadline.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException($"{total:N0} of {expected:N0} entries sealed after 10 minutes.");
            }

            await Task.Delay(200);
        }
    }

    private static async Task CaptureGrowthAsync(HttpClient http, int growth)
    {
        var stamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var sent = 0; sent < growth; sent += 1000)
        {
            var batch = Enumerable.Range(sent, Math.Min(1000, growth - sent)).Select(i =>
                $$"""{"type":"ObjectEvent","eventTime":"2026-06-01T00:00:00.000Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:0614141.400000.G{{stamp}}-{{i}}"],"bizStep":"shipping","disposition":"in_transit"}""");
            var document = """{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z","epcisBody":{"eventList":[""" + string.Join(",", batch) + "]}}";
            using var content = new StringContent(document, Encoding.UTF8, "application/ld+json");
            using var response = await http.PostAsync("api/epcis/capture", content);
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>Times consistency proofs of the largest supply chain: over the growth (from the saved checkpoint) and over its whole history (from its first checkpoint).</summary>
    private static async Task ConsistencyAsync(HttpClient http, string saved)
    {
        using var latest = JsonDocument.Parse(await http.GetStringAsync("api/ledger/checkpoints"));
        var chain = latest.RootElement.GetProperty("chains").EnumerateArray()
            .Where(c => c.GetProperty("chainId").GetString()!.StartsWith("supply", StringComparison.Ordinal))
            .MaxBy(c => c.GetProperty("size").GetInt64());
        var chainId = chain.GetProperty("chainId").GetString()!;
        var size = chain.GetProperty("size").GetInt64();
        var origin = "/" + chainId + "\n";
        var trusted = File.ReadAllText(saved).Split("\n\n").Select(n => n.Split('\n')).FirstOrDefault(l => l.Length > 1 && l[0].EndsWith(origin.TrimEnd('\n'), StringComparison.Ordinal));
        using var first = JsonDocument.Parse(await http.GetStringAsync($"api/ledger/chains/{chainId}/blocks?from=0&limit=1&entries=false"));
        var firstSize = first.RootElement.GetProperty("blocks")[0].GetProperty("totalEntries").GetInt64();
        foreach (var (what, from) in new[] { ("growth", trusted is null ? firstSize : long.Parse(trusted[1], System.Globalization.CultureInfo.InvariantCulture)), ("whole history", firstSize) })
        {
            var watch = Stopwatch.StartNew();
            using var proof = JsonDocument.Parse(await http.GetStringAsync($"api/ledger/chains/{chainId}/consistency?from={from}&to={size}"));
            Console.WriteLine($"consistency proof of {chainId} over the {what} ({from:N0} -> {size:N0}, {size - from:N0} leaves): {watch.Elapsed.TotalMilliseconds:F0} ms, {proof.RootElement.GetProperty("proof").GetArrayLength()} nodes");
        }
    }
}
