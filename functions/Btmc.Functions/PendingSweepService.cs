using Btmc.Supply;

namespace Btmc.Functions;

/// <summary>
/// On Event Hubs: every second, releases this instance's pending registrations of
/// events that are sealed now, whichever instance's trigger sealed them (see <see cref="SupplyBackend.SweepPendingAsync"/>).
/// Events accepted in the last second are left to the local trigger, which usually seals them first.
/// </summary>
public sealed class PendingSweepService(SupplyBackend backend, ILogger<PendingSweepService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), backend.Time);
        while (await timer.NextTickAsync(stoppingToken))
        {
            try
            {
                await backend.SweepPendingAsync(backend.Time.GetUtcNow().AddSeconds(-1), cancellationToken: stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Sweeping sealed events out of the pending set failed; trying again in a second");
            }
        }
    }
}
