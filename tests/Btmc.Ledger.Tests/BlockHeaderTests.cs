using System.Buffers.Binary;
using System.Security.Cryptography;
using Xunit;

namespace Btmc.Ledger.Tests;

public sealed class BlockHeaderTests
{
    // Golden header (also in docs/ledger-format.md):
    //   Version 1, ChainId "btmc-test", Height 42, PreviousHash 32 x 0x11, MerkleRoot 32 x 0x22, LeafCount 3,
    //   SlotTime 2025-01-02T03:04:05.678Z (= 1735787045678 ms = 0x0000019424f8632e), ProducerId "producer-1", KeyId "key-1".
    // Expected bytes and hash were produced independently with Python (struct.pack + hashlib.sha256).
    private const string GoldenEncodingHex =
        "42544d43" // "BTMC"
        + "0001" // version
        + "0009" + "62746d632d74657374" // "btmc-test"
        + "000000000000002a" // height 42
        + "1111111111111111111111111111111111111111111111111111111111111111" // previous hash
        + "2222222222222222222222222222222222222222222222222222222222222222" // merkle root
        + "0000000000000003" // leaf count
        + "0000019424f8632e" // slot time, Unix ms
        + "000a" + "70726f64756365722d31" // "producer-1"
        + "0005" + "6b65792d31"; // "key-1"

    private const string GoldenHashHex = "4344174d090df309080e8c4b49e1c923e12b7e31238fb534a1792e2f6a2706c5";

    private static BlockHeader Golden() => new(
        Version: 1,
        ChainId: "btmc-test",
        Height: 42,
        PreviousHash: new Hash32(Enumerable.Repeat((byte)0x11, 32).ToArray()),
        MerkleRoot: new Hash32(Enumerable.Repeat((byte)0x22, 32).ToArray()),
        LeafCount: 3,
        SlotTime: new DateTimeOffset(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero),
        ProducerId: "producer-1",
        KeyId: "key-1");

    [Fact]
    public void Encode_GoldenHeader_MatchesPinnedBytes()
    {
        Assert.Equal(GoldenEncodingHex, Convert.ToHexStringLower(Golden().Encode()));
    }

    [Fact]
    public void ComputeHash_GoldenHeader_MatchesPinnedHash()
    {
        Assert.Equal(GoldenHashHex, Golden().ComputeHash().ToHex());
    }

    [Fact]
    public void ComputeHash_AnyHeader_IsSha256OfEncoding()
    {
        var header = Golden() with { ChainId = "другая-цепь", Height = 0, PreviousHash = Hash32.Zero };

        Assert.Equal(SHA256.HashData(header.Encode()), header.ComputeHash().ToArray());
    }

    [Fact]
    public void Decode_GoldenBytes_ReturnsGoldenHeader()
    {
        var decoded = BlockHeader.Decode(Convert.FromHexString(GoldenEncodingHex));

        Assert.Equal(Golden(), decoded);
        Assert.Equal(TimeSpan.Zero, decoded.SlotTime.Offset);
    }

    [Fact]
    public void Decode_EncodedHeaderWithNonAsciiStringsAndMaxValues_RoundTrips()
    {
        var header = new BlockHeader(
            1,
            new string('c', 255),
            long.MaxValue,
            Hash32.Compute("p"u8),
            Hash32.Compute("m"u8),
            long.MaxValue,
            DateTimeOffset.FromUnixTimeMilliseconds(-1),
            "prodúcer-✓",
            "kéy");

        Assert.Equal(header, BlockHeader.Decode(header.Encode()));
    }

    [Fact]
    public void Encode_SubMillisecondSlotTime_TruncatesToMilliseconds()
    {
        var precise = Golden() with { SlotTime = new DateTimeOffset(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero).AddTicks(9_999) };

        Assert.Equal(GoldenEncodingHex, Convert.ToHexStringLower(precise.Encode()));
        Assert.Equal(Golden().SlotTime, BlockHeader.Decode(precise.Encode()).SlotTime);
    }

    [Fact]
    public void Encode_NonUtcOffset_EncodesSameInstant()
    {
        var shifted = Golden() with { SlotTime = Golden().SlotTime.ToOffset(TimeSpan.FromHours(5.5)) };

        Assert.Equal(GoldenEncodingHex, Convert.ToHexStringLower(shifted.Encode()));
    }

    [Fact]
    public void Decode_AnyTruncation_ThrowsFormatException()
    {
        var encoded = Golden().Encode();
        for (var length = 0; length < encoded.Length; length++)
        {
            var truncated = encoded[..length];

            Assert.Throws<FormatException>(() => BlockHeader.Decode(truncated));
        }
    }

