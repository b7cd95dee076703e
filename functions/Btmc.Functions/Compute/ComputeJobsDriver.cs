using Btmc.Compute.Jobs;

namespace Btmc.Functions.Compute;

/// <summary>
/// With the local pool: advances unfinished compute jobs every <see cref="ComputeJobsOptions.AdvanceMilliseconds"/>
/// (reads finished tasks, checks and settles results, credits), for the life of the server. A failing pass is logged
/// and the next one tries again; jobs stay in the table store, so a restart carries on.
/// </summary>
public sealed class ComputeJobsDriver(ComputeJobService jobs, ComputeJobsOptions options, ILogger<ComputeJobsDriver> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.AdvanceMilliseconds));
        do
        {
            try
            {
                var summary = await jobs.AdvanceAsync(stoppingToken);
                foreach (var (jobId, error) in summary.Errors)
                {
                    logger.LogWarning(error, "Advancing compute job {JobId} failed; trying again on the next pass", jobId);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Advancing compute jobs failed; trying again on the next pass");
            }
        }
        while (await timer.NextTickAsync(stoppingToken));
    }
}
