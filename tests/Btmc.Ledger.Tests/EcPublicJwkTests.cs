using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Btmc.Ledger.Tests;

public sealed class EcPublicJwkTests
{
    // The P-256 key of RFC 7515 appendix A.3 (JWS ES256 example).
    private const string Rfc7515X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    private const string Rfc7515Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    private const string Rfc7515D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";

    // RFC 7638 thumbprint of that key, computed once with Python (and widely quoted for this key):
    // base64url(sha256('{"crv":"P-256","kty":"EC","x":"f83O...VEU","y":"x_FE...5a0"}')).
    private const string Rfc7515Thumbprint = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U";

    private static EcPublicJwk Rfc7515Key(string? kid = null) => new("EC", "P-256", Rfc7515X, Rfc7515Y, kid);

    [Fact]
    public void ComputeThumbprint_Rfc7515AppendixA3Key_MatchesPinnedValue()
    {
        Assert.Equal(Rfc7515Thumbprint, Rfc7515Key().ComputeThumbprint());
    }

    [Fact]
    public void ComputeThumbprint_Kid_IsNotPartOfThumbprint()
    {
        Assert.Equal(Rfc7515Thumbprint, Rfc7515Key("some-kid").ComputeThumbprint());
    }

    [Theory]
    [InlineData(SignatureAlgorithm.ES256)]
    [InlineData(SignatureAlgorithm.ES256K)]
    public void ComputeThumbprint_GeneratedKey_EqualsSha256OfHandBuiltCanonicalJson(SignatureAlgorithm algorithm)
    {
        using var key = ECDsa.Create(Curve(algorithm));
        var jwk = EcPublicJwk.FromECDsa(key, "ignored");
        var json = "{\"crv\":\"" + jwk.Crv + "\",\"kty\":\"EC\",\"x\":\"" + jwk.X + "\",\"y\":\"" + jwk.Y + "\"}";

        var expected = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(expected, jwk.ComputeThumbprint());
    }

    [Fact]
    public void CreateECDsa_Rfc7515AppendixA3Key_VerifiesSignatureFromItsPrivateKey()
    {
        using var privateKey = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = Base64Url.DecodeFromChars(Rfc7515D),
            Q = new ECPoint { X = Base64Url.DecodeFromChars(Rfc7515X), Y = Base64Url.DecodeFromChars(Rfc7515Y) },
        });
        var digest = Hash32.Compute("payload"u8);
        var signature = BlockSignature.Sign(privateKey, digest);

        using var publicKey = Rfc7515Key().CreateECDsa();

        Assert.True(publicKey.VerifyHash(digest.AsSpan(), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Theory]
    [InlineData(SignatureAlgorithm.ES256, "P-256")]
    [InlineData(SignatureAlgorithm.ES256K, "secp256k1")]
    public void FromECDsa_GeneratedKey_HasCurveAlgorithmAndCoordinates(SignatureAlgorithm algorithm, string crv)
    {
        using var key = ECDsa.Create(Curve(algorithm));
        var q = key.ExportParameters(false).Q;

        var jwk = EcPublicJwk.FromECDsa(key, "k1");

        Assert.Equal("EC", jwk.Kty);
        Assert.Equal(crv, jwk.Crv);
        Assert.Equal(algorithm, jwk.Algorithm);
        Assert.Equal("k1", jwk.Kid);
        Assert.Equal(q.X, Base64Url.DecodeFromChars(jwk.X));
        Assert.Equal(q.Y, Base64Url.DecodeFromChars(jwk.Y));
    }

    [Theory]
    [InlineData(SignatureAlgorithm.ES256)]
    [InlineData(SignatureAlgorithm.ES256K)]
    public void CreateECDsa_FromECDsaRoundTrip_VerifiesSignatureOfOriginalKey(SignatureAlgorithm algorithm)
    {
        using var privateKey = ECDsa.Create(Curve(algorithm));
        var digest = Hash32.Compute("block"u8);
        var signature = BlockSignature.Sign(privateKey, digest);

        var jwk = EcPublicJwk.FromECDsa(privateKey);
        using var publicKey = jwk.CreateECDsa();

        Assert.Equal(jwk, EcPublicJwk.FromECDsa(publicKey));
        Assert.True(publicKey.VerifyHash(digest.AsSpan(), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void FromECDsa_P384Key_ThrowsArgumentException()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        var ex = Assert.Throws<ArgumentException>(() => EcPublicJwk.FromECDsa(key));
        Assert.Equal("key", ex.ParamName);
    }

    [Fact]
    public void Serialize_WithKid_UsesLowerCaseMemberNamesOnly()
    {
        var json = JsonSerializer.Serialize(Rfc7515Key("kid-1"));

        Assert.Equal($"{{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"{Rfc7515X}\",\"y\":\"{Rfc7515Y}\",\"kid\":\"kid-1\"}}", json);
    }

    [Fact]
    public void Serialize_WithoutKid_OmitsKid()
    {
        var json = JsonSerializer.Serialize(Rfc7515Key());

        Assert.Equal($"{{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"{Rfc7515X}\",\"y\":\"{Rfc7515Y}\"}}", json);
    }

    [Fact]
    public void Deserialize_SerializedJwk_RoundTrips()
    {
        var jwk = Rfc7515Key("kid-1");

        Assert.Equal(jwk, JsonSerializer.Deserialize<EcPublicJwk>(JsonSerializer.Serialize(jwk)));
    }

    [Theory]
    [InlineData("P-384")]
    [InlineData("p-256")]
    [InlineData("")]
    public void Algorithm_UnknownCurve_ThrowsArgumentException(string crv)
    {
        var jwk = Rfc7515Key() with { Crv = crv };

        Assert.Throws<ArgumentException>(() => jwk.Algorithm);
        Assert.Throws<ArgumentException>(jwk.CreateECDsa);
        Assert.Throws<ArgumentException>(jwk.ComputeThumbprint);
    }

    [Fact]
    public void CreateECDsa_KeyTypeNotEc_ThrowsArgumentException()
    {
        var jwk = Rfc7515Key() with { Kty = "RSA" };

        var ex = Assert.Throws<ArgumentException>(jwk.CreateECDsa);
        Assert.Equal("Kty", ex.ParamName);
    }

    [Theory]
    [InlineData("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVE")] // 42 characters
    [InlineData("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU=")] // padded
    [InlineData("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEV")] // non-canonical trailing bits
    [InlineData("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVE+")] // standard, not url-safe, alphabet
    public void CreateECDsa_MalformedCoordinate_ThrowsArgumentException(string x)
    {
        var jwk = Rfc7515Key() with { X = x };

        var ex = Assert.Throws<ArgumentException>(jwk.CreateECDsa);
        Assert.Equal("X", ex.ParamName);
        Assert.Throws<ArgumentException>(jwk.ComputeThumbprint);
    }

    [Fact]
    public void CreateECDsa_PointNotOnCurve_ThrowsArgumentException()
    {
        var jwk = Rfc7515Key() with { Y = Rfc7515X };

        Assert.Throws<ArgumentException>(jwk.CreateECDsa);
    }

    [Fact]
    public void CreateECDsa_P256PointClaimedAsSecp256k1_ThrowsArgumentException()
    {
        var jwk = Rfc7515Key() with { Crv = "secp256k1" };

        Assert.Throws<ArgumentException>(jwk.CreateECDsa);
    }

    private static ECCurve Curve(SignatureAlgorithm algorithm) => algorithm == SignatureAlgorithm.ES256
        ? ECCurve.NamedCurves.nistP256
        : ECCurve.CreateFromValue("1.3.132.0.10");
}
