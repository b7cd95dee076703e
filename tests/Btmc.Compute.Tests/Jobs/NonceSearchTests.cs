using Btmc.Compute.Jobs;
using Btmc.Compute.Mining;
using Xunit;

namespace Btmc.Compute.Tests.Jobs;

public sealed class NonceSearchTests
{
    private static readonly byte[] Header = [.. Enumerable.Range(0, 78).Select(i => (byte)i)];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(64)]
    public void Search_AnyThreadCount_ExactlyTheNoncesShareHashAccepts(int threads)
    {
        var expected = Enumerable.Range(0, 4000).Select(i => (ulong)i).Where(n => ShareHash.Meets(Header, n, 8)).ToList();

        var found = NonceSearch.Search(Header, 8, 0, 4000, threads);

        Assert.NotEmpty(expected);
        Assert.Equal(expected, found);
    }

    [Fact]
    public void Search_PinnedVector_FindsTheFirstTwelveBitNonce()
    {
        // ShareHashTests: 1974 is the first nonce from 0 with 12 leading zero bits over this header.
        Assert.Equal(1974UL, NonceSearch.Search(Header, 12, 0, 1975, 3).Single());
    }

    [Fact]
    public void Search_RangeEndingAtTheLargestNonce_SearchesItWithoutOverflow()
    {
        var start = ulong.MaxValue - 99;
        var expected = Enumerable.Range(0, 100).Select(i => start + (ulong)i).Where(n => ShareHash.Meets(Header, n, 3)).ToList();

        Assert.Equal(expected, NonceSearch.Search(Header, 3, start, 100, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => NonceSearch.Search(Header, 3, start, 101, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => NonceSearch.Search(Header, 0, 0, 10, 1));
        Assert.Throws<ArgumentException>(() => NonceSearch.Search(new byte[ShareHash.MaxHeaderSize + 1], 3, 0, 10, 1));
    }
}
