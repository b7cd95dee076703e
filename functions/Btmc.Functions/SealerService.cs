using Btmc.Supply;

namespace Btmc.Functions;

/// <summary>
/// Runs one sealer per partition of the embedded event log for the life of the server. A sealer that faults (a store
/// error, say) is logged and restarted from its chain head after a pause; nothing accepted is lost meanwhile.
/// </summary>
public sealed class SealerService(SupplyBackend backend, ILogger<SealerService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(backend.Sealers.Select(sealer => RunAsync(sealer, stoppingToken)));

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
                logger.LogError(ex, "Sealer for {ChainId} failed at sequence {Sequence}; restarting from the chain head", sealer.ChainId, sealer.NextSequenceNumber);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
