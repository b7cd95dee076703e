using System.Globalization;

namespace Btmc.Bench;

/// <summary>
/// What <c>GET /api/ledger/chains</c> said during a soak: the most events pending and (when the server reports it) the
/// oldest unsealed event's age, and the sealer states and errors the chains reported.
/// </summary>
internal sealed class LedgerMonitor
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _sealerStates = new(StringComparer.Ordinal);
    private readonly List<string> _sealerErrors = [];
    private readonly HashSet<string> _errorsSeen = new(StringComparer.Ordinal);

    public long MaxPending { get; private set; }

    public double? MaxOldestUnsealedAgeMs { get; private set; }

    public long Samples { get; private set; }

    public long Failures { get; private set; }

    /// <summary>Samples in which the server said it could not read its table store (heads unknown).</summary>
    public long StoreUnreadable { get; private set; }

    /// <summary>The slowest answer of <c>/api/ledger/chains</c> seen, in milliseconds.</summary>
    public double SlowestAnswerMs { get; private set; }

    /// <summary>How many samples saw a chain's sealer in each state.</summary>
    public IReadOnlyDictionary<string, int> SealerStates
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, int>(_sealerStates);
            }
        }
    }

    /// <summary>The distinct sealer errors reported (the first 10), with the time and chain.</summary>
    public IReadOnlyList<string> SealerErrors
    {
        get
        {
            lock (_gate)
            {
                return [.. _sealerErrors];
            }
        }
    }

    /// <summary>Samples every 2 s until <paramref name="stop"/>; no answer within 10 s (the server down: a fault) is only counted.</summary>
    public async Task RunAsync(HttpClient http, Func<double> now, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                limit.CancelAfter(TimeSpan.FromSeconds(10));
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                try
                {
                    var report = await LedgerClient.GetChainsAsync(http, limit.Token);
                    Answered(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Observe(report, now());
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    Failures++;
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Records how long an answer of <c>/api/ledger/chains</c> took.</summary>
    public void Answered(double milliseconds)
    {
        lock (_gate)
        {
            SlowestAnswerMs = Math.Max(SlowestAnswerMs, milliseconds);
        }
    }

    public void Observe(ChainsReport report, double at)
    {
        lock (_gate)
        {
            Samples++;
            StoreUnreadable += report.StoreError is null ? 0 : 1;
            MaxPending = Math.Max(MaxPending, report.Pending);
            if (report.OldestUnsealedAgeMs is { } oldest)
            {
                MaxOldestUnsealedAgeMs = Math.Max(MaxOldestUnsealedAgeMs ?? 0, oldest);
            }

            foreach (var chain in report.Chains)
            {
                if (chain.Sealer is not { } sealer)
                {
                    continue;
                }

                var state = sealer.State ?? "(none)";
                _sealerStates[state] = _sealerStates.GetValueOrDefault(state) + 1;
                if (sealer.LastError is { Length: > 0 } error && _errorsSeen.Add(error) && _sealerErrors.Count < 10)
                {
                    _sealerErrors.Add(string.Create(CultureInfo.InvariantCulture, $"t={at:F1} s {chain.ChainId} ({state} since {sealer.Since}): {error}"));
                }
            }
        }
    }
}
