using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Btmc.Platform.EventLog;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Tests.EventLog;

public sealed class FileEventLogTests : IDisposable
{
    private static readonly FileEventLogOptions SmallSegments = new() { SegmentMaxBytes = 8 * 1024 };

    private readonly TempDirectory _directory = new();

    private string LogPath => _directory.Combine("log");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task AppendAsync_SequentialBatches_AssignsConsecutiveSequenceNumbersInOrder()
    {
        await using var log = new FileEventLog(LogPath, 2);
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);

        var first = await log.AppendAsync(1, Bodies("a", "b", "c"));
        var second = await log.AppendAsync(1, Bodies("d"));
        var third = await log.AppendAsync(1, Bodies("e", "f"));

        Assert.Equal([0L, 3L, 4L], [first, second, third]);
        Assert.Equal(6, log.GetEndSequenceNumber(1));
        Assert.Equal(0, log.GetEndSequenceNumber(0));
        var events = await log.ReadAsync(1, 0, 100);
        Assert.Equal(["a", "b", "c", "d", "e", "f"], events.Select(Text));
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), events.Select(e => e.SequenceNumber));
        Assert.All(events, e => Assert.Equal(1, e.Partition));
        Assert.All(events, e => Assert.InRange(e.EnqueuedTime, before, DateTimeOffset.UtcNow.AddSeconds(5)));
    }

    [Fact]
    public async Task LogId_NewLogReopenedAndLogOfOldFormat_DrawnOnceAndKept()
    {
        string first;
        await using (var log = new FileEventLog(LogPath, 1))
        {
            first = log.LogId;
        }

        await using (var reopened = new FileEventLog(LogPath, 1))
        {
            Assert.Equal(first, reopened.LogId);
            Assert.Equal(32, first.Length);
            Assert.Contains(LogPath, reopened.Location, StringComparison.Ordinal);
        }

        await using (var other = new FileEventLog(_directory.Combine("other"), 1))
        {
            Assert.NotEqual(first, other.LogId);
        }

        // A log written before ids gets one on its next open, and keeps it.
        var meta = Path.Combine(LogPath, "eventlog.meta");
        await File.WriteAllTextAsync(meta, "format=btmc-eventlog/1\npartitions=1\n");
        string added;
        await using (var old = new FileEventLog(LogPath, 1))
        {
            added = old.LogId;
        }

        Assert.NotEqual(first, added);
        await using var again = new FileEventLog(LogPath, 1);
        Assert.Equal(added, again.LogId);
    }

    [Fact]
    public async Task ReadAsync_FromMiddleWithLimit_ReturnsThatWindow()
    {
        await using var log = new FileEventLog(LogPath, 1);
        await log.AppendAsync(0, Bodies(Enumerable.Range(0, 10).Select(i => $"e{i}").ToArray()));

        var window = await log.ReadAsync(0, 4, 3);
        var tail = await log.ReadAsync(0, 8, 100);
        var beyond = await log.ReadAsync(0, 10, 5);

        Assert.Equal(["e4", "e5", "e6"], window.Select(Text));
        Assert.Equal(["e8", "e9"], tail.Select(Text));
        Assert.Empty(beyond);
    }

    [Fact]
    public async Task AppendAsync_ConcurrentAppenders_ProduceNoGapsOrDuplicates()
    {
        const int writers = 8, appends = 40, perAppend = 5;
        await using var log = new FileEventLog(LogPath, 1, new FileEventLogOptions { FlushToDisk = false });
        var firsts = new ConcurrentBag<(int Writer, int Append, long First)>();

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var a = 0; a < appends; a++)
            {
                var first = await log.AppendAsync(0, Bodies(Enumerable.Range(0, perAppend).Select(i => $"{w}:{a}:{i}").ToArray()));
                firsts.Add((w, a, first));
            }
        })));

        var events = await ReadAllAsync(log, 0);
        Assert.Equal(writers * appends * perAppend, events.Count);
        Assert.Equal(Enumerable.Range(0, events.Count).Select(i => (long)i), events.Select(e => e.SequenceNumber));
        Assert.Equal(events.Count, events.Select(Text).Distinct().Count());
        foreach (var (writer, append, first) in firsts)
        {
            // Each append's events are contiguous from the sequence number it was given.
            for (var i = 0; i < perAppend; i++)
            {
                Assert.Equal($"{writer}:{append}:{i}", Text(events[(int)first + i]));
            }
        }

        foreach (var group in firsts.GroupBy(f => f.Writer))
        {
            var ordered = group.OrderBy(f => f.Append).Select(f => f.First).ToList();
            Assert.Equal(ordered.Order(), ordered);
        }
    }

    [Fact]
    public async Task Reopen_AfterDispose_KeepsEventsAndContinuesNumbering()
    {
        await using (var log = new FileEventLog(LogPath, 3, SmallSegments))
        {
            for (var i = 0; i < 30; i++)
            {
                await log.AppendAsync(i % 3, Bodies(new string('x', 500) + i));
            }
        }

        await using var reopened = new FileEventLog(LogPath, 3, SmallSegments);

        Assert.Empty(reopened.Repairs);
        Assert.Equal([10L, 10L, 10L], Enumerable.Range(0, 3).Select(reopened.GetEndSequenceNumber));
        Assert.Equal(10, await reopened.AppendAsync(2, Bodies("next")));
        var events = await ReadAllAsync(reopened, 2);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => new string('x', 500) + ((i * 3) + 2)).Append("next"), events.Select(Text));
    }

    [Fact]
    public async Task ReadAsync_AcrossSegmentsWithoutCache_ReadsFromDisk()
    {
        var options = SmallSegments with { RecentCacheMaxEvents = 0 };
        var pad = new string('.', 100);
        await using var log = new FileEventLog(LogPath, 1, options);
        for (var i = 0; i < 100; i++)
        {
            await log.AppendAsync(0, Bodies($"{i}-a{pad}", $"{i}-b{pad}"));
        }

        var segments = Directory.GetFiles(Path.Combine(LogPath, "p0"), "*.seg");
        var events = await log.ReadAsync(0, 0, 1000);

        Assert.True(segments.Length > 2, $"{segments.Length} segments");
        Assert.Equal(200, events.Count);
        Assert.Equal(Enumerable.Range(0, 100).SelectMany(i => new[] { $"{i}-a{pad}", $"{i}-b{pad}" }), events.Select(Text));
        Assert.Equal([$"57-b{pad}", $"58-a{pad}"], (await log.ReadAsync(0, 115, 2)).Select(Text));
    }

    [Fact]
    public async Task ReadAsync_TailFollowerWithSmallCache_SeesEveryEventOnce()
    {
        var options = new FileEventLogOptions { RecentCacheMaxEvents = 16, FlushToDisk = false };
        await using var log = new FileEventLog(LogPath, 1, options);
        var appender = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                await log.AppendAsync(0, Bodies($"{i}a", $"{i}b", $"{i}c"));
            }
        });

        var seen = new List<string>();
        long next = 0;
        while (next < 600)
        {
            await log.WaitForEventAsync(0, next).WaitAsync(TimeSpan.FromSeconds(30));
            var batch = await log.ReadAsync(0, next, 7);
            Assert.NotEmpty(batch);
            Assert.Equal(next, batch[0].SequenceNumber);
            seen.AddRange(batch.Select(Text));
            next += batch.Count;
        }

        await appender;
        Assert.Equal(Enumerable.Range(0, 200).SelectMany(i => new[] { $"{i}a", $"{i}b", $"{i}c" }), seen);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(20)]
    [InlineData(40)]
    public async Task Open_LastSegmentTruncatedMidFrame_CutsTornTailAndKeepsCompleteFrames(int bytesCut)
    {
        await using (var log = new FileEventLog(LogPath, 1))
        {
            await log.AppendAsync(0, Bodies("one", "two"));
            await log.AppendAsync(0, Bodies("three"));
            await log.AppendAsync(0, Bodies("four-is-a-longer-body-than-the-cut"));
        }

        var segment = LastSegment(0);
        var length = new FileInfo(segment).Length;
        using (var stream = new FileStream(segment, FileMode.Open))
        {
            stream.SetLength(length - bytesCut);
        }

        await using var reopened = new FileEventLog(LogPath, 1);

        var repair = Assert.Single(reopened.Repairs);
        Assert.Equal(segment, repair.SegmentPath);
        Assert.Equal(length - bytesCut - repair.Position, repair.DiscardedBytes);
        Assert.Equal(repair.Position, new FileInfo(segment).Length);
        Assert.Equal(3, reopened.GetEndSequenceNumber(0));
        Assert.Equal(3, await reopened.AppendAsync(0, Bodies("after")));
        Assert.Equal(["one", "two", "three", "after"], (await ReadAllAsync(reopened, 0)).Select(Text));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(35)]
    [InlineData(5000)]
    public async Task Open_GarbageAfterLastFrame_CutsItAndContinues(int garbageBytes)
    {
        await using (var log = new FileEventLog(LogPath, 1))
        {
            await log.AppendAsync(0, Bodies("a", "b"));
        }

        var segment = LastSegment(0);
        var length = new FileInfo(segment).Length;
        var garbage = new byte[garbageBytes];
        new Random(7).NextBytes(garbage);
        using (var stream = new FileStream(segment, FileMode.Append))
        {
            stream.Write(garbage);
        }

        await using (var reopened = new FileEventLog(LogPath, 1))
        {
            var repair = Assert.Single(reopened.Repairs);
            Assert.Equal(length, repair.Position);
            Assert.Equal(garbageBytes, repair.DiscardedBytes);
            Assert.Equal(2, await reopened.AppendAsync(0, Bodies("c")));
        }

        await using var clean = new FileEventLog(LogPath, 1);
        Assert.Empty(clean.Repairs);
        Assert.Equal(["a", "b", "c"], (await ReadAllAsync(clean, 0)).Select(Text));
    }

    [Fact]
    public async Task Open_CorruptFrameBeforeTail_ThrowsNamingSegmentAndPosition()
    {
        await using (var log = new FileEventLog(LogPath, 1))
        {
            await log.AppendAsync(0, Bodies("first-frame"));
            await log.AppendAsync(0, Bodies("second-frame"));
        }

        var segment = LastSegment(0);
        FlipByte(segment, 36 + 12 + 2); // inside the first frame's first body

        var e = Assert.Throws<InvalidDataException>(() => new FileEventLog(LogPath, 1));

        Assert.Contains(segment, e.Message, StringComparison.Ordinal);
        Assert.Contains("at byte 0", e.Message, StringComparison.Ordinal);
        Assert.True(new FileInfo(segment).Length > 100, "the damaged segment must not be truncated");
    }

    [Fact]
    public async Task Open_CorruptionInEarlierSegment_Throws()
    {
        await using (var log = new FileEventLog(LogPath, 1, SmallSegments))
        {
            for (var i = 0; i < 40; i++)
            {
                await log.AppendAsync(0, Bodies(new string('y', 700)));
            }
        }

        var segments = Directory.GetFiles(Path.Combine(LogPath, "p0"), "*.seg").Order(StringComparer.Ordinal).ToArray();
        Assert.True(segments.Length > 2);
        using (var stream = new FileStream(segments[0], FileMode.Open))
        {
            stream.SetLength(stream.Length - 10);
        }

        var e = Assert.Throws<InvalidDataException>(() => new FileEventLog(LogPath, 1, SmallSegments));

        Assert.Contains(segments[0], e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_MissingMiddleSegment_Throws()
    {
        await using (var log = new FileEventLog(LogPath, 1, SmallSegments))
        {
            for (var i = 0; i < 40; i++)
            {
                await log.AppendAsync(0, Bodies(new string('y', 700)));
            }
        }

        var segments = Directory.GetFiles(Path.Combine(LogPath, "p0"), "*.seg").Order(StringComparer.Ordinal).ToArray();
        File.Delete(segments[1]);

        Assert.Throws<InvalidDataException>(() => new FileEventLog(LogPath, 1, SmallSegments));
    }

    [Fact]
    public async Task Open_DifferentPartitionCount_ThrowsInvalidOperation()
    {
        await using (var log = new FileEventLog(LogPath, 4))
        {
            await log.AppendAsync(3, Bodies("x"));
        }

        var e = Assert.Throws<InvalidOperationException>(() => new FileEventLog(LogPath, 2));

        Assert.Contains("4 partitions", e.Message, StringComparison.Ordinal);
        await using var same = new FileEventLog(LogPath, 4);
        Assert.Equal(1, same.GetEndSequenceNumber(3));
    }

    [Fact]
    public async Task Open_DirectoryAlreadyOpen_ThrowsIOException()
    {
        await using var log = new FileEventLog(LogPath, 1);

        Assert.ThrowsAny<IOException>(() => new FileEventLog(LogPath, 1));
        Assert.Equal(0, await log.AppendAsync(0, Bodies("still usable")));
    }

    [Fact]
    public async Task SetCheckpointAsync_ThenReopen_KeepsCheckpointPerGroupAndPartition()
    {
        await using (var log = new FileEventLog(LogPath, 2))
        {
            Assert.Equal(0, await log.GetCheckpointAsync("$Default", 0));
            await log.SetCheckpointAsync("$Default", 0, 5);
            await log.SetCheckpointAsync("$Default", 0, 17);
            await log.SetCheckpointAsync("$Default", 1, 3);
            await log.SetCheckpointAsync("audit/ü", 0, 99);
        }

        await using var reopened = new FileEventLog(LogPath, 2);

        Assert.Equal(17, await reopened.GetCheckpointAsync("$Default", 0));
        Assert.Equal(3, await reopened.GetCheckpointAsync("$Default", 1));
        Assert.Equal(99, await reopened.GetCheckpointAsync("audit/ü", 0));
        Assert.Equal(0, await reopened.GetCheckpointAsync("audit/ü", 1));
        Assert.Equal(0, await reopened.GetCheckpointAsync("other", 0));
        Assert.Empty(Directory.GetFiles(Path.Combine(LogPath, "checkpoints"), "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task GetCheckpointAsync_DamagedFile_ThrowsInvalidData()
    {
        await using var log = new FileEventLog(LogPath, 1);
        await log.SetCheckpointAsync("g", 0, 12);
        var file = Assert.Single(Directory.GetFiles(Path.Combine(LogPath, "checkpoints"), "*.ckpt", SearchOption.AllDirectories));
        FlipByte(file, 9);

        await Assert.ThrowsAsync<InvalidDataException>(() => log.GetCheckpointAsync("g", 0));
    }

    [Fact]
    public async Task WaitForEventAsync_EventAppendedLater_Completes()
    {
        await using var log = new FileEventLog(LogPath, 1);
        await log.AppendAsync(0, Bodies("zero"));

        var existing = log.WaitForEventAsync(0, 0);
        var waiting = log.WaitForEventAsync(0, 2);
        Assert.True(existing.IsCompletedSuccessfully);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);

        await log.AppendAsync(0, Bodies("one"));
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        await log.AppendAsync(0, Bodies("two"));

        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("two", Text((await log.ReadAsync(0, 2, 1))[0]));
    }

    [Fact]
    public async Task WaitForEventAsync_Cancelled_ThrowsOperationCanceled()
    {
        await using var log = new FileEventLog(LogPath, 1);
        using var cts = new CancellationTokenSource();

        var waiting = log.WaitForEventAsync(0, 0, cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, log.GetEndSequenceNumber(0));
    }

    [Fact]
    public async Task AppendAsync_AfterDispose_ThrowsObjectDisposed()
    {
        var log = new FileEventLog(LogPath, 1);
        await log.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => log.AppendAsync(0, Bodies("late")));
    }

    [Fact]
    public async Task AppendAsync_InvalidArguments_Throw()
    {
        await using var log = new FileEventLog(LogPath, 2);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.AppendAsync(2, Bodies("x")));
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(0, []));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.ReadAsync(0, -1, 1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.ReadAsync(0, 0, 0));
    }

    [Fact]
    public async Task CrashImage_CopiedWhileAppending_HoldsEveryAcknowledgedEventInOrder()
    {
        var options = new FileEventLogOptions { SegmentMaxBytes = 64 * 1024 };
        var acknowledged = new ConcurrentDictionary<int, long>(); // partition -> highest acknowledged end
        using var stop = new CancellationTokenSource();
        var image = _directory.Combine("crash-image");
        Dictionary<int, long> acknowledgedBeforeCopy;

        await using (var log = new FileEventLog(LogPath, 2, options))
        {
            var appenders = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                var partition = w % 2;
                var n = 0;
                while (!stop.IsCancellationRequested)
                {
                    var bodies = Enumerable.Range(0, 10).Select(i => Body(partition, w, n, i)).ToArray();
                    var first = await log.AppendAsync(partition, bodies);
                    acknowledged.AddOrUpdate(partition, first + 10, (_, old) => Math.Max(old, first + 10));
                    n++;
                }
            })).ToArray();

            while (acknowledged.Values.Sum() < 2000)
            {
                await Task.Delay(5);
            }

            acknowledgedBeforeCopy = acknowledged.ToDictionary(kv => kv.Key, kv => kv.Value);
            CopyDirectory(LogPath, image); // the appenders keep writing while the files are copied
            await stop.CancelAsync();
            await Task.WhenAll(appenders);
        }

        await using var recovered = new FileEventLog(image, 2, options);
        foreach (var (partition, end) in acknowledgedBeforeCopy)
        {
            Assert.True(recovered.GetEndSequenceNumber(partition) >= end,
                $"partition {partition}: {recovered.GetEndSequenceNumber(partition)} events recovered, {end} were acknowledged");
            var events = await ReadAllAsync(recovered, partition);
            Assert.Equal(Enumerable.Range(0, events.Count).Select(i => (long)i), events.Select(e => e.SequenceNumber));
            var lastIndex = new Dictionary<int, (int N, int I)>();
            foreach (var e in events)
            {
                // Every body decodes, belongs to the partition, and each writer's events appear in its order.
                var (p, w, n, i) = Decode(e.Body.Span);
                Assert.Equal(partition, p);
                var (lastN, lastI) = lastIndex.TryGetValue(w, out var last) ? last : (-1, 9);
                Assert.True((n == lastN && i == lastI + 1) || (n == lastN + 1 && i == 0 && lastI == 9),
                    $"writer {w}: {n}/{i} after {lastN}/{lastI}");

                lastIndex[w] = (n, i);
            }
        }

        // The image is a usable log: it accepts appends after recovery.
        Assert.Equal(recovered.GetEndSequenceNumber(0), await recovered.AppendAsync(0, Bodies("after-crash")));
    }

    private static ReadOnlyMemory<byte> Body(int partition, int writer, int n, int i)
    {
        var body = new byte[16 + 200];
        BinaryPrimitives.WriteInt32LittleEndian(body, partition);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(4), writer);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(8), n);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(12), i);
        body.AsSpan(16).Fill((byte)(n + i));
        return body;
    }

    private static (int Partition, int Writer, int N, int I) Decode(ReadOnlySpan<byte> body)
    {
        Assert.Equal(216, body.Length);
        var n = BinaryPrimitives.ReadInt32LittleEndian(body[8..]);
        var i = BinaryPrimitives.ReadInt32LittleEndian(body[12..]);
        Assert.True(body[16..].IndexOfAnyExcept((byte)(n + i)) < 0);
        return (BinaryPrimitives.ReadInt32LittleEndian(body), BinaryPrimitives.ReadInt32LittleEndian(body[4..]), n, i);
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source))
        {
            if (file.EndsWith(".lock", StringComparison.Ordinal))
            {
                continue; // held exclusively by the running log, and not part of its data
            }

            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(source))
        {
            CopyDirectory(directory, Path.Combine(destination, Path.GetFileName(directory)));
        }
    }

    private string LastSegment(int partition) =>
        Directory.GetFiles(Path.Combine(LogPath, $"p{partition}"), "*.seg").Order(StringComparer.Ordinal).Last();

    private static void FlipByte(string path, long position)
    {
        using var stream = new FileStream(path, FileMode.Open);
        stream.Position = position;
        var b = stream.ReadByte();
        stream.Position = position;
        stream.WriteByte((byte)(b ^ 0xFF));
    }

    private static async Task<List<LoggedEvent>> ReadAllAsync(FileEventLog log, int partition)
    {
        var all = new List<LoggedEvent>();
        while (true)
        {
            var batch = await log.ReadAsync(partition, all.Count, 500);
            if (batch.Count == 0)
            {
                return all;
            }

            all.AddRange(batch);
        }
    }

    private static ReadOnlyMemory<byte>[] Bodies(params string[] texts) =>
        texts.Select(t => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(t)).ToArray();

    private static string Text(LoggedEvent e) => Encoding.UTF8.GetString(e.Body.Span);
}
