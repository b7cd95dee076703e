using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Btmc.Bench;

/// <summary>
/// The query benchmark (docs/epcis-query.md): fills a data folder with N sealed ObjectEvents through the real capture
/// and sealing code on the embedded adapters, spread as a ledger would be: each EPC seen four times over the month,
/// event times over 30 days, one purchase order per document of 100 events (the first ten events of a document name
/// the previous document's order too), 20 read points, 10 business locations, 8 business steps. It then starts the
/// server (handler.dll) on that folder and times, over loopback HTTP with the operator's key (which sees everything),
/// one query after another: MATCH_epc (exact), a one-day GE/LT_eventTime range (first page), EQ_bizTransaction_po,
/// EQ_readPoint and EQ_bizStep (first pages); then reads one day's every page. Each answer is checked. The folder is
/// kept (--data), so a second run measures without filling again.
/// </summary>
public static partial class QueryBenchmark
{
    private const int Days = 30;
    private const int DocumentEvents = 100;
    private const int SharedEvents = 10;
    private const int SightingsPerEpc = 4;

    /// <summary>The standard's default page (EpcisQuery.DefaultPerPage), which the first-page queries leave unset.</summary>
    private const int EpcisPerPage = 30;
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] BizSteps = ["shipping", "receiving", "storing", "packing", "picking", "loading", "inspecting", "accepting"];

    /// <summary>The "query" command: its options, refusing server settings (the server it starts takes none).</summary>
    public static Command CreateCommand(string[] serverSettings)
    {
        var events = BenchOptions.Int("--events", "Sealed events to fill the data folder with", 1_000_000, min: 1000);
        var queries = BenchOptions.Int("--queries", "Queries of each kind to time, one after another, after 20 not timed", 200, min: 1);
        var data = new Option<DirectoryInfo?>("--data")
        {
            Description = "The data folder, filled once and kept for the next run [default: btmc-query-bench-<events> in the temporary folder]",
            HelpName = "folder",
        };
        var command = new Command("query", "Query benchmark: times EPCIS queries (MATCH_epc, a one-day eventTime range, EQ_bizTransaction, EQ_readPoint, EQ_bizStep) over HTTP on a data folder of sealed events it fills once")
        {
            events,
            queries,
            data,
        };
        command.SetAction(parsed => RunAsync(parsed.GetValue(events), parsed.GetValue(queries), parsed.GetValue(data)));
        return command.WithoutServerSettings(serverSettings);
    }

    private static async Task<int> RunAsync(int events, int queries, DirectoryInfo? dataFolder)
    {
        var data = dataFolder?.FullName ?? Path.Combine(Path.GetTempPath(), $"btmc-query-bench-{events}");
        var marker = Path.Combine(data, "query-bench.filled");
        if (!File.Exists(marker))
        {
            Directory.CreateDirectory(data);
            var seconds = await FillAsync(data, events);
            await File.WriteAllTextAsync(marker, string.Create(CultureInfo.InvariantCulture, $"{events} {seconds:F0}"));
        }

        var filled = (await File.ReadAllTextAsync(marker)).Split(' ');
        var server = ServerProcess.Start(data, ServerProcess.FreePort(), []);
        try
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
            await server.WaitReadyAsync(TimeSpan.FromSeconds(120));
            // A folder filled by an earlier version is backfilled at start; until then the indexed queries scan.
            var backfill = System.Diagnostics.Stopwatch.StartNew();
            using (var timer = new PeriodicTimer(TimeSpan.FromSeconds(1)))
            {
                while (JsonDocument.Parse(await http.GetStringAsync(string.Empty)).RootElement.GetProperty("termIndex").GetString() != "complete")
                {
                    if (backfill.Elapsed > TimeSpan.FromHours(1))
                    {
                        throw new InvalidOperationException("the server's term index backfill did not complete within an hour");
                    }

                    await timer.WaitForNextTickAsync();
                }
            }

            if (backfill.Elapsed > TimeSpan.FromSeconds(2))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"term index backfill at start: {backfill.Elapsed.TotalSeconds:F0} s"));
            }

            // The operator's key, which the server writes on its first start: it sees every event, so each answer is the whole match.
            http.DefaultRequestHeaders.Add("X-API-Key", (await File.ReadAllTextAsync(Path.Combine(data, "keys", "operator.key"))).Trim());
            using (var chains = JsonDocument.Parse(await http.GetStringAsync("api/ledger/chains")))
            {
                Console.WriteLine($"data {data}: {chains.RootElement.GetProperty("totalEntries").GetInt64():N0} sealed events (filled {int.Parse(filled[0], CultureInfo.InvariantCulture):N0} events in {filled[1]} s)");
            }

            var random = new Random(7);
            var epcCount = EpcCount(events);
            var documents = (events + DocumentEvents - 1) / DocumentEvents;
            var kinds = new (string Name, Func<string> Query, Action<int, bool> Check)[]
            {
                ("MATCH_epc (exact)", () => "MATCH_epc=" + Uri.EscapeDataString(Epc(random.Next(epcCount))) + "&perPage=1000",
                    (count, next) => Expect(count >= 1 && !next, "an EPC's sightings on one page")),
                ("one-day GE/LT_eventTime, first page", () => DayQuery(random.Next(Days)), (count, next) => Expect(count == EpcisPerPage && next, "a full first page with a next link")),
                ("EQ_bizTransaction_po", () => "EQ_bizTransaction_po=" + Uri.EscapeDataString(Po(random.Next(documents))) + "&perPage=1000",
                    (count, next) => Expect(count >= 1 && !next, "the order's events on one page")),
                ("EQ_readPoint, first page", () => "EQ_readPoint=" + Uri.EscapeDataString(ReadPoint(random.Next(20))), (count, next) => Expect(count == EpcisPerPage && next, "a full first page with a next link")),
                ("EQ_bizStep, first page", () => "EQ_bizStep=" + BizSteps[random.Next(BizSteps.Length)], (count, next) => Expect(count == EpcisPerPage && next, "a full first page with a next link")),
            };
            foreach (var (name, query, check) in kinds)
            {
                for (var i = 0; i < 20; i++)
                {
                    var (_, count, next) = await QueryAsync(http, "api/epcis/events?" + query());
                    check(count, next is not null);
                }

                var latencies = new double[queries];
                for (var i = 0; i < queries; i++)
                {
                    var (elapsed, count, next) = await QueryAsync(http, "api/epcis/events?" + query());
                    check(count, next is not null);
                    latencies[i] = elapsed;
                }

                Array.Sort(latencies);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-38} p50 {CaptureBenchmark.Percentile(latencies, 0.50),8:F2} ms, p99 {CaptureBenchmark.Percentile(latencies, 0.99),8:F2} ms, max {latencies[^1],8:F2} ms ({queries} queries, sequential)"));
            }

            // One whole day, page after page (perPage=1000): every event of the day, none twice, in ledger order.
            var day = Days / 2;
            var watch = Stopwatch.StartNew();
            var (total, pages) = (0, 0);
            for (string? link = "api/epcis/events?" + DayQuery(day) + "&perPage=1000"; link is not null; pages++)
            {
                var (_, count, next) = await QueryAsync(http, link);
                Expect(count > 0 || next is null, "no empty page before the last");
                total += count;
                link = next?.TrimStart('/');
            }

            var expected = Enumerable.Range(0, events).Count(i => EventTime(i, events) >= Start.AddDays(day) && EventTime(i, events) < Start.AddDays(day + 1));
            Expect(total == expected, $"{expected} events on day {day}, not {total}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"one day, every page (perPage=1000)        {total:N0} events in {pages} pages, {watch.Elapsed.TotalMilliseconds:F0} ms ({watch.Elapsed.TotalMilliseconds / pages:F1} ms a page)"));
            return 0;
        }
        finally
        {
            await server.KillAsync();
        }
    }

    private static string DayQuery(int day) =>
        "GE_eventTime=" + Uri.EscapeDataString(Start.AddDays(day).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture))
        + "&LT_eventTime=" + Uri.EscapeDataString(Start.AddDays(day + 1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));

    private static async Task<(double Milliseconds, int Events, string? Next)> QueryAsync(HttpClient http, string url)
    {
        var watch = Stopwatch.StartNew();
        using var response = await http.GetAsync(url);
        var body = await response.Content.ReadAsByteArrayAsync();
        var elapsed = watch.Elapsed.TotalMilliseconds;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {url}: {(int)response.StatusCode} {Encoding.UTF8.GetString(body)[..Math.Min(400, body.Length)]}");
        }

        using var document = JsonDocument.Parse(body);
        var count = document.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList").GetArrayLength();
        string? next = null;
        if (response.Headers.TryGetValues("Link", out var links) && NextLink().Match(string.Join(", ", links)) is { Success: true } match)
        {
            next = match.Groups[1].Value;
        }

        return (elapsed, count, next);
    }

    private static void Expect(bool holds, string what)
    {
        if (!holds)
        {
            throw new InvalidOperationException($"wrong answer: expected {what}");
        }
    }

    [GeneratedRegex("<([^>]*)>\\s*;\\s*rel=\"next\"")]
    private static partial Regex NextLink();

    private static int EpcCount(int events) => Math.Max(1, events / SightingsPerEpc);

    /// <summary>EPC k is seen by events k, k + EPCs, k + 2 EPCs, ...: a week apart over the month.</summary>
    private static string Epc(int k) => string.Create(CultureInfo.InvariantCulture, $"urn:epc:id:sgtin:0614141.{100000 + (k % 1000)}.{k}");

    private static string Po(int document) => string.Create(CultureInfo.InvariantCulture, $"urn:epcglobal:cbv:bt:0614141000005:PO-{document}");

    private static string ReadPoint(int r) => string.Create(CultureInfo.InvariantCulture, $"urn:epc:id:sgln:0614141.{10000 + r}.0");

    private static string BizLocation(int l) => string.Create(CultureInfo.InvariantCulture, $"urn:epc:id:sgln:0614141.{20000 + l}.0");

    /// <summary>Event i's time: the month in capture order, a few minutes of jitter either way (as devices report late or early).</summary>
    private static DateTimeOffset EventTime(int i, int events)
    {
        var spacing = TimeSpan.FromDays(Days).Ticks / events;
        var jitter = ((i * 7919L) % 601 - 300) * TimeSpan.TicksPerSecond;
        var ticks = Math.Clamp(i * spacing + jitter, 0, TimeSpan.FromDays(Days).Ticks - 1);
        return Start.AddTicks(ticks);
    }

    private static string Event(int i, int events)
    {
        var document = i / DocumentEvents;
        var orders = i % DocumentEvents < SharedEvents && document > 0
            ? $$"""{"type":"po","bizTransaction":"{{Po(document)}}"},{"type":"po","bizTransaction":"{{Po(document - 1)}}"}"""
            : $$"""{"type":"po","bizTransaction":"{{Po(document)}}"}""";
        // Read points, locations and steps by a hash of i, so that none follows the documents or the time.
        var spread = (int)(((i * 2654435761L) >>> 7) & 0x7fffffff);
        return $$"""{"type":"ObjectEvent","eventTime":"{{EventTime(i, events):yyyy-MM-ddTHH:mm:ss.fffZ}}","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["{{Epc(i % EpcCount(events))}}"],"bizStep":"{{BizSteps[spread % BizSteps.Length]}}","disposition":"in_progress","readPoint":{"id":"{{ReadPoint(spread / 8 % 20)}}"},"bizLocation":{"id":"{{BizLocation(spread / 160 % 10)}}"},"bizTransactionList":[{{orders}}]}""";
    }

    /// <summary>Fills the folder as the server would hold it; the seconds it took to capture and seal every event.</summary>
    private static Task<double> FillAsync(string data, int total) =>
        LedgerFill.FillAsync(data, total, written => Enumerable.Range(written, Math.Min(1000, total - written)).Select(i => Event(i, total)).ToList());
}
