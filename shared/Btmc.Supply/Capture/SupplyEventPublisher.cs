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
/// Azure: the supply-events hub. Events are grouped by partition key (one lot's events keep one key, so one partition
/// and their order); each group goes to the sender in document order, which batches it, and the groups go in parallel.
/// Each body is a <see cref="SupplyEventEnvelope"/>. A failed send throws, and capture refuses the whole request.
/// </summary>
public sealed class EventHubPublisher(IEventHubSender sender) : ISupplyEventPublisher
{
    public async Task PublishAsync(IReadOnlyList<PendingEvent> events, CancellationToken cancellationToken)
    {
        var groups = events.GroupBy(e => e.PartitionKey, StringComparer.Ordinal);
        await Task.WhenAll(groups.Select(g => sender.SendAsync(
                g.Key,
                g.Select(e => (ReadOnlyMemory<byte>)SupplyEventEnvelope.Encode(EventRecord.Decode(e.Record))).ToList(),
                cancellationToken)))
            .ConfigureAwait(false);
    }
}
