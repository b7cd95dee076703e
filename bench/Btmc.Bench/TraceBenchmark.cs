using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Btmc.Bench;

/// <summary>
/// The genealogy benchmark: fills a data folder with N sealed events (filler ObjectEvents, and lineages of ten
/// TransformationEvents: item(k,i-1) + material(k,i) -> item(k,i)), through the real capture and sealing code on the
/// embedded adapters, then starts the server (handler.dll) on that folder and times 10-hop upstream traces of
/// item(k,10) over loopback HTTP. Each answer is checked: 20 edges reaching item(k,0). The folder is kept
/// (--data), so a second run measures without filling again.
/// </summary>
public static class TraceBenchmark
{
    private const int Hops = 10;

    /// <summary>The "trace" command: its options, refusing server settings (the server it starts takes none).</summary>
    public static Command CreateCommand(string[] serverSettings)
    {
        var events = BenchOptions.Int("--events", "Sealed events to fill the data folder with", 1_000_000, min: 1);
        var lineages = BenchOptions.Int("--lineages", $"Lineages of {Hops} transformations among them, the traces' starting points", 200, min: 1);
        var traces = BenchOptions.Int("--traces", "Traces to time, one after another, after 200 not timed", 2000, min: 1);
        var data = new Option<DirectoryInfo?>("--data")
        {
            Description = "The data folder, filled once and kept for the next run [default: btmc-trace-bench-<events> in the temporary folder]",
            HelpName = "folder",
        };
        var command = new Command("trace", "Genealogy benchmark: times 10-hop upstream traces over HTTP on a data folder of sealed events it fills once")
        {
            events,
            lineages,
            traces,
            data,
        };
        command.SetAction(parsed => RunAsync(parsed.GetValue(events), parsed.GetValue(lineages), parsed.GetValue(traces), parsed.GetValue(data)));
        return command.WithoutServerSettings(serverSettings);
    }

    private static async Task<int> RunAsync(int events, int lineages, int traces, DirectoryInfo? dataFolder)
    {
        var data = dataFolder?.FullName ?? Path.Combine(Path.GetTempPath(), $"btmc-trace-bench-{events}");
        var marker = Path.Combine(data, "trace-bench.filled");
        if (!File.Exists(marker))
        {
            Directory.CreateDirectory(data);
            await FillAsync(data, events, lineages);
            await File.WriteAllTextAsync(marker, $"{events} {lineages}");
        }

        var server = ServerProcess.Start(data, ServerProcess.FreePort(), []);
        try
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
            // Every read needs a partner's key: the operator's, which the server writes on its first start, sees every event.
            http.DefaultRequestHeaders.Add("X-API-Key", (await File.ReadAllTextAsync(Path.Combine(data, "keys", "operator.key"))).Trim());
            using (var chains = JsonDocument.Parse(await http.GetStringAsync("api/ledger/chains")))
            {
                Console.WriteLine($"data {data}: {chains.RootElement.GetProperty("totalEntries").GetInt64():N0} sealed events, {lineages} lineages of {Hops} transformations");
            }

            var random = new Random(7);
            for (var i = 0; i < 200; i++)
            {
                await TraceAsync(http, random.Next(lineages));
            }

            var latencies = new double[traces];
            for (var i = 0; i < traces; i++)
            {
                latencies[i] = await TraceAsync(http, random.Next(lineages));
            }

            Array.Sort(latencies);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"10-hop upstream trace over HTTP: p50 {CaptureBenchmark.Percentile(latencies, 0.50):F2} ms, p99 {CaptureBenchmark.Percentile(latencies, 0.99):F2} ms, max {latencies[^1]:F2} ms ({traces} traces, sequential, each checked: {2 * Hops} edges back to item(k,0))"));
            return 0;
        }
        finally
        {
            await server.KillAsync();
        }
    }

    private static async Task<double> TraceAsync(HttpClient http, int lineage)
    {
        var watch = Stopwatch.StartNew();
        using var response = await http.GetAsync($"api/trace/{Uri.EscapeDataString(Item(lineage, Hops))}?direction=upstream&depth={Hops}");
        var body = await response.Content.ReadAsByteArrayAsync();
        var elapsed = watch.Elapsed.TotalMilliseconds;
        using var graph = JsonDocument.Parse(body);
        var edges = graph.RootElement.GetProperty("edges");
        var origin = Btmc.Epcis.EventTerms.CanonicalEpc(Item(lineage, 0));
        if (!response.IsSuccessStatusCode || edges.GetArrayLength() != 2 * Hops || !edges.EnumerateArray().Any(e => e.GetProperty("from").GetString() == origin))
        {
            throw new InvalidOperationException($"trace of lineage {lineage} is wrong: {(int)response.StatusCode} {Encoding.UTF8.GetString(body)[..Math.Min(400, body.Length)]}");
        }

        return elapsed;
    }

    private static string Item(int lineage, int hop) => $"urn:epc:id:sgtin:0614141.100000.L{lineage}-{hop}";

    private static string Material(int lineage, int hop) => $"urn:epc:id:sgtin:0614141.200000.M{lineage}-{hop}";

    internal static Task FillAsync(string data, int total, int lineages)
    {
        var transformations = lineages * Hops;
        var fillers = total - transformations;
        var documents = (int)Math.Ceiling(total / 1000.0);
        var perDocument = (int)Math.Ceiling(transformations / (double)documents);
        var filler = 0;
        var step = 0;
        var time = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return LedgerFill.FillAsync(data, total, _ =>
        {
            var list = new List<string>(1000);
            for (var i = 0; i < perDocument && step < transformations && list.Count < 1000; i++, step++)
            {
                // Hop-major order: every lineage's hop 1, then every hop 2, ... so each hop's input exists before it is consumed.
                var (hop, lineage) = (step / lineages + 1, step % lineages);
                time = time.AddMilliseconds(1);
                list.Add($$"""{"type":"TransformationEvent","eventTime":"{{time:yyyy-MM-ddTHH:mm:ss.fffZ}}","eventTimeZoneOffset":"+00:00","inputEPCList":["{{Item(lineage, hop - 1)}}","{{Material(lineage, hop)}}"],"outputEPCList":["{{Item(lineage, hop)}}"],"bizStep":"commissioning"}""");
            }

            while (list.Count < 1000 && filler < fillers)
            {
                time = time.AddMilliseconds(1);
                list.Add($$"""{"type":"ObjectEvent","eventTime":"{{time:yyyy-MM-ddTHH:mm:ss.fffZ}}","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:0614141.300000.F{{filler++}}"],"bizStep":"shipping","disposition":"in_transit"}""");
            }

            return list;
        });
    }
}
