using System.Collections.Concurrent;
using System.Net;
using Btmc.Chains;
using Btmc.Cli;
using Btmc.Platform.Tables;
using Btmc.Supply;
using Xunit;

namespace Btmc.Functions.Tests;

public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task KillDuringCapture_EveryAcceptedEventSealedExactlyOnceAfterRestart()
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            var accepted = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            var server = await LocalServer.StartProcessAsync(data);
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(client => Task.Run(async () =>
            {
                for (var doc = 0; !stop.IsCancellationRequested && doc < 10_000; doc++)
                {
                    var events = Enumerable.Range(0, 20).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.{client}{doc:D5}.{i}")).ToArray();
                    try
                    {
                        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(events));
                        Assert.Equal(HttpStatusCode.Accepted, status);
                        foreach (var id in body.GetProperty("eventIds").EnumerateArray())
                        {
                            accepted[id.GetString()!] = true;
                        }
                    }
                    catch (HttpRequestException) when (stop.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (TaskCanceledException) when (stop.IsCancellationRequested)
                    {
                        return;
                    }
                }
            })).ToList();

            // Let captures and sealing overlap for a while, then kill -9 in the middle of it.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (accepted.Count < 2000)
            {
                Assert.True(clients.All(c => !c.IsCompleted), "a capture client stopped before the kill: " + clients.FirstOrDefault(c => c.IsFaulted)?.Exception?.GetBaseException().Message);
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"only {accepted.Count} events accepted in 60 s");
                await Task.Delay(20);
            }

            stop.Cancel();
            server.Kill();
            await Task.WhenAll(clients);
            await server.DisposeAsync();
            Assert.NotEmpty(accepted);

            await using (var restarted = await LocalServer.StartProcessAsync(data))
            {
                var sealing = System.Diagnostics.Stopwatch.StartNew();
                while ((await restarted.GetJsonAsync("api/ledger/chains")).GetProperty("pending").GetInt32() > 0)
                {
                    Assert.True(sealing.Elapsed < TimeSpan.FromSeconds(120), "the restarted server did not seal its backlog in 120 s");
                    await Task.Delay(50);
                }
            }

            var sealedCounts = await CountSealedAsync(data);
            var missing = accepted.Keys.Where(id => !sealedCounts.ContainsKey(id)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} of {accepted.Count} accepted events were not sealed, e.g. {missing.FirstOrDefault()}");
            var twice = sealedCounts.Where(kv => kv.Value > 1).ToList();
            Assert.True(twice.Count == 0, $"{twice.Count} events sealed more than once, e.g. {twice.FirstOrDefault().Key}");
            Assert.Equal(0, await BtmcCli.RunAsync(["verify-chain", "--data", data], TextWriter.Null, TextWriter.Null));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>How many times each event id stands in a committed block, read straight from the embedded store.</summary>
    private static async Task<Dictionary<string, int>> CountSealedAsync(string data)
    {
        using var service = new SqliteTableServiceClient(Path.Combine(data, "tables.db"));
        var options = new SupplyOptions();
        var reader = new ChainReader(new ChainTables(service));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var p = 0; p < options.Partitions; p++)
        {
            await foreach (var block in reader.ReadBlocksAsync(options.ChainId(p)))
            {
                foreach (var entry in await reader.ReadEntriesAsync(block.Header.ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: false))
                {
                    counts[entry.EventId] = counts.GetValueOrDefault(entry.EventId) + 1;
                }
            }
        }

        return counts;
    }
}
