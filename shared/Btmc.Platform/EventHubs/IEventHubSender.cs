namespace Btmc.Platform.EventHubs;

/// <summary>
/// The send side of one event hub, as the capabilities need it; the Azure adapter (Btmc.Platform.Azure) sends through
/// the official <c>EventHubProducerClient</c>. A port, so that Supply and Compute reference no Azure package.
/// </summary>
public interface IEventHubSender
{
    /// <summary>The namespace's host name, for logs.</summary>
    string FullyQualifiedNamespace { get; }

    string EventHubName { get; }

    /// <summary>
    /// Sends <paramref name="bodies"/> in order under <paramref name="partitionKey"/>, so that they land in one
    /// partition in this order, in as many batches as the hub's publication size needs. When it completes, all are
    /// durable in the hub. An event too large for a publication of its own is refused before anything is sent; a send
    /// the service refuses, or that runs out of retries, throws (batches sent before it stay in the hub).
    /// </summary>
    Task SendAsync(string partitionKey, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken = default);
}
