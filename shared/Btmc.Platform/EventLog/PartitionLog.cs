using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace Btmc.Platform.EventLog;

/// <summary>
/// One partition of a <see cref="FileEventLog"/>: its segment files, a writer loop that group-commits queued
/// appends, a frame index per segment and a cache of the most recent events.
/// </summary>
internal sealed class PartitionLog : IAsyncDisposable
{
    private const string SegmentExtension = ".seg";
    private const int MaxReadChunkBytes = 4 * 1024 * 1024;

    private readonly int _partition;
    private readonly string _directory;
    private readonly FileEventLogOptions _options;
    private readonly List<Segment> _segments = [];
    private readonly Channel<AppendRequest> _queue =
        Channel.CreateUnbounded<AppendRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly RecentCache _cache;
    private Task _writerTask = Task.CompletedTask;
    private TaskCompletionSource _signal = NewSignal();
    private long _end;
    private Exception? _fault;

    private PartitionLog(int partition, string directory, FileEventLogOptions options)
    {
        _partition = partition;
        _directory = directory;
        _options = options;
        _cache = new RecentCache(options.RecentCacheMaxEvents, options.RecentCacheMaxBytes);
    }

    public IReadOnlyList<EventLogRepair> Repairs { get; private set; } = [];

    public long End => Volatile.Read(ref _end);

    /// <summary>Opens the partition: scans and verifies every segment, cutting off a torn tail of the last one.</summary>
    public static PartitionLog Open(int partition, string directory, FileEventLogOptions options)
    {
        Directory.CreateDirectory(directory);
        var repairs = new List<EventLogRepair>();
        var log = new PartitionLog(partition, directory, options);
        try
        {
            log.Recover(repairs);
        }
        catch
        {
            log._queue.Writer.TryComplete();
            log.CloseHandles();
            throw;
        }

        log.Repairs = repairs;
        log._writerTask = Task.Run(log.RunWriterAsync);
        return log;
    }

