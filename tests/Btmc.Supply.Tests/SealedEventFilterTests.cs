using Btmc.Supply.Sealing;
using Btmc.Supply.Storage;
using Xunit;

namespace Btmc.Supply.Tests;

public sealed class SealedEventFilterTests
{
    [Fact]
    public void MightContain_EveryAddedKeyAcrossGrowth_IsTrue()
    {
        var filter = new SealedEventFilter(initialCapacity: 1024);
        var keys = Enumerable.Range(0, 10_000).Select(i => EventKey.For($"urn:uuid:added-{i}", 4)).ToList();

        foreach (var key in keys)
        {
            filter.Add(key);
        }

        Assert.All(keys, key => Assert.True(filter.MightContain(key)));
        Assert.Equal(10_000, filter.Count);
    }

    [Fact]
    public void MightContain_KeysNeverAdded_FalsePositivesStayNearOnePercentPerFilter()
    {
        var filter = new SealedEventFilter(initialCapacity: 1024);
        for (var i = 0; i < 10_000; i++)
        {
            filter.Add(EventKey.For($"urn:uuid:added-{i}", 4));
        }

        var falsePositives = Enumerable.Range(0, 20_000).Count(i => filter.MightContain(EventKey.For($"urn:uuid:other-{i}", 4)));

        // 10,000 keys spread over filters of 1024, 2048, 4096 and 8192: each answers a false "maybe" about 1% of the time.
        Assert.InRange(falsePositives, 0, 20_000 * 6 / 100);
    }

    [Fact]
    public void Add_ConcurrentWriters_LoseNoKey()
    {
        var filter = new SealedEventFilter(initialCapacity: 1024);
        var keys = Enumerable.Range(0, 40_000).Select(i => EventKey.For($"urn:uuid:concurrent-{i}", 4)).ToArray();

        Parallel.For(0, 4, worker =>
        {
            for (var i = worker; i < keys.Length; i += 4)
            {
                filter.Add(keys[i]);
            }
        });

        Assert.All(keys, key => Assert.True(filter.MightContain(key)));
    }

    [Fact]
    public void EventKeyFromIndexRowKey_SameAsFromTheEventId()
    {
        var key = EventKey.For("ni:///sha-256;abc?ver=CBV2.0", 4);

        Assert.Equal(key, EventKey.FromIndexRowKey(key.IndexRowKey, 4));
        Assert.Throws<FormatException>(() => EventKey.FromIndexRowKey("xyz", 4));
    }
}
