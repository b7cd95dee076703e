using Btmc.Supply.Storage;
namespace Btmc.Supply.Sealing;

/// <summary>
/// A Bloom filter over the event keys of every sealed event, so that capture can tell a new event from a sealed one
/// without a table read: "no" is certain, "maybe" (any sealed event, and about 1% of new ones) is checked against the
/// event index. It grows by adding filters of doubling capacity (a scalable Bloom filter), about 1.2 bytes per event.
/// The sealer adds an event after writing its index row and before dropping its pending registration; the backend
/// fills it from the event index at start.
/// </summary>
public sealed class SealedEventFilter
{
    private const int HashesPerKey = 7;
    private const int BitsPerKey = 10;
    private readonly Lock _growth = new();
    private volatile Filter[] _filters;
    private long _count;

    public SealedEventFilter(int initialCapacity = 1 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initialCapacity, 1024);
        _filters = [new Filter(initialCapacity)];
    }

    /// <summary>How many keys were added (a key added twice counts twice); it drives the growth.</summary>
    public long Count => Interlocked.Read(ref _count);

    public void Add(in EventKey key)
    {
        var filters = _filters;
        var newest = filters[^1];
        if (Interlocked.Increment(ref _count) > newest.CapacityEnd)
        {
            lock (_growth)
            {
                filters = _filters;
                newest = filters[^1];
                if (Interlocked.Read(ref _count) > newest.CapacityEnd)
                {
                    newest = new Filter(newest.Capacity * 2, newest.CapacityEnd);
                    _filters = [.. filters, newest];
                }
            }
        }

        newest.Add(key.Hash1, key.Hash2);
    }

    public bool MightContain(in EventKey key)
    {
        foreach (var filter in _filters)
        {
            if (filter.MightContain(key.Hash1, key.Hash2))
            {
                return true;
            }
        }

        return false;
    }

    private sealed class Filter(long capacity, long capacityBefore = 0)
    {
        private readonly long[] _words = new long[((capacity * BitsPerKey) + 63) / 64];

        public long Capacity { get; } = capacity;

        /// <summary>The total count at which this filter is full.</summary>
        public long CapacityEnd { get; } = capacityBefore + capacity;

        private ulong Bits => (ulong)_words.Length * 64;

        public void Add(ulong h1, ulong h2)
        {
            for (ulong i = 0; i < HashesPerKey; i++)
            {
                var bit = (h1 + (i * h2)) % Bits;
                Interlocked.Or(ref _words[bit >> 6], 1L << (int)(bit & 63));
            }
        }

        public bool MightContain(ulong h1, ulong h2)
        {
            for (ulong i = 0; i < HashesPerKey; i++)
            {
                var bit = (h1 + (i * h2)) % Bits;
                if ((Volatile.Read(ref _words[bit >> 6]) & (1L << (int)(bit & 63))) == 0)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