    public Task<long> AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken)
    {
        long bytes = 0;
        for (var i = 0; i < bodies.Count; i++)
        {
            bytes += EventLogFormat.RecordHeaderSize + bodies[i].Length;
        }

        if (bytes > _options.MaxAppendBytes)
        {
            throw new ArgumentException(
                $"The append carries {bytes} bytes; at most {_options.MaxAppendBytes} are allowed (FileEventLogOptions.MaxAppendBytes).", nameof(bodies));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<long>(cancellationToken);
        }

        var fault = Volatile.Read(ref _fault);
        if (fault is not null)
        {
            throw Faulted(fault);
        }

        var request = new AppendRequest(bodies, (int)bytes, cancellationToken);
        if (!_queue.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(FileEventLog));
        }

        return request.Completion.Task;
    }

    public IReadOnlyList<LoggedEvent> Read(long fromSequenceNumber, int maxCount)
    {
        var end = End;
        if (fromSequenceNumber >= end)
        {
            return [];
        }

        var take = (int)Math.Min(maxCount, end - fromSequenceNumber);
        var result = new List<LoggedEvent>(Math.Min(take, 4096));
        var next = fromSequenceNumber;
        while (result.Count < take)
        {
            ChunkPlan plan;
            lock (_gate)
            {
                if (_cache.TryCopy(next, take - result.Count, result))
                {
                    break;
                }

                plan = PlanChunk(next, take - result.Count);
            }

            var before = result.Count;
            ReadChunk(plan, next, take - result.Count, result);
            if (result.Count == before)
            {
                throw new InvalidDataException(
                    $"Partition {_partition}: event {next} is indexed in '{plan.Segment.Path}' at byte {plan.Position} but could not be read there.");
            }

            next += result.Count - before;
        }

        return result;
    }

    public async Task WaitForEventAsync(long sequenceNumber, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task signal;
            lock (_gate)
            {
                if (_end > sequenceNumber)
                {
                    return;
                }

                signal = _signal.Task;
            }

            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writerTask.ConfigureAwait(false);
        lock (_gate)
        {
            _signal.TrySetException(new ObjectDisposedException(nameof(FileEventLog)));
        }

        CloseHandles();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private IOException Faulted(Exception cause) => new(
        $"Partition {_partition} of the event log stopped accepting appends after a write failed; reopen the log to repair it.", cause);

    private void CloseHandles()
    {
        foreach (var segment in _segments)
        {
            segment.Close();
        }
    }

    // ---------------------------------------------------------------- recovery

    private void Recover(List<EventLogRepair> repairs)
    {
        var files = new List<(long First, string Path)>();
        foreach (var path in Directory.EnumerateFiles(_directory, "*" + SegmentExtension))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (!long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var first))
            {
                throw new InvalidDataException($"Partition {_partition}: '{path}' is not a segment name this log writes.");
            }

            files.Add((first, path));
        }

        files.Sort((a, b) => a.First.CompareTo(b.First));
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long expected = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var (first, path) = files[i];
            if (first != expected)
            {
                throw new InvalidDataException(
                    $"Partition {_partition}: segment '{path}' starts at sequence {first}, but the previous segments end at {expected}.");
            }

            var segment = new Segment(first, path, File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read));
            _segments.Add(segment);
            expected = ScanSegment(segment, expected, isLast: i == files.Count - 1, sha, repairs);
        }

        if (_segments.Count == 0)
        {
            _segments.Add(CreateSegment(0));
        }

        _end = expected;
    }

    private long ScanSegment(Segment segment, long expected, bool isLast, IncrementalHash sha, List<EventLogRepair> repairs)
    {
        var length = RandomAccess.GetLength(segment.Handle);
        long pos = 0;
        var header = new byte[EventLogFormat.HeaderSize];
        byte[] frame = [];
        while (pos < length)
        {
            if (TryReadFrame(segment.Handle, pos, length, header, ref frame, sha, out var frameRef, out var reason))
            {
                if (frameRef.FirstSequence != expected)
                {
                    throw new InvalidDataException(
                        $"Partition {_partition}: segment '{segment.Path}' at byte {pos} holds a valid frame starting at sequence {frameRef.FirstSequence}, expected {expected}.");
                }

                segment.Frames.Add(frameRef);
                expected += frameRef.Count;
                pos += frameRef.Length;
                continue;
            }

            // Invalid bytes at pos: a torn tail when nothing valid follows in the last segment; corruption otherwise.
            if (!isLast || ValidFrameFollows(segment.Handle, pos + 1, length, sha))
            {
                throw new InvalidDataException(
                    $"Partition {_partition}: segment '{segment.Path}' is corrupt at byte {pos} ({reason}) and {length - pos} bytes follow, " +
                    "including complete frames or later segments; refusing to drop accepted data.");
            }

            RandomAccess.SetLength(segment.Handle, pos);
            RandomAccess.FlushToDisk(segment.Handle);
            repairs.Add(new EventLogRepair(_partition, segment.Path, pos, length - pos));
            break;
        }

        segment.Length = pos;
        return expected;
    }

    private static bool TryReadFrame(
        SafeFileHandle handle, long pos, long length, byte[] header, ref byte[] frame, IncrementalHash sha, out FrameRef frameRef, out string reason)
    {
        frameRef = default;
        var available = length - pos;
        if (available < EventLogFormat.HeaderSize)
        {
            reason = $"only {available} bytes left, less than a frame header";
            return false;
        }

        ReadExactly(handle, header, pos);
        if (!EventLogFormat.TryReadHeader(header, out var payloadLength, out var count, out var firstSequence, out reason))
        {
            return false;
        }

        var frameLength = EventLogFormat.HeaderSize + payloadLength;
        if (frameLength > available)
        {
            reason = $"the frame declares {payloadLength} payload bytes but the file ends {available - EventLogFormat.HeaderSize} bytes later";
            return false;
        }

        if (frame.Length < frameLength)
        {
            frame = new byte[Math.Max(frameLength, frame.Length * 2)];
        }

        var span = frame.AsSpan(0, frameLength);
        ReadExactly(handle, span, pos);
        if (!EventLogFormat.ChecksumMatches(span, sha))
        {
            reason = "checksum mismatch";
            return false;
        }

        if (!EventLogFormat.RecordsFit(span[EventLogFormat.HeaderSize..], count))
        {
            reason = "records do not fill the frame";
            return false;
        }

        frameRef = new FrameRef(firstSequence, count, pos, frameLength);
        return true;
    }

    private static bool ValidFrameFollows(SafeFileHandle handle, long from, long length, IncrementalHash sha)
    {
        if (length - from < EventLogFormat.HeaderSize)
        {
            return false;
        }

        var rest = new byte[length - from];
        ReadExactly(handle, rest, from);
        Span<byte> magic = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(magic, EventLogFormat.FrameMagic);
        var offset = 0;
        while (true)
        {
            var hit = rest.AsSpan(offset).IndexOf(magic);
            if (hit < 0)
            {
                return false;
            }

            var at = offset + hit;
            var candidate = rest.AsSpan(at);
            if (candidate.Length >= EventLogFormat.HeaderSize
                && EventLogFormat.TryReadHeader(candidate, out var payloadLength, out var count, out _, out _)
                && EventLogFormat.HeaderSize + (long)payloadLength <= candidate.Length)
            {
                var frame = candidate[..(EventLogFormat.HeaderSize + payloadLength)];
                if (EventLogFormat.ChecksumMatches(frame, sha) && EventLogFormat.RecordsFit(frame[EventLogFormat.HeaderSize..], count))
                {
                    return true;
                }
            }

            offset = at + 1;
        }
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long position)
    {
        while (buffer.Length > 0)
        {
            var read = RandomAccess.Read(handle, buffer, position);
            if (read == 0)
            {
                throw new EndOfStreamException($"Unexpected end of file at byte {position}.");
            }

            buffer = buffer[read..];
            position += read;
        }
    }

    private Segment CreateSegment(long firstSequence)
    {
        var path = Path.Combine(_directory, firstSequence.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension);
        return new Segment(firstSequence, path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read));
    }

    // ---------------------------------------------------------------- writing

    private async Task RunWriterAsync()
    {
        var reader = _queue.Reader;
        var group = new List<AppendRequest>();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            group.Clear();
            long bytes = 0;
            while (bytes < _options.MaxGroupCommitBytes && reader.TryRead(out var request))
            {
                if (request.CancellationToken.IsCancellationRequested)
                {
                    request.Completion.TrySetCanceled(request.CancellationToken);
                    continue;
                }

                group.Add(request);
                bytes += request.Bytes;
            }

            if (group.Count == 0)
            {
                continue;
            }

            if (_fault is { } fault)
            {
                foreach (var request in group)
                {
                    request.Completion.TrySetException(Faulted(fault));
                }

                continue;
            }

            try
            {
                WriteGroup(group, (int)bytes, sha);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                Volatile.Write(ref _fault, e);
                foreach (var request in group)
                {
                    request.Completion.TrySetException(Faulted(e));
                }
            }
        }
    }

    private void WriteGroup(List<AppendRequest> group, int payloadLength, IncrementalHash sha)
    {
        var firstSequence = _end;
        var count = 0;
        foreach (var request in group)
        {
            count += request.Bodies.Count;
        }

        var frameLength = EventLogFormat.HeaderSize + payloadLength;
        var frame = GC.AllocateUninitializedArray<byte>(frameLength);
        EventLogFormat.WriteHeader(frame, payloadLength, count, firstSequence);
        var enqueued = _options.Time.GetUtcNow().UtcTicks;
        var pos = EventLogFormat.HeaderSize;
        foreach (var request in group)
        {
            foreach (var body in request.Bodies)
            {
                BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(pos), body.Length);
                BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(pos + 4), enqueued);
                body.Span.CopyTo(frame.AsSpan(pos + EventLogFormat.RecordHeaderSize));
                pos += EventLogFormat.RecordHeaderSize + body.Length;
            }
        }

        EventLogFormat.Seal(frame, sha);

        var segment = _segments[^1];
        if (segment.Length > 0 && segment.Length + frameLength > _options.SegmentMaxBytes)
        {
            var next = CreateSegment(firstSequence);
            lock (_gate)
            {
                _segments.Add(next);
            }

            segment = next;
        }

        var position = segment.Length;
        RandomAccess.Write(segment.Handle, frame, position);
        if (_options.FlushToDisk)
        {
            RandomAccess.FlushToDisk(segment.Handle);
        }

        TaskCompletionSource signal;
        lock (_gate)
        {
            segment.Frames.Add(new FrameRef(firstSequence, count, position, frameLength));
            segment.Length = position + frameLength;
            var sequence = firstSequence;
            var enqueuedTime = new DateTimeOffset(enqueued, TimeSpan.Zero);
            if (_cache.Enabled)
            {
                pos = EventLogFormat.HeaderSize;
                foreach (var request in group)
                {
                    foreach (var body in request.Bodies)
                    {
                        _cache.Add(new LoggedEvent(_partition, sequence++,
                            enqueuedTime, frame.AsMemory(pos + EventLogFormat.RecordHeaderSize, body.Length)));
                        pos += EventLogFormat.RecordHeaderSize + body.Length;
                    }
                }
            }

            Volatile.Write(ref _end, firstSequence + count);
            signal = _signal;
            _signal = NewSignal();
        }

        signal.TrySetResult();
        var first = firstSequence;
        foreach (var request in group)
        {
            request.Completion.TrySetResult(first);
            first += request.Bodies.Count;
        }
    }

    // ---------------------------------------------------------------- reading

    /// <summary>Which bytes of which segment hold the events from <paramref name="from"/> on. Called under the gate.</summary>
    private ChunkPlan PlanChunk(long from, int wanted)
    {
        var s = _segments.Count - 1;
        while (s > 0 && _segments[s].FirstSequence > from)
        {
            s--;
        }

        var segment = _segments[s];
        var frames = segment.Frames;
        int lo = 0, hi = frames.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (frames[mid].FirstSequence <= from)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        var start = frames[lo];
        var endPosition = start.Position + start.Length;
        var covered = start.FirstSequence + start.Count - from;
        for (var f = lo + 1; f < frames.Count && covered < wanted && endPosition - start.Position < MaxReadChunkBytes; f++)
        {
            endPosition += frames[f].Length;
            covered += frames[f].Count;
        }

        return new ChunkPlan(segment, start.Position, (int)(endPosition - start.Position));
    }

    private void ReadChunk(ChunkPlan plan, long from, int wanted, List<LoggedEvent> result)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(plan.Length);
        ReadExactly(plan.Segment.Handle, buffer, plan.Position);
        var pos = 0;
        while (pos < buffer.Length && wanted > 0)
        {
            var header = buffer.AsSpan(pos);
            if (!EventLogFormat.TryReadHeader(header, out var payloadLength, out var count, out var sequence, out var reason))
            {
                throw new InvalidDataException(
                    $"Partition {_partition}: segment '{plan.Segment.Path}' at byte {plan.Position + pos}: {reason}.");
            }

            var record = pos + EventLogFormat.HeaderSize;
            for (var i = 0; i < count && wanted > 0; i++, sequence++)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(record));
                if (sequence >= from)
                {
                    var ticks = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(record + 4));
                    result.Add(new LoggedEvent(_partition, sequence, new DateTimeOffset(ticks, TimeSpan.Zero),
                        buffer.AsMemory(record + EventLogFormat.RecordHeaderSize, length)));
                    wanted--;
                }

                record += EventLogFormat.RecordHeaderSize + length;
            }

            pos += EventLogFormat.HeaderSize + payloadLength;
        }
    }

    private readonly record struct FrameRef(long FirstSequence, int Count, long Position, int Length);

    private readonly record struct ChunkPlan(Segment Segment, long Position, int Length);

    private sealed class AppendRequest(IReadOnlyList<ReadOnlyMemory<byte>> bodies, int bytes, CancellationToken cancellationToken)
    {
        public IReadOnlyList<ReadOnlyMemory<byte>> Bodies { get; } = bodies;

        public int Bytes { get; } = bytes;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A segment file: the handle the writer uses (kept for reads too), its frames and committed length.</summary>
    private sealed class Segment(long firstSequence, string path, SafeFileHandle handle)
    {
        private readonly SafeFileHandle _handle = handle;

        public long FirstSequence { get; } = firstSequence;

        public string Path { get; } = path;

        public List<FrameRef> Frames { get; } = [];

        public long Length { get; set; }

        public SafeFileHandle Handle => _handle;

        public void Close() => _handle.Dispose();
    }

    /// <summary>The most recent events of the partition, consecutive by sequence number, bounded by count and bytes.</summary>
    private sealed class RecentCache(int maxEvents, long maxBytes)
    {
        private readonly LoggedEvent[] _ring = new LoggedEvent[Math.Max(maxEvents, 1)];
        private long _first;
        private int _head;
        private int _count;
        private long _bytes;

        public bool Enabled { get; } = maxEvents > 0 && maxBytes > 0;

        public void Add(LoggedEvent e)
        {
            if (_count == 0)
            {
                _first = e.SequenceNumber;
                _head = 0;
            }

            if (_count == _ring.Length)
            {
                EvictOldest();
            }

            _ring[(_head + _count) % _ring.Length] = e;
            _count++;
            _bytes += e.Body.Length;
            while (_bytes > maxBytes && _count > 0)
            {
                EvictOldest();
            }
        }

        /// <summary>Copies events from <paramref name="from"/> when the cache holds it; false otherwise.</summary>
        public bool TryCopy(long from, int max, List<LoggedEvent> destination)
        {
            if (_count == 0 || from < _first || from >= _first + _count)
            {
                return false;
            }

            var offset = (int)(from - _first);
            var n = Math.Min(max, _count - offset);
            for (var i = 0; i < n; i++)
            {
                destination.Add(_ring[(_head + offset + i) % _ring.Length]);
            }

            return true;
        }

        private void EvictOldest()
        {
            _bytes -= _ring[_head].Body.Length;
            _ring[_head] = null!;
            _head = (_head + 1) % _ring.Length;
            _first++;
            _count--;
        }
    }
}
