using Btmc.Chains;
using Btmc.Governance;
using Btmc.Supply;

namespace Btmc.Functions.Ledger;

/// <summary>
/// Seals each round's root checkpoint (<see cref="RootCheckpoints"/>) at the start of the round, when this process
/// holds the key of the round's root producer. A round it misses (stopped, another process holds the key) is simply
/// another process's, or has no root: roots are a convenience over the chain checkpoints, which every block has.
/// </summary>
public sealed class RootCheckpointService(GovernanceLedger governance, SupplyBackend backend, RollbackGuard rollback, TimeProvider time, ILogger<RootCheckpointService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var roots = new RootCheckpoints(backend.Reader.Chain);
        while (!stoppingToken.IsCancellationRequested)
        {
            var clock = governance.Rules.Clock;
            var round = clock.RoundOf(clock.SlotAt(time.GetUtcNow()));
            if (!rollback.IsRefused)
            {
                try
                {
                    var chains = await backend.Reader.Chain.KnownChainsAsync(backend.ChainIds, stoppingToken);
                    if (await roots.SealAsync(round, governance.Rules, governance.Scheduler.Keys, chains, stoppingToken) is { } root)
                    {
                        logger.LogDebug("Root checkpoint of round {Round} over {Chains} chains", root.Round, root.Chains.Count);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "The root checkpoint of round {Round} was not sealed: {Reason}", round, ex.Message);
                }
            }

            var wait = clock.RoundStart(round + 1) - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, stoppingToken);
            }
        }
    }
}
