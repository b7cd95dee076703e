using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;

namespace Btmc.Bench;

/// <summary>
/// The trade benchmark (issue 17): against a server process it starts on a fresh data folder, with the production
/// slot length unless server settings say otherwise, C clients each record purchase orders one after the other for S
/// seconds (every order is sealed on the trade chain before it is answered), then each client runs one financing
/// cycle (invoice, offer, two financing requests at once, repayment). Prints orders/s, the order latency p50/p99, the
/// blocks the orders took (group commit: requests that arrive during a block go into the next together) and the
/// cycle's latency.
/// </summary>
public static class TradeBenchmark
{
    private const string Gtin = "04012345111118";

    public static Command CreateCommand(string[] serverSettings)
    {
        var seconds = BenchOptions.Int("--seconds", "How long the clients record orders", 20, min: 1);
        var clients = BenchOptions.Int("--clients", "Concurrent clients", 32, min: 1, max: 1024);
        var command = new Command("trade", "Trade benchmark: orders/s sealed on the trade chain and their latency, then a financing cycle per client, over loopback HTTP against a server process it starts")
        {
            seconds,
            clients,
        };
        command.SetAction(parsed => RunAsync(parsed.GetValue(seconds), parsed.GetValue(clients), serverSettings));
        return command;
    }

    private static async Task<int> RunAsync(int seconds, int clients, string[] serverSettings)
    {
        var data = Path.Combine(Path.GetTempPath(), "btmc-trade-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var server = ServerProcess.Start(data, ServerProcess.FreePort(), serverSettings);
        try
        {
            await server.WaitReadyAsync(TimeSpan.FromSeconds(120));
            var operatorKey = (await File.ReadAllTextAsync(Path.Combine(data, "keys", "operator.key"))).Trim();
            foreach (var (id, roles, prefix) in new[] { ("fab", "partner", "4012345"), ("modmaker", "partner", "4098765"), ("bank-a", "financier", "-"), ("bank-b", "financier", "-") })
            {
                using var admin = Client(server, operatorKey);
                using var added = await admin.PostAsJsonAsync("api/partners", new
                {
                    id, prefixes = prefix == "-" ? Array.Empty<string>() : [prefix], roles = new[] { roles }, grantedPrefixes = Array.Empty<string>(),
                    apiKeySha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id + "-bench"))), signingKey = (object?)null, requireSignature = false,
                });
                added.EnsureSuccessStatusCode();
            }

            using var buyer = Client(server, "modmaker-bench");
            var latencies = new List<double>[clients];
            var heights = new HashSet<long>();
            var stop = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                latencies[c] = [];
                for (var n = 0; stop.Elapsed.TotalSeconds < seconds; n++)
                {
                    var started = Stopwatch.GetTimestamp();
                    using var response = await buyer.PostAsJsonAsync("api/trade/orders", Order($"PO-{c}-{n}", 10));
                    response.EnsureSuccessStatusCode();
                    latencies[c].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    var height = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("position").GetProperty("height").GetInt64();
                    lock (heights)
                    {
                        heights.Add(height);
                    }
                }
            })));
            var elapsed = stop.Elapsed.TotalSeconds;
            var all = latencies.SelectMany(l => l).Order().ToList();
            Console.WriteLine($"orders: {all.Count:N0} in {elapsed:F1} s with {clients} clients = {all.Count / elapsed:N1} orders/s sealed, in {heights.Count:N0} trade blocks ({(double)all.Count / heights.Count:N1} orders/block)");
            Console.WriteLine($"  order latency (request to sealed answer): p50 {Percentile(all, 0.50):F0} ms, p99 {Percentile(all, 0.99):F0} ms");

            using var fab = Client(server, "fab-bench");
            using var bankA = Client(server, "bank-a-bench");
            using var bankB = Client(server, "bank-b-bench");
            var cycles = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                (await fab.PostAsJsonAsync("api/trade/invoices", new { number = $"INV-{c}", order = $"trade:order:modmaker:PO-{c}-0", lines = new[] { new { gtin = Gtin, quantity = 10, unitPrice = 12.5m } }, dueDate = "2027-01-31" })).EnsureSuccessStatusCode();
                (await fab.PostAsJsonAsync("api/finance/receivables", new { id = $"R-{c}", invoice = $"trade:invoice:fab:INV-{c}" })).EnsureSuccessStatusCode();
                var race = await Task.WhenAll(bankA.PostAsJsonAsync($"api/finance/receivables/R-{c}/financing", new { }), bankB.PostAsJsonAsync($"api/finance/receivables/R-{c}/financing", new { }));
                if (race.Count(r => r.IsSuccessStatusCode) != 1)
                {
                    throw new InvalidOperationException($"receivable R-{c}: {race.Count(r => r.IsSuccessStatusCode)} grants");
                }

                (await buyer.PostAsJsonAsync($"api/finance/receivables/R-{c}/repayments", new { reference = "PAY", amount = 125m })).EnsureSuccessStatusCode();
                return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            })));
            var sorted = cycles.Order().ToList();
            Console.WriteLine($"financing cycles (invoice, offer, two requests at once, repayment): {clients}, one grant each, p50 {Percentile(sorted, 0.50):F0} ms, p99 {Percentile(sorted, 0.99):F0} ms");
            return 0;
        }
        finally
        {
            await server.KillAsync();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
                // A file still open for a moment after the kill: the temporary folder keeps it.
            }
        }
    }

    private static object Order(string number, long quantity) => new
    {
        number, buyer = "modmaker", seller = "fab", currency = "EUR", lines = new[] { new { gtin = Gtin, quantity, unitPrice = 12.5m } },
    };

    private static HttpClient Client(ServerProcess server, string apiKey)
    {
        var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        return client;
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
