namespace Btmc.Platform.EventLog;

/// <summary>One event read back from a partition: its sequence number (the offset), when it was enqueued, its body.</summary>
public sealed record LoggedEvent(int Partition, long SequenceNumber, DateTimeOffset EnqueuedTime, ReadOnlyMemory<byte> Body);

/// <summary>
/// A durable partitioned append-only event log with consumer checkpoints, shaped after an Event Hubs namespace:
/// events in one partition keep their order and get consecutive sequence numbers from 0.
/// </summary>
public interface IEventLog
{
    int PartitionCount { get; }

    /// <summary>
    /// Names this log for good (32 hex digits, drawn when it is created): sequence numbers mean something only within
    /// one log, so whoever records a position records the log's id beside it.
    /// </summary>
    string LogId { get; }

    /// <summary>Where the log is, for people: the machine and the folder.</summary>
    string Location { get; }

    /// <summary>
    /// Appends the bodies, in order, to one partition. When the task completes the events are durable
    /// (they survive a kill -9 of the process). Returns the sequence number of the first appended event.
    /// </summary>
    Task<long> AppendAsync(int partition, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="maxCount"/> events from <paramref name="fromSequenceNumber"/> on, as many as exist now (possibly none).</summary>
    Task<IReadOnlyList<LoggedEvent>> ReadAsync(int partition, long fromSequenceNumber, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Completes when the partition holds an event at <paramref name="sequenceNumber"/> (at once if it already does).</summary>
    Task WaitForEventAsync(int partition, long sequenceNumber, CancellationToken cancellationToken = default);

    /// <summary>The next sequence number the partition will assign (its event count).</summary>
    long GetEndSequenceNumber(int partition);

    /// <summary>The consumer group's checkpoint: the sequence number to resume from, or 0 when none was stored.</summary>
    Task<long> GetCheckpointAsync(string consumerGroup, int partition, CancellationToken cancellationToken = default);

    /// <summary>Stores the checkpoint durably: the consumer resumes from <paramref name="nextSequenceNumber"/>.</summary>
    Task SetCheckpointAsync(string consumerGroup, int partition, long nextSequenceNumber, CancellationToken cancellationToken = default);
}
