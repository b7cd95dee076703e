using System.Collections.Concurrent;
using Btmc.Ledger;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Capture;

/// <summary>
/// An accepted event that is on the supply-events stream but not yet sealed. <see cref="Record"/> is its encoded
/// record (<see cref="EventRecord"/>), which owns the event bytes (never a slice of a request buffer, which is reused
/// once the request ends). <see cref="PartitionKey"/> is its lot (<see cref="SupplyPartitionKey"/>), and
/// <see cref="Partition"/> the embedded log partition that key maps to.
/// </summary>
public sealed record PendingEvent(string EventId, Hash32 EventHash, string PartitionKey, int Partition, string CaptureId, string Partner, DateTimeOffset ReceivedAt, ReadOnlyMemory<byte> Record)
{
    private readonly TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes when the event is durable in the log (at once for events read back from the log), fails when the
    /// capture that registered it could not append it. Another capture of the same event waits for it before it
    /// answers, so it never acknowledges an event that is not durable.
    /// </summary>
    public Task Appended => _appended.Task;

    public static PendingEvent Of(EventRecord record, string partitionKey, int partition)
    {
        var encoded = record.Encode();
        return new PendingEvent(record.EventId, record.EventHash, partitionKey, partition, record.CaptureId, record.Partner, record.ReceivedAt, encoded);
    }

    /// <summary>An event read back from the log: already durable.</summary>
    public static PendingEvent FromLog(EventRecord record, string partitionKey, int partition, ReadOnlyMemory<byte> encoded)
    {
        var pending = new PendingEvent(record.EventId, record.EventHash, partitionKey, partition, record.CaptureId, record.Partner, record.ReceivedAt, encoded);
        pending.MarkAppended();
        return pending;
    }

    public void MarkAppended() => _appended.TrySetResult();

    public void MarkFailed(Exception reason) => _appended.TrySetException(reason);

    /// <summary>The event as captured: the tail of the record.</summary>
    public ReadOnlyMemory<byte> Json => EventRecord.JsonOf(Record);
}

/// <summary>
/// Accepted events not yet sealed, by event id: capture registers an event here before publishing it, the sealer
/// removes it once the block holding it is committed and indexed, so an event is always findable. On the embedded log
/// it is rebuilt at start from the unsealed tail of the log. On Event Hubs it holds what this instance accepted, and
/// events another instance sealed leave it through <see cref="SupplyBackend.SweepPendingAsync"/>. Its size is the
/// sealing backlog.
/// </summary>
public sealed class PendingEvents
{
    private readonly ConcurrentDictionary<string, PendingEvent> _events = new(StringComparer.Ordinal);

    public int Count => _events.Count;

    /// <summary>Registers the event; when the id is already pending, returns the event that holds it.</summary>
    public bool TryAdd(PendingEvent pending, out PendingEvent existing)
    {
        existing = _events.GetOrAdd(pending.EventId, pending);
        return ReferenceEquals(existing, pending);
    }

    public bool TryGet(string eventId, out PendingEvent pending) =>
        _events.TryGetValue(eventId, out pending!);

    /// <summary>Removes exactly this registration (not a later one of the same id).</summary>
    public void Remove(PendingEvent pending) =>
        _events.TryRemove(new KeyValuePair<string, PendingEvent>(pending.EventId, pending));

    public void Remove(string eventId) => _events.TryRemove(eventId, out _);

    /// <summary>When the longest-waiting registration was accepted; null when none waits. Reads every registration.</summary>
    public DateTimeOffset? OldestReceivedAt()
    {
        DateTimeOffset? oldest = null;
        foreach (var (_, evt) in _events)
        {
            if (oldest is null || evt.ReceivedAt < oldest)
            {
                oldest = evt.ReceivedAt;
            }
        }

        return oldest;
    }

    /// <summary>Up to <paramref name="max"/> events accepted before <paramref name="before"/>, in no particular order.</summary>
    public List<PendingEvent> AcceptedBefore(DateTimeOffset before, int max)
    {
        var found = new List<PendingEvent>();
        foreach (var (_, evt) in _events)
        {
            if (evt.ReceivedAt < before && evt.Appended.IsCompletedSuccessfully)
            {
                found.Add(evt);
                if (found.Count == max)
                {
                    break;
                }
            }
        }

        return found;
    }
}
