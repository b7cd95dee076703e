using Btmc.Governance;

namespace Btmc.Functions.Governance;

/// <summary>
/// Reads the governance blocks other instances commit, every <see cref="Interval"/>: partner changes (a suspension, a
/// new key, new prefixes) take effect on this instance within that bound plus one table read, without a restart
/// (docs/partners.md). Changes made through this instance take effect at once.
/// </summary>
public sealed class GovernanceSync(GovernanceLedger ledger, TimeProvider time, ILogger<GovernanceSync> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.NextTickAsync(stoppingToken))
        {
            try
            {
                await ledger.SyncAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Reading new governance blocks failed; trying again in {Seconds} s", Interval.TotalSeconds);
            }
        }
    }
}
