namespace Btmc.Functions.Supply;

/// <summary>Runs the subscription dispatcher beside the server, on the embedded default and on Azure alike.</summary>
public sealed class SubscriptionService(SubscriptionDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dispatcher.RunAsync(stoppingToken);
}
