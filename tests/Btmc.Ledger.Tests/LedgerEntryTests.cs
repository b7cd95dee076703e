using System.Security.Cryptography;
using Xunit;

namespace Btmc.Ledger.Tests;

public sealed class LedgerEntryTests
{
    // Golden entry: EventId "evt-1", EventHash = 32 bytes of 0x33, Partner "fab-01".
    // Leaf = 02 | 33 x 32 | 0005 | "evt-1" | 0006 | "fab-01"; leaf hash = SHA-256(00 || leaf), computed independently
    // with Python hashlib.
    private const string GoldenLeafHex = "02" + "3333333333333333333333333333333333333333333333333333333333333333" + "0005" + "6576742d31" + "0006" + "6661622d3031";
    private const string GoldenLeafHashHex = "d97ccc865bdcf311e5e73c045ae6236042039ac3c99375dbb22eaddcf7075f44";

    private static readonly Hash32 s_eventHash = new(Enumerable.Repeat((byte)0x33, Hash32.Size).ToArray());

    [Fact]
    public void EncodeLeaf_GoldenEntry_MatchesPinnedBytes()
    {
        var entry = new LedgerEntry("evt-1", s_eventHash, "fab-01");

        Assert.Equal(GoldenLeafHex, Convert.ToHexStringLower(entry.EncodeLeaf()));
    }

    [Fact]
    public void ComputeLeafHash_GoldenEntry_MatchesPinnedHash()
    {
        var entry = new LedgerEntry("evt-1", s_eventHash, "fab-01");

        Assert.Equal(GoldenLeafHashHex, entry.ComputeLeafHash().ToHex());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(1024)]
    [InlineData(1025)]
    [InlineData(5000)]
    [InlineData(65535)]
    public void ComputeLeafHash_AnyIdLength_EqualsHashLeafOfEncodeLeaf(int idLength)
    {
        var entry = new LedgerEntry(new string('e', idLength), Hash32.Compute("event"u8), "p");

        var encoded = entry.EncodeLeaf();

        Assert.Equal(LedgerEntry.FixedLeafBytes + idLength + 1, encoded.Length);
        Assert.Equal(MerkleTree.HashLeaf(encoded), entry.ComputeLeafHash());
        Assert.Equal(SHA256.HashData([MerkleTree.LeafPrefix, .. encoded]), entry.ComputeLeafHash().ToArray());
    }

    [Fact]
    public void EncodeLeaf_NonAsciiId_LengthIsUtf8ByteCount()
    {
        var entry = new LedgerEntry("é€😀", Hash32.Zero, "ü");

        var encoded = entry.EncodeLeaf();

        Assert.Equal(0, encoded[33]);
        Assert.Equal(9, encoded[34]);
        Assert.Equal("é€😀"u8.ToArray(), encoded[35..44]);
        Assert.Equal(0, encoded[44]);
        Assert.Equal(2, encoded[45]);
        Assert.Equal("ü"u8.ToArray(), encoded[46..]);
    }

    [Fact]
    public void ComputeLeafHash_DifferentEventHash_DiffersFromOriginal()
    {
        var a = new LedgerEntry("evt-1", Hash32.Compute("a"u8), "fab-01");
        var b = a with { EventHash = Hash32.Compute("b"u8) };

        Assert.NotEqual(a.ComputeLeafHash(), b.ComputeLeafHash());
    }

    [Fact]
    public void ComputeLeafHash_DifferentPartner_DiffersFromOriginal()
    {
        var a = new LedgerEntry("evt-1", Hash32.Compute("a"u8), "fab-01");
        var b = a with { Partner = "fab-02" };

        Assert.NotEqual(a.ComputeLeafHash(), b.ComputeLeafHash());
    }

    [Fact]
    public void ComputeLeafHash_BoundaryMovedBetweenIdAndPartner_Differs()
    {
        var a = new LedgerEntry("evt-1x", Hash32.Zero, "y");
        var b = new LedgerEntry("evt-1", Hash32.Zero, "xy");

        Assert.NotEqual(a.ComputeLeafHash(), b.ComputeLeafHash());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("lone-surrogate")]
    public void EncodeLeaf_MissingOrInvalidId_ThrowsArgumentException(string? eventId)
    {
        // Test-case strings are serialized by the runner, which would repair a lone surrogate; build it here.
        var entry = new LedgerEntry(eventId == "lone-surrogate" ? "evt-\ud800" : eventId!, Hash32.Zero, "p");

        var ex = Assert.ThrowsAny<ArgumentException>(entry.EncodeLeaf);
        Assert.Equal("EventId", ex.ParamName);
        Assert.ThrowsAny<ArgumentException>(() => entry.ComputeLeafHash());
    }

    [Fact]
    public void EncodeLeaf_IdLongerThan65535Bytes_ThrowsArgumentException()
    {
        var entry = new LedgerEntry(new string('x', 65536), Hash32.Zero, "p");

        var ex = Assert.Throws<ArgumentException>(entry.EncodeLeaf);
        Assert.Equal("EventId", ex.ParamName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lone-surrogate")]
    public void EncodeLeaf_MissingOrInvalidPartner_ThrowsArgumentException(string partner)
    {
        var entry = new LedgerEntry("evt-1", Hash32.Zero, partner == "lone-surrogate" ? "p-\ud800" : partner);

        var ex = Assert.ThrowsAny<ArgumentException>(entry.EncodeLeaf);
        Assert.Equal("Partner", ex.ParamName);
    }
}
