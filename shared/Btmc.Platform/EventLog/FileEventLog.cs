using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Btmc.Platform.EventLog;

/// <summary>
/// A durable, local, partitioned append-only log with consumer-group checkpoints: the embedded stand-in for an
/// Event Hubs namespace.
/// </summary>
/// <remarks>
/// <para>Layout under the directory:</para>
/// <list type="bullet">
/// <item><c>eventlog.lock</c>: held exclusively while the log is open, so that one process writes it.</item>
/// <item><c>eventlog.meta</c>: text, <c>format=btmc-eventlog/1</c>, <c>partitions=N</c> and <c>id=&lt;32 hex&gt;</c>
/// (<see cref="LogId"/>, drawn when the log is created, or first opened without one); opening with another
/// partition count throws.</item>
/// <item><c>p{n}/{firstSequence:D20}.seg</c>: segment files of partition n, a sequence of frames
/// (see <see cref="EventLogFormat"/>: magic, payload length, event count, first sequence number, 16-byte truncated
/// SHA-256, then records of u32 length + i64 enqueued ticks + body). A partition rolls to a new segment once the
/// current one would pass <see cref="FileEventLogOptions.SegmentMaxBytes"/>.</item>
/// <item><c>checkpoints/{hex(UTF-8 group)}/{partition}.ckpt</c>: 32 bytes (magic, partition, next sequence
/// number, truncated SHA-256), replaced atomically (temp file, fsync, rename).</item>
/// </list>
/// <para>Appends to one partition are group-committed by a single writer loop: everything queued is written as one
/// frame and flushed (fsync when <see cref="FileEventLogOptions.FlushToDisk"/>), then every waiting append
/// completes. On open every segment is verified; a torn tail of a partition's last segment (bytes after the last
/// complete frame with no valid frame behind them) is cut off and reported in <see cref="Repairs"/>; damage
/// anywhere else throws <see cref="InvalidDataException"/> naming segment and byte.</para>
/// <para>Directory entries (new segment files, renamed checkpoints) are not fsynced: after power loss a
/// just-created segment or checkpoint may be missing; a process crash loses nothing that was acknowledged.</para>
/// </remarks>
public sealed class FileEventLog : IEventLog, IAsyncDisposable
{
    private const string MetadataFile = "eventlog.meta";
    private const string FormatLine = "format=btmc-eventlog/1";
    private const string LockFile = "eventlog.lock";

    private readonly string _directory;
    private readonly FileEventLogOptions _options;
    private readonly PartitionLog[] _partitions;
    private readonly FileStream _lock;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _checkpointLocks = new(StringComparer.Ordinal);
    private int _disposed;

    /// <summary>Opens the log in <paramref name="directory"/>, creating it when missing, and recovers every partition.</summary>
    public FileEventLog(string directory, int partitionCount, FileEventLogOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitionCount, 1024);
        _options = options ?? new FileEventLogOptions();
        _options.Validate();
        _directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(_directory);
        _lock = AcquireLock(_directory);
        _partitions = new PartitionLog[partitionCount];
        try
        {
            LogId = EnsureMetadata(partitionCount);
            CleanCheckpointTemps();
            for (var p = 0; p < partitionCount; p++)
            {
                _partitions[p] = PartitionLog.Open(p, PartitionDirectory(p), _options);
            }
        }
        catch
        {
            foreach (var opened in _partitions)
            {
                opened?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            _lock.Dispose();
            throw;
        }

        Repairs = _partitions.SelectMany(p => p.Repairs).ToArray();
    }

    /// <inheritdoc />
    public int PartitionCount => _partitions.Length;

    /// <summary>The torn tails cut off while opening (empty after a clean shutdown).</summary>
    public IReadOnlyList<EventLogRepair> Repairs { get; }

    /// <summary>The directory of the log.</summary>
    public string DirectoryPath => _directory;

    /// <inheritdoc />
    public string LogId { get; }

    /// <inheritdoc />
    public string Location => $"{Environment.MachineName}:{_directory}";

    /// <inheritdoc />
    public Task<long> AppendAsync(int partition, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        if (bodies.Count == 0)
        {
            throw new ArgumentException("An append needs at least one event body.", nameof(bodies));
        }

        return Partition(partition).AppendAsync(bodies, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<LoggedEvent>> ReadAsync(int partition, long fromSequenceNumber, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromSequenceNumber);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        var log = Partition(partition);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(log.Read(fromSequenceNumber, maxCount));
    }

    /// <inheritdoc />
    public Task WaitForEventAsync(int partition, long sequenceNumber, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequenceNumber);
        return Partition(partition).WaitForEventAsync(sequenceNumber, cancellationToken);
    }

    /// <inheritdoc />
    public long GetEndSequenceNumber(int partition) => Partition(partition).End;

