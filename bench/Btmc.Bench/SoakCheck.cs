using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Btmc.Bench;

/// <summary>Whether the ledger settled after the load: nothing pending and the sealed total still, within the limit.</summary>
internal sealed record SettleResult(bool Settled, double Seconds, ChainsReport? Last);

/// <summary>Every event id of every block of the supply chains, with how often each was sealed.</summary>
internal sealed record SealedEvents(IReadOnlyDictionary<string, int> Counts, long Entries, long Blocks, int Chains, long? ReportedTotal);

/// <summary>
/// The end of a soak, over HTTP: wait until the ledger settles, read every block of every supply chain, and verify.
/// </summary>
internal static class SoakCheck
{
    /// <summary>How long the sealed total must stay unchanged, with nothing pending, to count as settled.</summary>
    private static readonly TimeSpan Still = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Polls <c>/api/ledger/chains</c> every second until <c>pending</c> (and <c>unsealed</c>, when reported) is 0 and
    /// the sealed total has not moved for 10 s, at most <paramref name="limit"/> and only while <paramref name="broken"/>
    /// says nothing (Azurite gone); prints progress every 10 s.
    /// </summary>
    public static async Task<SettleResult> SettleAsync(HttpClient http, TimeSpan limit, LedgerMonitor monitor, Func<double> now, Func<string?> broken)
    {
        var watch = Stopwatch.StartNew();
        var lastPrint = TimeSpan.Zero;
        ChainsReport? last = null;
        TimeSpan? stillSince = null;
        while (watch.Elapsed < limit)
        {
            if (broken() is { } why)
            {
                // Nothing will move any more: say so instead of waiting out the limit.
                Console.WriteLine($"  settling: t+{watch.Elapsed.TotalSeconds:F0} s, stopped waiting: {why}");
                return new SettleResult(false, watch.Elapsed.TotalSeconds, last);
            }

            ChainsReport? report = null;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                var started = Stopwatch.GetTimestamp();
                report = await LedgerClient.GetChainsAsync(http, timeout.Token);
                monitor.Answered(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                monitor.Observe(report, now());
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or InvalidOperationException or System.Text.Json.JsonException or KeyNotFoundException)
            {
                Console.WriteLine($"  settling: t+{watch.Elapsed.TotalSeconds:F0} s, chains not readable: {e.Message}");
            }

            if (report is not null)
            {
                var quiet = report.TotalEntries is not null && report.Pending == 0 && (report.Unsealed ?? 0) == 0;
                if (quiet && last is not null && report.TotalEntries == last.TotalEntries)
                {
                    stillSince ??= watch.Elapsed;
                    if (watch.Elapsed - stillSince >= Still)
                    {
                        return new SettleResult(true, watch.Elapsed.TotalSeconds, report);
                    }
                }
                else
                {
                    stillSince = null;
                }

                if (watch.Elapsed - lastPrint >= TimeSpan.FromSeconds(10))
                {
                    lastPrint = watch.Elapsed;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  settling: t+{watch.Elapsed.TotalSeconds:F0} s, pending {report.Pending:N0}, sealed {(report.TotalEntries is { } total ? total.ToString("N0", CultureInfo.InvariantCulture) : $"unknown ({report.StoreError})")}{Optional(report)}"));
                }

                last = report;
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        return new SettleResult(false, watch.Elapsed.TotalSeconds, last);
    }

    /// <summary>", unsealed N, oldest unsealed N ms", for the fields the server reports.</summary>
    public static string Optional(ChainsReport report) =>
        (report.Unsealed is { } unsealed ? $", unsealed {unsealed:N0}" : string.Empty)
        + (report.OldestUnsealedAgeMs is { } oldest ? string.Create(CultureInfo.InvariantCulture, $", oldest unsealed {oldest:F0} ms") : string.Empty)
        + (report.Chains.Any(c => c.Sealer is not null)
            ? ", sealers " + string.Join(" ", report.Chains.Where(c => c.Sealer is not null).GroupBy(c => c.Sealer!.State ?? "(none)").OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Key} {g.Count()}")) + (report.Chains.Count(c => c.Sealer?.LastError is not null) is var failing and > 0 ? $" ({failing} with a last error)" : string.Empty)
            : string.Empty);

    /// <summary>Reads every block of every chain <c>/api/ledger/chains</c> lists (heights 0 to the head), four at a time.</summary>
    public static async Task<SealedEvents> ReadSealedAsync(HttpClient http, Func<string?> broken)
    {
        var chains = await LedgerClient.GetKnownChainsAsync(http, broken: broken);
        var counts = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        long entries = 0;
        var blocks = chains.Chains.SelectMany(c => Enumerable.Range(0, checked((int)c.Height + 1)).Select(h => (c.ChainId, Height: (long)h))).ToList();
        await Parallel.ForEachAsync(blocks, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (block, cancellationToken) =>
        {
            var read = await ReadBlockAsync(http, block.ChainId, block.Height, cancellationToken);
            Interlocked.Add(ref entries, read.Entries.Count);
            foreach (var entry in read.Entries)
            {
                counts.AddOrUpdate(entry.EventId, 1, (_, n) => n + 1);
            }
        });
        return new SealedEvents(counts, entries, blocks.Count, chains.Chains.Count, chains.TotalEntries);
    }

    /// <summary>A block, tried three times (a transient error is not a finding); a block missing below the head is.</summary>
    private static async Task<BlockReport> ReadBlockAsync(HttpClient http, string chainId, long height, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await LedgerClient.GetBlockAsync(http, chainId, height, cancellationToken)
                    ?? throw new InvalidOperationException($"{chainId} has no block {height} below its head");
            }
            catch (Exception e) when (attempt < 3 && e is HttpRequestException or IOException or TaskCanceledException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
