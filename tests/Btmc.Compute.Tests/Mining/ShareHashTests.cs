using Btmc.Compute.Mining;
using Xunit;

namespace Btmc.Compute.Tests.Mining;

public sealed class ShareHashTests
{
    // Vectors computed independently with Python's hashlib: header = bytes 0..77, hash = sha256(sha256(header + nonce.to_bytes(8, "big"))),
    // and for each difficulty the first nonce from 0 whose hash has that many leading zero bits.
    private static readonly byte[] Header = Enumerable.Range(0, 78).Select(i => (byte)i).ToArray();

    [Fact]
    public void Compute_PinnedNonce_MatchesTheReference()
    {
        var hash = new byte[32];

        ShareHash.Compute(Header, 0x0102030405060708, hash);

        Assert.Equal("2e5da5cc598fc8a30c3f70811e8a75483de0e22da676752e68f0c873e04cd580", Convert.ToHexStringLower(hash));
    }

    [Theory]
    [InlineData(8, 45UL, "00bdd2bdde099d625d563993c1f633313a43f40ee90174c4ffd0c6022c3b35bf", 8)]
    [InlineData(12, 1974UL, "000db4a9c1f7540887fa4877a2e082172dffcffca9c4b677b61d902342fe65fc", 12)]
    [InlineData(16, 42443UL, "0000258b69066433dff038578f7e418f3408a8b5e4f8a69da98cfe6fb4abc028", 18)]
    public void Meets_FirstNonceReachingTheDifficulty_IsValidAndEveryEarlierOneIsNot(int bits, ulong nonce, string expectedHash, int zeroBits)
    {
        var hash = new byte[32];
        ShareHash.Compute(Header, nonce, hash);

        Assert.Equal(expectedHash, Convert.ToHexStringLower(hash));
        Assert.Equal(zeroBits, ShareHash.LeadingZeroBits(hash));
        Assert.True(ShareHash.Meets(Header, nonce, bits));
        Assert.False(ShareHash.Meets(Header, nonce, zeroBits + 1));
        for (var earlier = 0UL; earlier < nonce; earlier++)
        {
            Assert.False(ShareHash.Meets(Header, earlier, bits));
        }
    }

    [Fact]
    public void LeadingZeroBits_AllZero_Is256()
    {
        Assert.Equal(256, ShareHash.LeadingZeroBits(new byte[32]));
        Assert.Equal(0, ShareHash.LeadingZeroBits([0x80, .. new byte[31]]));
        Assert.Equal(71, ShareHash.LeadingZeroBits([0, 0, 0, 0, 0, 0, 0, 0, 1, .. new byte[23]]));
    }
}
