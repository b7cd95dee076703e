using Btmc.Platform.EventHubs;
using Btmc.Platform.EventLog;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Capture;

/// <summary>
/// Where capture puts accepted events: the supply-events stream. When <see cref="PublishAsync"/> completes the events
/// are durable there; events with one partition key keep their order.
/// </summary>
public interface ISupplyEventPublisher
{
    Task PublishAsync(IReadOnlyList<PendingEvent> events, CancellationToken cancellationToken);
}

/// <summary>The embedded default: one append per log partition (<see cref="PendingEvent.Partition"/>), in parallel.</summary>
public sealed class EventLogPublisher(IEventLog log) : ISupplyEventPublisher
{
    public async Task PublishAsync(IReadOnlyList<PendingEvent> events, CancellationToken cancellationToken)
    {
        var byPartition = new List<ReadOnlyMemory<byte>>?[log.PartitionCount];
        foreach (var evt in events)
        {
            (byPartition[evt.Partition] ??= []).Add(evt.Record);
        }

        var appends = new List<Task>();
        for (var p = 0; p < byPartition.Length; p++)
        {
            if (byPartition[p] is { } bodies)
            {
                appends.Add(log.AppendAsync(p, bodies, cancellationToken));
            }
        }

        await Task.WhenAll(appends).ConfigureAwait(false);
    }
}

/// <summary>
/// Azure: the Event Hubs supply-events hub over the HTTPS send API. Events are grouped by partition key (one send
/// batch carries one key), each group is sent in order in batches that fit the hub's publication size, and the
/// groups go in parallel. Each body is a <see cref="SupplyEventEnvelope"/>.
/// </summary>
public sealed class EventHubPublisher(EventHubProducer producer) : ISupplyEventPublisher
{
    /// <summary>Room for the JSON array framing and the per-event wrapping ({"Body":…,"BrokerProperties":…}).</summary>
    private const int FramingBytes = 512;

    public async Task PublishAsync(IReadOnlyList<PendingEvent> events, CancellationToken cancellationToken)
    {
        var groups = events.GroupBy(e => e.PartitionKey, StringComparer.Ordinal);
        await Task.WhenAll(groups.Select(g => SendGroupAsync(g.Key, g.ToList(), cancellationToken))).ConfigureAwait(false);
    }

    private async Task SendGroupAsync(string partitionKey, List<PendingEvent> events, CancellationToken cancellationToken)
    {
        var batch = new List<ReadOnlyMemory<byte>>();
        var size = FramingBytes + partitionKey.Length;
        foreach (var evt in events)
        {
            var body = SupplyEventEnvelope.Encode(EventRecord.Decode(evt.Record));
            // A body's JSON string may grow when escaped (quotes and backslashes of the event double up).
            var wireSize = (body.Length * 2) + FramingBytes;
            if (batch.Count > 0 && size + wireSize > producer.MaximumBatchSizeInBytes)
            {
                await producer.SendAsync(batch, partitionKey, cancellationToken).ConfigureAwait(false);
                batch = [];
                size = FramingBytes + partitionKey.Length;
            }

            batch.Add(body);
            size += wireSize;
        }

        if (batch.Count > 0)
        {
            await producer.SendAsync(batch, partitionKey, cancellationToken).ConfigureAwait(false);
        }
    }
}
