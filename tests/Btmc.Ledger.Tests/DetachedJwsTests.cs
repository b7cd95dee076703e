using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Btmc.Ledger.Tests;

public sealed class DetachedJwsTests
{
    // RFC 7515 appendix A.3 (JWS using ECDSA P-256 SHA-256): the published key (A.3.1), protected header, payload and
    // signature, as printed in the RFC.
    private const string Rfc7515A3Header = "eyJhbGciOiJFUzI1NiJ9";
    private const string Rfc7515A3Payload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    private const string Rfc7515A3Signature = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    private const string Rfc7515A3D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
    private static readonly EcPublicJwk s_rfcKey = new("EC", "P-256", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");

    // base64url of {"alg":"ES256","kid":"oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"} (the A.3 key's RFC 7638 thumbprint,
    // pinned in EcPublicJwkTests), computed independently:
    // python3 -c 'import base64; print(base64.urlsafe_b64encode(b"{\"alg\":\"ES256\",\"kid\":\"oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U\"}").rstrip(b"=").decode())'
    private const string RfcKeyHeader = "eyJhbGciOiJFUzI1NiIsImtpZCI6Im9LSXl3dkdVcFRWVHl4TVEzYndJSWVRVXVkZnJfQ2tMTWpDRTE5RUNELVUifQ";

    private static readonly byte[] s_document = Encoding.UTF8.GetBytes("{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[]}}");

    [Fact]
    public void VerifyEs256_Rfc7515AppendixA3_Verifies()
    {
        var signingInput = Encoding.ASCII.GetBytes(Rfc7515A3Header + "." + Rfc7515A3Payload);

        Assert.True(DetachedJws.VerifyEs256(s_rfcKey, signingInput, Base64Url.DecodeFromChars(Rfc7515A3Signature)));
    }

    [Fact]
    public void VerifyEs256_Rfc7515AppendixA3OneBitOfThePayloadChanged_DoesNotVerify()
    {
        var signingInput = Encoding.ASCII.GetBytes(Rfc7515A3Header + "." + Rfc7515A3Payload);
        signingInput[^1] ^= 1;

        Assert.False(DetachedJws.VerifyEs256(s_rfcKey, signingInput, Base64Url.DecodeFromChars(Rfc7515A3Signature)));
    }

    [Fact]
    public void SigningInput_Rfc7515AppendixA3Payload_IsTheRfcSigningInput()
    {
        var payload = Base64Url.DecodeFromChars(Rfc7515A3Payload);

        Assert.Equal(Rfc7515A3Header + "." + Rfc7515A3Payload, Encoding.ASCII.GetString(DetachedJws.SigningInput(Rfc7515A3Header, payload)));
    }

    [Fact]
    public void Verify_Rfc7515AppendixA3Detached_RefusedForWantOfKid()
    {
        // The RFC's signature is valid (above) but its header names no key: a capture signature must.
        var detached = Rfc7515A3Header + ".." + Rfc7515A3Signature;

        Assert.False(DetachedJws.Verify(detached, Base64Url.DecodeFromChars(Rfc7515A3Payload), s_rfcKey, out var failure));
        Assert.Contains("no kid", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_Rfc7515AppendixA3Key_HeaderNamesTheThumbprintAndVerifies()
    {
        using var key = Rfc7515A3PrivateKey();

        var jws = DetachedJws.Sign(key, s_document);

        Assert.StartsWith(RfcKeyHeader + "..", jws, StringComparison.Ordinal);
        Assert.Equal(RfcKeyHeader.Length + 2 + 86, jws.Length);
        Assert.True(DetachedJws.Verify(jws, s_document, s_rfcKey, out var failure), failure);
        Assert.True(DetachedJws.TryParse(jws, out var parsed, out _));
        Assert.Equal("oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U", parsed.KeyId);
        Assert.Equal(DetachedJws.ES256, parsed.Algorithm);
    }

    [Fact]
    public void Verify_OneByteOfTheDocumentChanged_DoesNotVerify()
    {
        using var key = Rfc7515A3PrivateKey();
        var jws = DetachedJws.Sign(key, s_document);
        var altered = s_document.ToArray();
        altered[10] ^= 0x20;

        Assert.False(DetachedJws.Verify(jws, altered, s_rfcKey, out var failure));
        Assert.Contains("does not verify", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AnotherRegisteredKey_RefusedNamingTheKid()
    {
        using var key = Rfc7515A3PrivateKey();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jws = DetachedJws.Sign(key, s_document);

        Assert.False(DetachedJws.Verify(jws, s_document, EcPublicJwk.FromECDsa(other), out var failure));
        Assert.Contains("kid", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_SignatureOfAnotherKeyUnderTheRegisteredKid_DoesNotVerify()
    {
        // A forger who copies the victim's kid into its own header still needs the victim's private key.
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jws = SignWithHeader(other, $$"""{"alg":"ES256","kid":"{{s_rfcKey.ComputeThumbprint()}}"}""", s_document);

        Assert.False(DetachedJws.Verify(jws, s_document, s_rfcKey, out var failure));
        Assert.Contains("does not verify", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"alg":"ES384","kid":"K"}""", "only ES256")]
    [InlineData("""{"alg":"none","kid":"K"}""", "only ES256")]
    [InlineData("""{"alg":"HS256","kid":"K"}""", "only ES256")]
    [InlineData("""{"kid":"K"}""", "no alg")]
    [InlineData("""{"alg":"ES256"}""", "no kid")]
    [InlineData("""{"alg":"ES256","kid":""}""", "no kid")]
    [InlineData("""{"alg":"ES256","kid":7}""", "not a string")]
    [InlineData("""{"alg":["ES256"],"kid":"K"}""", "not a string")]
    [InlineData("""{"alg":"ES256","kid":"K","b64":false,"crit":["b64"]}""", "b64")]
    [InlineData("""{"alg":"ES256","kid":"K","b64":false}""", "b64")]
    [InlineData("""{"alg":"ES256","kid":"K","crit":["exp"],"exp":1}""", "crit")]
    [InlineData("""{"alg":"ES256","kid":"K","alg":"ES256"}""", "twice")]
    [InlineData("""{"alg":"ES256","kid":"K"}{}""", "not valid JSON")]
    [InlineData("""["alg","ES256"]""", "not a JSON object")]
    [InlineData("""{"alg":"ES256","kid":"K""", "not valid JSON")]
    public void Verify_HeaderBreakingARule_RefusedWithTheReason(string header, string reason)
    {
        using var key = Rfc7515A3PrivateKey();
        var jws = SignWithHeader(key, header.Replace("\"K\"", $"\"{s_rfcKey.ComputeThumbprint()}\"", StringComparison.Ordinal), s_document);

        Assert.False(DetachedJws.Verify(jws, s_document, s_rfcKey, out var failure));
        Assert.Contains(reason, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_HeaderWithOtherMembersAndB64True_Verifies()
    {
        using var key = Rfc7515A3PrivateKey();
        var jws = SignWithHeader(key, $$"""{"typ":"JOSE","kid":"{{s_rfcKey.ComputeThumbprint()}}","b64":true,"alg":"ES256"}""", s_document);

        Assert.True(DetachedJws.Verify(jws, s_document, s_rfcKey, out var failure), failure);
    }

    public static TheoryData<string, string> MalformedJws()
    {
        using var key = Rfc7515A3PrivateKey();
        var good = DetachedJws.Sign(key, s_document);
        var (header, signature) = (good[..good.IndexOf('.', StringComparison.Ordinal)], good[(good.LastIndexOf('.') + 1)..]);
        var der = key.SignData(DetachedJws.SigningInput(header, s_document), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new TheoryData<string, string>
        {
            { string.Empty, "empty" },
            { header + "." + signature, "three parts" },
            { header + "..." + signature, "three parts" },
            { header + "." + Base64Url.EncodeToString(s_document) + "." + signature, "must be detached" },
            { header + "=.." + signature, "header is not canonical" },
            { header[..^1] + "+.." + signature, "header is not canonical" },
            { header + ".." + signature + "==", "signature is not canonical" },
            { header + ".." + signature.Replace('-', '+').Replace('_', '/') + "+", "signature is not canonical" },

            // 86 characters carry 516 bits for 512: a last character with a low bit set spells the same bytes, and is refused.
            { header + ".." + signature[..^1] + LowBitSet(signature[^1]), "signature is not canonical" },
            { header + ".." + signature[..40] + (signature[40] == 'A' ? 'B' : 'A') + signature[41..], "does not verify" },
            { header + ".." + signature[..^2], "63 bytes" },
            { header + ".." + Base64Url.EncodeToString(der), "bytes; ES256 is r || s" },
            { header + ".." + Base64Url.EncodeToString(new byte[64]), "does not verify" },
            { header + ".." + signature + new string('A', DetachedJws.MaxLength), "at most" },
            { header + ".." + signature + " ", "not canonical" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedJws))]
    public void Verify_MalformedJws_RefusedWithTheReason(string jws, string reason)
    {
        Assert.False(DetachedJws.Verify(jws, s_document, s_rfcKey, out var failure));
        Assert.Contains(reason, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_NullJws_RefusedAsEmpty()
    {
        Assert.False(DetachedJws.Verify(null, s_document, s_rfcKey, out var failure));
        Assert.Contains("empty", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_Secp256k1Key_ThrowsArgumentException()
    {
        using var key = ECDsa.Create(ECCurve.CreateFromValue("1.3.132.0.10"));

        Assert.Throws<ArgumentException>(() => DetachedJws.Sign(key, s_document));
    }

    // Project Wycheproof ECDSA P-256 SHA-256 P1363 vectors (Apache-2.0, see the LICENSE next to them): each message
    // taken as a JWS signing input, so every accept and reject of the ES256 primitive is the one a capture signature gets.
    public static TheoryData<int, int> WycheproofP256Cases()
    {
        var data = new TheoryData<int, int>();
        var groupIndex = 0;
        foreach (var group in s_wycheproof.Value.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                data.Add(groupIndex, test.GetProperty("tcId").GetInt32());
            }

            groupIndex++;
        }

        return data;
    }

    private static readonly Lazy<JsonDocument> s_wycheproof =
        new(() => JsonDocument.Parse(File.ReadAllBytes(TestData.PathOf("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json"))));

    [Theory]
    [MemberData(nameof(WycheproofP256Cases))]
    public void VerifyEs256_WycheproofP1363Vector_MatchesExpectedResult(int group, int tcId)
    {
        var testGroup = s_wycheproof.Value.RootElement.GetProperty("testGroups")[group];
        Assert.Equal("SHA-256", testGroup.GetProperty("sha").GetString());
        var key = BlockSignatureTests.KeyOf(testGroup);
        var test = testGroup.GetProperty("tests").EnumerateArray().Single(t => t.GetProperty("tcId").GetInt32() == tcId);

        var verified = DetachedJws.VerifyEs256(key, Convert.FromHexString(test.GetProperty("msg").GetString()!), Convert.FromHexString(test.GetProperty("sig").GetString()!));

        var comment = test.GetProperty("comment").GetString();
        switch (test.GetProperty("result").GetString())
        {
            case "valid":
                Assert.True(verified, $"tcId {tcId} ({comment}) is valid but did not verify");
                break;
            case "invalid":
                Assert.False(verified, $"tcId {tcId} ({comment}) is invalid but verified");
                break;
            case "acceptable":
                // Either outcome is allowed; the call must simply not throw (it did not, to get here).
                break;
            case var other:
                Assert.Fail($"unknown result '{other}'");
                break;
        }
    }

    [Fact]
    public void WycheproofP256Cases_SharedTestData_CoverEveryVector()
    {
        Assert.Equal(s_wycheproof.Value.RootElement.GetProperty("numberOfTests").GetInt32(), WycheproofP256Cases().Count);
    }

    private static char LowBitSet(char last)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        return Alphabet[Alphabet.IndexOf(last, StringComparison.Ordinal) | 1];
    }

    private static ECDsa Rfc7515A3PrivateKey() => ECDsa.Create(new ECParameters
    {
        Curve = ECCurve.NamedCurves.nistP256,
        D = Base64Url.DecodeFromChars(Rfc7515A3D),
        Q = new ECPoint { X = Base64Url.DecodeFromChars(s_rfcKey.X), Y = Base64Url.DecodeFromChars(s_rfcKey.Y) },
    });

    /// <summary>A detached JWS with any protected header, properly signed, to test the header rules one at a time.</summary>
    private static string SignWithHeader(ECDsa key, string headerJson, byte[] payload)
    {
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(headerJson));
        var signature = key.SignData(DetachedJws.SigningInput(header, payload), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return header + ".." + Base64Url.EncodeToString(signature);
    }
}