    [Fact]
    public void Decode_TrailingByte_ThrowsFormatException()
    {
        byte[] encoded = [.. Golden().Encode(), 0x00];

        var ex = Assert.Throws<FormatException>(() => BlockHeader.Decode(encoded));
        Assert.Contains("trailing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_WrongMagic_ThrowsFormatException()
    {
        var encoded = Golden().Encode();
        encoded[3] = (byte)'D';

        var ex = Assert.Throws<FormatException>(() => BlockHeader.Decode(encoded));
        Assert.Contains("BTMC", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(256)]
    public void Decode_WrongVersion_ThrowsFormatException(ushort version)
    {
        var encoded = Golden().Encode();
        BinaryPrimitives.WriteUInt16BigEndian(encoded.AsSpan(4), version);

        var ex = Assert.Throws<FormatException>(() => BlockHeader.Decode(encoded));
        Assert.Contains("version", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void Decode_ChainIdLengthOutside1To255_ThrowsFormatException(ushort length)
    {
        var encoded = Golden().Encode();
        BinaryPrimitives.WriteUInt16BigEndian(encoded.AsSpan(6), length);

        Assert.Throws<FormatException>(() => BlockHeader.Decode(encoded));
    }

    [Fact]
    public void Decode_InvalidUtf8InKeyId_ThrowsFormatException()
    {
        var encoded = Golden().Encode();
        encoded[^1] = 0xff;

        var ex = Assert.Throws<FormatException>(() => BlockHeader.Decode(encoded));
        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_HeightWithTopBitSet_ThrowsFormatException()
    {
        var encoded = Golden().Encode();
        encoded[4 + 2 + 2 + 9] |= 0x80;

        Assert.Throws<FormatException>(() => BlockHeader.Decode(encoded));
    }

    [Fact]
    public void Decode_SlotTimeOutOfRange_ThrowsFormatException()
    {
        var encoded = Golden().Encode();
        var slotOffset = 4 + 2 + 2 + 9 + 8 + 32 + 32 + 8;
        BinaryPrimitives.WriteInt64BigEndian(encoded.AsSpan(slotOffset), long.MaxValue);

        Assert.Throws<FormatException>(() => BlockHeader.Decode(encoded));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("lone-surrogate")]
    public void Encode_MissingOrInvalidChainId_ThrowsArgumentException(string? chainId)
    {
        // Test-case strings are serialized by the runner, which would repair a lone surrogate; build it here.
        var header = Golden() with { ChainId = chainId == "lone-surrogate" ? "chain-\udc00" : chainId! };

        var ex = Assert.ThrowsAny<ArgumentException>(header.Encode);
        Assert.Equal("ChainId", ex.ParamName);
    }

    [Fact]
    public void Encode_StringOf256Utf8Bytes_ThrowsArgumentException()
    {
        var header = Golden() with { ProducerId = new string('é', 128) };

        var ex = Assert.Throws<ArgumentException>(header.Encode);
        Assert.Equal("ProducerId", ex.ParamName);
    }

    [Fact]
    public void Encode_EmptyKeyId_ThrowsArgumentException()
    {
        var header = Golden() with { KeyId = "" };

        var ex = Assert.Throws<ArgumentException>(header.Encode);
        Assert.Equal("KeyId", ex.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Encode_UnsupportedVersion_ThrowsArgumentOutOfRange(int version)
    {
        var header = Golden() with { Version = version };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(header.Encode);
        Assert.Equal("Version", ex.ParamName);
    }

    [Fact]
    public void Encode_NegativeHeightOrLeafCount_ThrowsArgumentOutOfRange()
    {
        Assert.Equal("Height", Assert.Throws<ArgumentOutOfRangeException>((Golden() with { Height = -1 }).Encode).ParamName);
        Assert.Equal("LeafCount", Assert.Throws<ArgumentOutOfRangeException>((Golden() with { LeafCount = -1 }).Encode).ParamName);
    }

    [Fact]
    public void EncodeTo_LongestHeader_WritesMaxEncodedLength()
    {
        var header = Golden() with { ChainId = new string('a', 255), ProducerId = new string('b', 255), KeyId = new string('c', 255) };
        var buffer = new byte[BlockHeader.MaxEncodedLength];

        var written = header.EncodeTo(buffer);

        Assert.Equal(BlockHeader.MaxEncodedLength, written);
        Assert.Equal(header.Encode(), buffer);
    }
}
