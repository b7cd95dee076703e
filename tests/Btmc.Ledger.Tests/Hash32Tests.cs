using System.Security.Cryptography;
using System.Text.Json;
using Xunit;

namespace Btmc.Ledger.Tests;

public sealed class Hash32Tests
{
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    private const string AbcSha256Hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    [Fact]
    public void Compute_Abc_MatchesFips180Vector()
    {
        Assert.Equal(AbcSha256Hex, Hash32.Compute("abc"u8).ToHex());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Constructor_NotThirtyTwoBytes_ThrowsArgumentException(int length)
    {
        var ex = Assert.Throws<ArgumentException>(() => new Hash32(new byte[length]));
        Assert.Equal("bytes", ex.ParamName);
    }

    [Fact]
    public void Constructor_ThirtyTwoBytes_KeepsBytes()
    {
        var bytes = RandomNumberGenerator.GetBytes(Hash32.Size);

        var hash = new Hash32(bytes);

        Assert.Equal(bytes, hash.ToArray());
        Assert.True(hash.AsSpan().SequenceEqual(bytes));
    }

    [Fact]
    public void Constructor_SourceChangedAfterwards_HashUnchanged()
    {
        var bytes = new byte[Hash32.Size];
        var hash = new Hash32(bytes);

        bytes[0] = 0xff;

        Assert.Equal(0, hash.AsSpan()[0]);
    }

    [Fact]
    public void Zero_Always_IsAllZeroAndDefault()
    {
        Assert.Equal(new byte[Hash32.Size], Hash32.Zero.ToArray());
        Assert.Equal(default, Hash32.Zero);
    }

    [Fact]
    public void CopyTo_LargeEnoughDestination_WritesThirtyTwoBytes()
    {
        var hash = Hash32.FromHex(AbcSha256Hex);
        var destination = new byte[Hash32.Size + 2];

        hash.CopyTo(destination.AsSpan(1));

        Assert.Equal(0, destination[0]);
        Assert.Equal(hash.ToArray(), destination[1..^1]);
        Assert.Equal(0, destination[^1]);
    }

    [Fact]
    public void CopyTo_ShortDestination_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Hash32.Zero.CopyTo(new byte[Hash32.Size - 1]));
        Assert.Equal("destination", ex.ParamName);
    }

    [Fact]
    public void ToHex_Always_IsLowerCase()
    {
        Assert.Equal(AbcSha256Hex, Hash32.FromHex(AbcSha256Hex.ToUpperInvariant()).ToHex());
    }

    [Fact]
    public void FromHex_RoundTrip_ReturnsSameHash()
    {
        var hash = Hash32.Compute("round trip"u8);

        Assert.Equal(hash, Hash32.FromHex(hash.ToHex()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ba7816bf")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad00")]
    [InlineData("zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void FromHex_NotSixtyFourHexDigits_ThrowsFormatException(string hex)
    {
        Assert.Throws<FormatException>(() => Hash32.FromHex(hex));
        Assert.False(Hash32.TryFromHex(hex, out _));
    }

    [Fact]
    public void FromBase64_RoundTrip_ReturnsSameHash()
    {
        var hash = Hash32.Compute("round trip"u8);

        Assert.Equal(44, hash.ToBase64().Length);
        Assert.Equal(hash, Hash32.FromBase64(hash.ToBase64()));
    }

    [Fact]
    public void ToBase64_Abc_IsStandardPaddedBase64()
    {
        Assert.Equal(Convert.ToBase64String(Convert.FromHexString(AbcSha256Hex)), Hash32.FromHex(AbcSha256Hex).ToBase64());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ZG9uJ3QgY2FyZSAx")]
    [InlineData("ungültig")]
    [InlineData("ungX0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=AAAA")]
    public void FromBase64_NotBase64OfThirtyTwoBytes_ThrowsFormatException(string b64)
    {
        Assert.Throws<FormatException>(() => Hash32.FromBase64(b64));
        Assert.False(Hash32.TryFromBase64(b64, out _));
    }

    [Fact]
    public void Equals_SameBytes_IsTrueWithOperatorsAndHashCode()
    {
        var a = Hash32.Compute("x"u8);
        var b = new Hash32(a.ToArray());

        Assert.True(a.Equals(b));
        Assert.True(a.Equals((object)b));
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Equals_LastByteDiffers_IsFalse()
    {
        var bytes = Hash32.Compute("x"u8).ToArray();
        var a = new Hash32(bytes);
        bytes[^1] ^= 1;
        var b = new Hash32(bytes);

        Assert.False(a.Equals(b));
        Assert.False(a == b);
        Assert.True(a != b);
        Assert.False(a.Equals((object)bytes));
    }

    [Fact]
    public void ToString_Always_IsHex()
    {
        var hash = Hash32.Compute("abc"u8);

        Assert.Equal(AbcSha256Hex, hash.ToString());
    }

    [Fact]
    public void JsonSerialize_Hash_IsBase64String()
    {
        var hash = Hash32.FromHex(AbcSha256Hex);

        Assert.Equal($"\"{hash.ToBase64()}\"", JsonSerializer.Serialize(hash));
    }

    [Fact]
    public void JsonDeserialize_SerializedHashInsideRecord_RoundTrips()
    {
        var entry = new LedgerEntry("evt-1", Hash32.FromHex(AbcSha256Hex), "fab-01");

        var json = JsonSerializer.Serialize(entry);

        Assert.Contains(Hash32.FromHex(AbcSha256Hex).ToBase64(), json, StringComparison.Ordinal);
        Assert.Equal(entry, JsonSerializer.Deserialize<LedgerEntry>(json));
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"ZG9uJ3QgY2FyZSAx\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void JsonDeserialize_NotBase64OfThirtyTwoBytes_ThrowsJsonException(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Hash32>(json));
    }
}
