namespace Btmc.Platform.EventLog;

/// <summary>Tuning of a <see cref="FileEventLog"/>. The defaults favour durability.</summary>
public sealed record FileEventLogOptions
{
    /// <summary>
    /// fsync each group commit before completing the appends (default true): appends then survive power loss too.
    /// With false they survive a crash of the process (the OS page cache has them) but not of the machine.
    /// </summary>
    public bool FlushToDisk { get; init; } = true;

    /// <summary>The clock each event's enqueued time is read from.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>A partition rolls to a new segment file once the current one would pass this size (default 64 MiB).</summary>
    public long SegmentMaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Most bytes one group commit gathers from queued appends before it writes (default 8 MiB).</summary>
    public int MaxGroupCommitBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Body bytes of the most recent events kept in memory per partition for readers that follow the tail (default 16 MiB).</summary>
    public long RecentCacheMaxBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Most recent events kept in memory per partition (default 32,768; 0 disables the cache).</summary>
    public int RecentCacheMaxEvents { get; init; } = 32 * 1024;

    /// <summary>Most bytes a single <see cref="FileEventLog.AppendAsync"/> may carry (default 256 MiB).</summary>
    public int MaxAppendBytes { get; init; } = 256 * 1024 * 1024;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SegmentMaxBytes, 4096, nameof(SegmentMaxBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxGroupCommitBytes, 4096, nameof(MaxGroupCommitBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(RecentCacheMaxBytes, nameof(RecentCacheMaxBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(RecentCacheMaxEvents, nameof(RecentCacheMaxEvents));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAppendBytes, 1, nameof(MaxAppendBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxAppendBytes, 1024 * 1024 * 1024, nameof(MaxAppendBytes));
    }
}

/// <summary>A torn tail the log cut off when it opened: the bytes after the last complete frame of a partition.</summary>
public sealed record EventLogRepair(int Partition, string SegmentPath, long Position, long DiscardedBytes);
