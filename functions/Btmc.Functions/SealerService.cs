using Btmc.Supply;
using Btmc.Supply.Sealing;

namespace Btmc.Functions;

/// <summary>
/// Runs one sealer per partition of the embedded event log for the life of the server, when this server's log owns
/// the ledger's sealing (<see cref="SupplyBackend.ClaimSealingAsync"/>). A sealer that faults (a store error, say) is
/// logged, shows the fault in its status, and is restarted from its chain head after a pause; nothing accepted is
/// lost meanwhile. <see cref="SealingMonitor"/> watches that they make progress.
/// </summary>
public sealed class SealerService(SupplyBackend backend, ILogger<SealerService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        backend.IsSealingOwner ? Task.WhenAll(backend.Sealers.Select(sealer => RunAsync(sealer, stoppingToken))) : Task.CompletedTask;

    private async Task RunAsync(LogSealer sealer, CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await sealer.RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                sealer.Failed(ex);
                logger.LogError(ex, "Sealer for {ChainId} failed at sequence {Sequence}; restarting from the chain head", sealer.ChainId, sealer.NextSequenceNumber);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}

/// <summary>
/// Every second, asks <see cref="SealingWatch"/> how each chain's sealing stands and logs what a person must know: a
/// warning when a chain's oldest unsealed event has waited past the late bound (three slots), an error with the
/// reason when a chain has made no progress for ten slots while events wait (each repeated every 30 s while it
/// lasts), a note when it has caught up again, and once each, why a sealer resumed somewhere other than after its
/// chain head (<see cref="LogSealer.PositionWarning"/>).
/// </summary>
public sealed class SealingMonitor(SupplyBackend backend, SealingWatch watch, ILogger<SealingMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan Repeat = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!backend.IsSealingOwner)
        {
            logger.LogWarning("Captures are refused: {Reason}", backend.Capture.NotSealingReason);
            return;
        }

        var reported = new Dictionary<string, (DateTimeOffset At, bool Stalled)>(StringComparer.Ordinal);
        var positionWarnings = new Dictionary<string, string?>(StringComparer.Ordinal);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), backend.Time);
        while (await timer.NextTickAsync(stoppingToken))
        {
            IReadOnlyList<ChainSealing> chains;
            try
            {
                chains = await watch.InspectAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Could not inspect the sealers; trying again in a second");
                continue;
            }

            foreach (var sealer in backend.Sealers)
            {
                if (sealer.PositionWarning is { } warning && positionWarnings.GetValueOrDefault(sealer.ChainId) != warning)
                {
                    logger.LogWarning("{Warning}", warning);
                }

                positionWarnings[sealer.ChainId] = sealer.PositionWarning;
            }

            var now = backend.Time.GetUtcNow();
            foreach (var chain in chains)
            {
                var had = reported.TryGetValue(chain.ChainId, out var last);
                if (!chain.Late && !chain.Stalled)
                {
                    if (had)
                    {
                        logger.LogInformation("Sealing of {ChainId} has caught up ({Unsealed} events waiting)", chain.ChainId, chain.Unsealed);
                        reported.Remove(chain.ChainId);
                    }

                    continue;
                }

                if (had && now - last.At < Repeat && last.Stalled == chain.Stalled)
                {
                    continue;
                }

                reported[chain.ChainId] = (now, chain.Stalled);
                if (chain.Stalled)
                {
                    logger.LogError("Sealing of {ChainId} has made no progress for {Seconds:F0} s with {Unsealed} events waiting (the oldest for {Age:F1} s): {Reason}",
                        chain.ChainId, (now - chain.Sealer.LastProgressAt).TotalSeconds, chain.Unsealed, chain.OldestUnsealedAge?.TotalSeconds ?? 0, chain.Reason);
                }
                else
                {
                    logger.LogWarning("{Unsealed} events of {ChainId} wait to be sealed, the oldest for {Age:F1} s (more than {Bound:F0} s): {Reason}",
                        chain.Unsealed, chain.ChainId, chain.OldestUnsealedAge?.TotalSeconds ?? 0, watch.LateAfter.TotalSeconds, chain.Reason);
                }
            }
        }
    }
}