    /// <inheritdoc />
    public async Task<long> GetCheckpointAsync(string consumerGroup, int partition, CancellationToken cancellationToken = default)
    {
        _ = Partition(partition);
        var path = CheckpointPath(consumerGroup, partition);
        byte[] data;
        try
        {
            data = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0;
        }

        return EventLogFormat.TryDecodeCheckpoint(data, partition, out var next)
            ? next
            : throw new InvalidDataException($"The checkpoint file '{path}' is damaged.");
    }

    /// <inheritdoc />
    public async Task SetCheckpointAsync(string consumerGroup, int partition, long nextSequenceNumber, CancellationToken cancellationToken = default)
    {
        _ = Partition(partition);
        ArgumentOutOfRangeException.ThrowIfNegative(nextSequenceNumber);
        var path = CheckpointPath(consumerGroup, partition);
        var gate = _checkpointLocks.GetOrAdd(path, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            WriteAtomically(path, EventLogFormat.EncodeCheckpoint(partition, nextSequenceNumber), _options.FlushToDisk);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Lets queued appends finish, then closes every file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var partition in _partitions)
        {
            await partition.DisposeAsync().ConfigureAwait(false);
        }

        await _lock.DisposeAsync().ConfigureAwait(false);
    }

    private static FileStream AcquireLock(string directory)
    {
        var path = Path.Combine(directory, LockFile);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"The event log in '{directory}' is already open (by this or another process): '{path}' is locked.", e);
        }
    }

    private PartitionLog Partition(int partition)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, _partitions.Length);
        return _partitions[partition];
    }

    private string PartitionDirectory(int partition) =>
        Path.Combine(_directory, "p" + partition.ToString(CultureInfo.InvariantCulture));

    private string CheckpointPath(string consumerGroup, int partition)
    {
        ArgumentException.ThrowIfNullOrEmpty(consumerGroup);
        if (consumerGroup.Length > 100)
        {
            throw new ArgumentException("A consumer group name has at most 100 chars.", nameof(consumerGroup));
        }

        return Path.Combine(_directory, "checkpoints", Convert.ToHexStringLower(Encoding.UTF8.GetBytes(consumerGroup)),
            partition.ToString(CultureInfo.InvariantCulture) + ".ckpt");
    }

    /// <summary>Checks or writes the metadata file; returns the log's id (adding one to a file written before ids).</summary>
    private string EnsureMetadata(int partitionCount)
    {
        var path = Path.Combine(_directory, MetadataFile);
        if (File.Exists(path))
        {
            var lines = File.ReadAllLines(path);
            var stored = lines.FirstOrDefault(l => l.StartsWith("partitions=", StringComparison.Ordinal));
            if (lines.FirstOrDefault() != FormatLine || stored is null
                || !int.TryParse(stored.AsSpan("partitions=".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                throw new InvalidDataException($"The event log metadata '{path}' is not in the format {FormatLine}.");
            }

            if (count != partitionCount)
            {
                throw new InvalidOperationException(
                    $"The event log in '{_directory}' has {count} partitions; it cannot be opened with {partitionCount}. " +
                    "Events are assigned to partitions for good, so the count cannot change.");
            }

            if (lines.FirstOrDefault(l => l.StartsWith("id=", StringComparison.Ordinal)) is { } idLine)
            {
                var id = idLine["id=".Length..];
                if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))
                {
                    throw new InvalidDataException($"The event log metadata '{path}' has the id '{id}', not 32 lowercase hex digits.");
                }

                return id;
            }

            var added = NewLogId();
            WriteAtomically(path, Encoding.UTF8.GetBytes(string.Join('\n', lines.Where(l => l.Length > 0)) + $"\nid={added}\n"), flushToDisk: true);
            return added;
        }

        if (Directory.EnumerateDirectories(_directory, "p*").Any())
        {
            throw new InvalidDataException(
                $"The event log in '{_directory}' has partition folders but no '{MetadataFile}'; refusing to guess its partition count.");
        }

        var logId = NewLogId();
        WriteAtomically(path, Encoding.UTF8.GetBytes($"{FormatLine}\npartitions={partitionCount}\nid={logId}\n"), flushToDisk: true);
        return logId;
    }

    private static string NewLogId() => Guid.NewGuid().ToString("N");

    private void CleanCheckpointTemps()
    {
        var root = Path.Combine(_directory, "checkpoints");
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var temp in Directory.EnumerateFiles(root, "*.tmp", SearchOption.AllDirectories))
        {
            File.Delete(temp);
        }
    }

    private static void WriteAtomically(string path, byte[] data, bool flushToDisk)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write))
        {
            RandomAccess.Write(handle, data, 0);
            if (flushToDisk)
            {
                RandomAccess.FlushToDisk(handle);
            }
        }

        File.Move(temp, path, overwrite: true);
    }
}
