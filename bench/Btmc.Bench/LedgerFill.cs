using System.Diagnostics;
using System.Text;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.EventLog;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Btmc.Supply;

namespace Btmc.Bench;

/// <summary>
/// Fills a data folder as the server would find it (the trace, query and audit benchmarks): the server's genesis and
/// producer key, and documents captured and sealed in this process through the real capture and sealing code.
/// </summary>
internal static class LedgerFill
{
    /// <summary>
    /// Captures the documents <paramref name="nextDocument"/> gives (it is called with the events written so far and
    /// returns the next document's events, at most 1,000) until <paramref name="total"/> events are in, waits for all of
    /// them to be sealed, and returns the seconds it took.
    /// </summary>
    public static async Task<double> FillAsync(string data, int total, Func<int, IReadOnlyList<string>> nextDocument)
    {
        var options = new SupplyOptions();
        using var tables = new SqliteTableServiceClient(Path.Combine(data, "tables.db"));
        await using var log = new FileEventLog(Path.Combine(data, "log"), options.Partitions);
        using var signer = LocalKeyFileSigner.OpenOrCreate(Path.Combine(data, "keys", "producer.pem"));
        // The ledger the server would start: its genesis names the server's default producer and key file.
        var governance = await GovernanceLedger.StartAsync(tables, options.TablePrefix, new GenesisSettings("bench", SlotClock.DefaultSlotMilliseconds, [], [new GenesisProducer("local-producer", "producer.pem", signer)]));
        var backend = new SupplyBackend(options, tables, log, governance.Scheduler);
        await backend.StartAsync();
        using var stop = new CancellationTokenSource();
        var sealers = backend.Sealers.Select(s => Task.Run(() => s.RunAsync(stop.Token))).ToList();
        var watch = Stopwatch.StartNew();
        for (var written = 0; written < total;)
        {
            var events = nextDocument(written);
            var document = Encoding.UTF8.GetBytes("""{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z","epcisBody":{"eventList":["""
                + string.Join(",", events) + "]}}");
            while (true)
            {
                try
                {
                    await backend.Capture.CaptureAsync("local", document);
                    break;
                }
                catch (Refused refused) when (refused.Kind == RefusalKind.Busy)
                {
                    // The sealing backlog is full: wait for the sealers, then send the same document again.
                    await Task.Delay(100);
                }
            }

            written += events.Count;
            if (written % 100_000 < events.Count)
            {
                Console.WriteLine($"filled {written:N0} / {total:N0} events ({written / watch.Elapsed.TotalSeconds:N0} ev/s accepted, {backend.Pending.Count:N0} pending)");
            }
        }

        while (backend.Pending.Count > 0)
        {
            await Task.Delay(200);
        }

        await stop.CancelAsync();
        await Task.WhenAll(sealers.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        Console.WriteLine($"filled and sealed {total:N0} events in {watch.Elapsed.TotalSeconds:F0} s");
        return watch.Elapsed.TotalSeconds;
    }
}
