using System.Security.Cryptography;
using Xunit;

namespace Btmc.Ledger.Tests;

public sealed partial class BlockSignatureTests
{
    [Theory]
    [InlineData(SignatureAlgorithm.ES256)]
    [InlineData(SignatureAlgorithm.ES256K)]
    public void Sign_GeneratedKey_ReturnsSixtyFourBytesThatVerify(SignatureAlgorithm algorithm)
    {
        using var key = CreateKey(algorithm);
        var jwk = EcPublicJwk.FromECDsa(key);
        var digest = Hash32.Compute("block header"u8);

        var signature = BlockSignature.Sign(key, digest);

        Assert.Equal(BlockSignature.SignatureSize, signature.Length);
        Assert.True(BlockSignature.Verify(jwk, digest, signature));
    }

    [Theory]
    [InlineData(SignatureAlgorithm.ES256)]
    [InlineData(SignatureAlgorithm.ES256K)]
    public void Sign_Digest_SignsDigestAsIsWithoutHashingAgain(SignatureAlgorithm algorithm)
    {
        using var key = CreateKey(algorithm);
        var digest = Hash32.Compute("block header"u8);

        var signature = BlockSignature.Sign(key, digest);

        Assert.True(key.VerifyHash(digest.AsSpan(), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.False(key.VerifyData(digest.AsSpan(), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Theory]
    [InlineData(SignatureAlgorithm.ES256)]
    [InlineData(SignatureAlgorithm.ES256K)]
    public void Verify_AnySingleBitFlippedInDigest_ReturnsFalse(SignatureAlgorithm algorithm)
    {
        using var key = CreateKey(algorithm);
        var digest = Hash32.Compute("block header"u8);
        var signature = BlockSignature.Sign(key, digest);

        for (var bit = 0; bit < Hash32.Size * 8; bit++)
        {
            var bytes = digest.ToArray();
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));

            Assert.False(BlockSignature.Verify(key, new Hash32(bytes), signature), $"digest bit {bit}");
        }
    }

    [Theory]
    [InlineData(SignatureAlgorithm.ES256)]
    [InlineData(SignatureAlgorithm.ES256K)]
    public void Verify_AnySingleBitFlippedInSignature_ReturnsFalse(SignatureAlgorithm algorithm)
    {
        using var key = CreateKey(algorithm);
        var jwk = EcPublicJwk.FromECDsa(key);
        var digest = Hash32.Compute("block header"u8);
        var signature = BlockSignature.Sign(key, digest);

        for (var bit = 0; bit < signature.Length * 8; bit++)
        {
            var tampered = (byte[])signature.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));

            Assert.False(BlockSignature.Verify(key, digest, tampered), $"signature bit {bit}");
        }

        // The JWK form agrees on a sample of the same tampering.
        var first = (byte[])signature.Clone();
        first[0] ^= 1;
        Assert.False(BlockSignature.Verify(jwk, digest, first));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(72)]
    public void Verify_WrongLengthSignature_ReturnsFalse(int length)
    {
        using var key = CreateKey(SignatureAlgorithm.ES256);
        var jwk = EcPublicJwk.FromECDsa(key);
        var digest = Hash32.Compute("block header"u8);
        var signature = BlockSignature.Sign(key, digest);
        var resized = new byte[length];
        signature.AsSpan(0, Math.Min(length, signature.Length)).CopyTo(resized);

        Assert.False(BlockSignature.Verify(jwk, digest, resized));
    }

    [Fact]
    public void Verify_DerEncodedSignature_ReturnsFalse()
    {
        using var key = CreateKey(SignatureAlgorithm.ES256);
        var jwk = EcPublicJwk.FromECDsa(key);
        var digest = Hash32.Compute("block header"u8);
        var der = key.SignHash(digest.AsSpan(), DSASignatureFormat.Rfc3279DerSequence);

        Assert.False(BlockSignature.Verify(jwk, digest, der));
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0xff)]
    public void Verify_AllZeroOrAllOnesSignature_ReturnsFalse(byte fill)
    {
        using var key = CreateKey(SignatureAlgorithm.ES256K);
        var jwk = EcPublicJwk.FromECDsa(key);
        var signature = Enumerable.Repeat(fill, BlockSignature.SignatureSize).ToArray();

        Assert.False(BlockSignature.Verify(jwk, Hash32.Compute("x"u8), signature));
    }

    [Fact]
    public void Verify_OtherKeySameCurve_ReturnsFalse()
    {
        using var signer = CreateKey(SignatureAlgorithm.ES256);
        using var other = CreateKey(SignatureAlgorithm.ES256);
        var digest = Hash32.Compute("block header"u8);

        Assert.False(BlockSignature.Verify(EcPublicJwk.FromECDsa(other), digest, BlockSignature.Sign(signer, digest)));
    }

    [Fact]
    public void Verify_JwkFromECDsaRoundTrip_Verifies()
    {
        using var signer = CreateKey(SignatureAlgorithm.ES256K);
        var digest = Hash32.Compute("block header"u8);
        var signature = BlockSignature.Sign(signer, digest);
        var jwk = EcPublicJwk.FromECDsa(signer, "producer-key");
        using var publicOnly = jwk.CreateECDsa();

        var roundTripped = EcPublicJwk.FromECDsa(publicOnly, "producer-key");

        Assert.True(BlockSignature.Verify(roundTripped, digest, signature));
    }

    [Fact]
    public void Sign_P384Key_ThrowsArgumentException()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        var ex = Assert.Throws<ArgumentException>(() => BlockSignature.Sign(key, Hash32.Zero));
        Assert.Equal("privateKey", ex.ParamName);
    }

    private static ECDsa CreateKey(SignatureAlgorithm algorithm) => ECDsa.Create(algorithm == SignatureAlgorithm.ES256
        ? ECCurve.NamedCurves.nistP256
        : ECCurve.CreateFromValue("1.3.132.0.10"));
}
