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

    // Golden signed entry (leaf format 0x03): the golden entry above plus the capture attestation of document SHA-256
    // = 32 bytes of 0x44 and the JWS s_goldenJws (RFC 7515 appendix A.3's signature, detached). Computed independently:
    // python3 -c 'import hashlib,struct; t=b"btmc-signed-capture-v1"; j=b"<the JWS>";
    //   a=hashlib.sha256(struct.pack(">H",len(t))+t+b"\x44"*32+struct.pack(">H",len(j))+j).digest();
    //   l=b"\x03"+b"\x33"*32+b"\x00\x05evt-1\x00\x06fab-01"+a; print(a.hex(), l.hex(), hashlib.sha256(b"\x00"+l).hexdigest())'
    private const string GoldenJws = "eyJhbGciOiJFUzI1NiJ9..DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    private const string GoldenAttestationHex = "a8772bce6ce75a0e92e71023755ac64bf2087e9fa6c8e803faeb0798c6fa0323";
    private const string GoldenSignedLeafHex = "03" + "3333333333333333333333333333333333333333333333333333333333333333" + "0005" + "6576742d31" + "0006" + "6661622d3031" + GoldenAttestationHex;
    private const string GoldenSignedLeafHashHex = "3c56e6df774a3f4641c8f500d55ca948185a3c2275bd472235de9587b97eb7e4";

    private static readonly EcPublicJwk s_anyKey = new("EC", "P-256", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");

    private static SignedCapture GoldenSignature => new(new Hash32(Enumerable.Repeat((byte)0x44, Hash32.Size).ToArray()), GoldenJws, s_anyKey);

    [Fact]
    public void ComputeAttestation_GoldenSignature_MatchesPinnedDigest()
    {
        Assert.Equal(GoldenAttestationHex, GoldenSignature.ComputeAttestation().ToHex());
    }

    [Fact]
    public void ComputeAttestation_OtherKey_SameDigest()
    {
        // The key is bound through the JWS header's kid, not through the digest.
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Equal(GoldenAttestationHex, (GoldenSignature with { SigningKey = EcPublicJwk.FromECDsa(other) }).ComputeAttestation().ToHex());
    }

    [Theory]
    [InlineData("")]
    [InlineData("é..x")]
    public void ComputeAttestation_EmptyOrNonAsciiJws_ThrowsArgumentException(string jws)
    {
        var ex = Assert.Throws<ArgumentException>(() => (GoldenSignature with { Jws = jws }).ComputeAttestation());
        Assert.Equal("Jws", ex.ParamName);
    }

    [Fact]
    public void EncodeLeaf_GoldenSignedEntry_MatchesPinnedBytes()
    {
        var entry = new LedgerEntry("evt-1", s_eventHash, "fab-01", GoldenSignature.ComputeAttestation());

        Assert.Equal(GoldenSignedLeafHex, Convert.ToHexStringLower(entry.EncodeLeaf()));
        Assert.Equal(GoldenSignedLeafHashHex, entry.ComputeLeafHash().ToHex());
    }

    [Fact]
    public void ComputeLeafHash_SignedLongId_EqualsHashLeafOfEncodeLeaf()
    {
        var entry = new LedgerEntry(new string('e', 5000), s_eventHash, "fab-01", Hash32.Compute("attestation"u8));

        Assert.Equal(MerkleTree.HashLeaf(entry.EncodeLeaf()), entry.ComputeLeafHash());
    }

    [Fact]
    public void ComputeLeafHash_DifferentAttestation_Differs()
    {
        var a = new LedgerEntry("evt-1", s_eventHash, "fab-01", GoldenSignature.ComputeAttestation());
        var b = a with { CaptureAttestation = (GoldenSignature with { Jws = GoldenJws[..^1] + "A" }).ComputeAttestation() };
        var unsigned = a with { CaptureAttestation = null };

        Assert.NotEqual(a.ComputeLeafHash(), b.ComputeLeafHash());
        Assert.NotEqual(a.ComputeLeafHash(), unsigned.ComputeLeafHash());
        Assert.Equal(GoldenLeafHashHex, unsigned.ComputeLeafHash().ToHex());
    }

    [Theory]
    [InlineData(GoldenLeafHex)]
    [InlineData(GoldenSignedLeafHex)]
    public void DecodeLeaf_GoldenLeaf_RoundTrips(string hex)
    {
        var entry = LedgerEntry.DecodeLeaf(Convert.FromHexString(hex));

        Assert.Equal("evt-1", entry.EventId);
        Assert.Equal(s_eventHash, entry.EventHash);
        Assert.Equal("fab-01", entry.Partner);
        Assert.Equal(hex.StartsWith("03", StringComparison.Ordinal) ? GoldenAttestationHex : null, entry.CaptureAttestation?.ToHex());
        Assert.Equal(hex, Convert.ToHexStringLower(entry.EncodeLeaf()));
    }

    [Theory]
    [InlineData("", "at least")]
    [InlineData("04" + "3333333333333333333333333333333333333333333333333333333333333333" + "0005" + "6576742d31" + "0006" + "6661622d3031", "not 0x02 or 0x03")]
    [InlineData(GoldenLeafHex + "00", "after its last field")]
    [InlineData(GoldenSignedLeafHex + "00", "after its last field")]
    [InlineData("03" + "3333333333333333333333333333333333333333333333333333333333333333" + "0005" + "6576742d31" + "0006" + "6661622d3031", "truncated")]
    [InlineData(GoldenSignedLeafHex + "x", "truncated")]
    [InlineData("02" + "3333333333333333333333333333333333333333333333333333333333333333" + "0000" + "0006" + "6661622d3031", "empty")]
    [InlineData("02" + "3333333333333333333333333333333333333333333333333333333333333333" + "0009" + "6576742d31" + "0006" + "6661622d3031", "truncated")]
    [InlineData("02" + "3333333333333333333333333333333333333333333333333333333333333333" + "0005" + "6576742dff" + "0006" + "6661622d3031", "not valid UTF-8")]
    public void DecodeLeaf_NotACanonicalLeaf_ThrowsFormatException(string hex, string reason)
    {
        // "x" marks a leaf cut by one byte: the signed golden without its last attestation byte.
        var bytes = hex.EndsWith('x') ? Convert.FromHexString(hex[..^1])[..^1] : Convert.FromHexString(hex);

        var ex = Assert.Throws<FormatException>(() => LedgerEntry.DecodeLeaf(bytes));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }
}
