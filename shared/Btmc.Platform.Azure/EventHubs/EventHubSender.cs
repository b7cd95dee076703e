using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Btmc.Platform.EventHubs;

namespace Btmc.Platform.Azure.EventHubs;

/// <summary>
/// <see cref="IEventHubSender"/> on the official <see cref="EventHubProducerClient"/> (AMQP). Batches are sized by
/// <see cref="EventDataBatch.TryAdd"/>, so the limit is the one the hub reports on the link, not a guess at the
/// encoding. Retries are the client's (<see cref="EventHubsRetryOptions"/>); when they are spent its exception
/// surfaces unchanged. Thread-safe, as the client is; disposing it closes the client.
/// </summary>
public sealed class EventHubSender(EventHubProducerClient producer) : IEventHubSender, IAsyncDisposable
{
    public string FullyQualifiedNamespace => producer.FullyQualifiedNamespace;

    public string EventHubName => producer.EventHubName;

    public async Task SendAsync(string partitionKey, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(partitionKey);
        ArgumentNullException.ThrowIfNull(bodies);
        var options = new CreateBatchOptions { PartitionKey = partitionKey };
        var batches = new List<EventDataBatch>();
        try
        {
            // All batches are filled before the first is sent: an event that fits no batch is refused with nothing
            // sent, so a capture refused for it leaves nothing in the hub.
            var batch = await NewBatchAsync().ConfigureAwait(false);
            for (var i = 0; i < bodies.Count; i++)
            {
                var data = new EventData(bodies[i]);
                if (batch.TryAdd(data))
                {
                    continue;
                }

                if (batch.Count > 0)
                {
                    batch = await NewBatchAsync().ConfigureAwait(false);
                    if (batch.TryAdd(data))
                    {
                        continue;
                    }
                }

                throw new ArgumentException(
                    $"Event {i} under partition key '{partitionKey}' is {bodies[i].Length} bytes, more than one publication to the hub holds ({batch.MaximumSizeInBytes} bytes with its framing).",
                    nameof(bodies));
            }

            // One key's batches go one after another, so that the partition keeps their order.
            foreach (var full in batches.Where(b => b.Count > 0))
            {
                await producer.SendAsync(full, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var batch in batches)
            {
                batch.Dispose();
            }
        }

        async Task<EventDataBatch> NewBatchAsync()
        {
            var batch = await producer.CreateBatchAsync(options, cancellationToken).ConfigureAwait(false);
            batches.Add(batch);
            return batch;
        }
    }

    public ValueTask DisposeAsync() => producer.DisposeAsync();
}
