namespace Btmc.Functions;

/// <summary>The background services' loop: one pass per tick, until the server stops.</summary>
public static class PeriodicTimers
{
    /// <summary>Waits for the timer's next tick; false once the server is stopping (the service then returns).</summary>
    public static async Task<bool> NextTickAsync(this PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
