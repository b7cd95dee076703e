using Btmc.Compute;

namespace Btmc.Functions.Compute;

/// <summary>
/// The embedded default's compute loops: one accounting loop per mining-log partition, and the epoch closer every few
/// seconds. (On Azure the AccountMiningEvents trigger and the CloseEpochs timer do the same.)
/// </summary>
public sealed class ComputeService(ComputeBackend compute, ILogger<ComputeService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = compute.Accountants.Select(a => Task.Run(() => RunAccountantAsync(a, stoppingToken), stoppingToken)).ToList();
        loops.Add(Task.Run(() => RunCloserAsync(stoppingToken), stoppingToken));
        await Task.WhenAll(loops);
    }

    private async Task RunAccountantAsync(Btmc.Compute.Mining.MiningLogAccountant accountant, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await accountant.RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Accounting mining partition {Partition} failed; retrying", accountant.Partition);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task RunCloserAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(compute.Options.EpochSeconds / 10.0, 1, 60));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var epoch in await compute.CloseDueEpochsAsync(stoppingToken))
                {
                    logger.LogInformation("Epoch {Epoch} closed: {Contributors} contributors, {Paid} paid", epoch.Epoch, epoch.Contributors, epoch.Paid);
                }

                await Task.Delay(period, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Closing reward epochs failed; retrying");
                await Task.Delay(period, stoppingToken);
            }
        }
    }
}
