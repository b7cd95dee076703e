using System.Buffers.Text;
using System.Text.Json;
using Xunit;

namespace Btmc.Ledger.Tests;

// Project Wycheproof ECDSA P1363 verification vectors (Apache-2.0, see the LICENSE next to them):
// message -> SHA-256 -> Hash32 digest -> BlockSignature.Verify with the group's public key.
public sealed partial class BlockSignatureTests
{
    private const string P256File = "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json";
    private const string Secp256k1File = "wycheproof/ecdsa_secp256k1_sha256_p1363_test.json";

    private static readonly Dictionary<string, Lazy<JsonDocument>> s_wycheproof = new(StringComparer.Ordinal)
    {
        [P256File] = new(() => Load(P256File)),
        [Secp256k1File] = new(() => Load(Secp256k1File)),
    };

    public static TheoryData<string, int, int> WycheproofCases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var file in (string[])[P256File, Secp256k1File])
        {
            var groups = s_wycheproof[file].Value.RootElement.GetProperty("testGroups");
            var groupIndex = 0;
            foreach (var group in groups.EnumerateArray())
            {
                foreach (var test in group.GetProperty("tests").EnumerateArray())
                {
                    data.Add(file, groupIndex, test.GetProperty("tcId").GetInt32());
                }

                groupIndex++;
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WycheproofCases))]
    public void Verify_WycheproofP1363Vector_MatchesExpectedResult(string file, int group, int tcId)
    {
        var root = s_wycheproof[file].Value.RootElement;
        var testGroup = root.GetProperty("testGroups")[group];
        Assert.Equal("SHA-256", testGroup.GetProperty("sha").GetString());
        var test = testGroup.GetProperty("tests").EnumerateArray().Single(t => t.GetProperty("tcId").GetInt32() == tcId);
        var key = KeyOf(testGroup);
        var digest = Hash32.Compute(Convert.FromHexString(test.GetProperty("msg").GetString()!));
        var signature = Convert.FromHexString(test.GetProperty("sig").GetString()!);

        var verified = BlockSignature.Verify(key, digest, signature);

        switch (test.GetProperty("result").GetString())
        {
            case "valid":
                Assert.True(verified, $"tcId {tcId} ({test.GetProperty("comment").GetString()}) is valid but did not verify");
                break;
            case "invalid":
                Assert.False(verified, $"tcId {tcId} ({test.GetProperty("comment").GetString()}) is invalid but verified");
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
    public void WycheproofCases_SharedTestData_CoverBothCurves()
    {
        var cases = WycheproofCases();

        Assert.Equal(
            s_wycheproof[P256File].Value.RootElement.GetProperty("numberOfTests").GetInt32()
            + s_wycheproof[Secp256k1File].Value.RootElement.GetProperty("numberOfTests").GetInt32(),
            cases.Count);
    }

    // The key from the uncompressed point (wx, wy: big-endian hex, possibly with a leading 00 sign byte);
    // when the group also carries publicKeyJwk, the JWK built here must equal it.
    internal static EcPublicJwk KeyOf(JsonElement group)
    {
        var publicKey = group.GetProperty("publicKey");
        var crv = publicKey.GetProperty("curve").GetString() switch
        {
            "secp256r1" => "P-256",
            "secp256k1" => "secp256k1",
            var other => throw new InvalidOperationException($"unexpected curve {other}"),
        };
        var key = new EcPublicJwk("EC", crv, Coordinate(publicKey, "wx"), Coordinate(publicKey, "wy"));
        if (group.TryGetProperty("publicKeyJwk", out var jwk))
        {
            Assert.Equal(jwk.GetProperty("crv").GetString(), key.Crv);
            Assert.Equal(jwk.GetProperty("x").GetString(), key.X);
            Assert.Equal(jwk.GetProperty("y").GetString(), key.Y);
        }

        return key;
    }

    private static string Coordinate(JsonElement publicKey, string name)
    {
        var bytes = Convert.FromHexString(publicKey.GetProperty(name).GetString()!);
        var start = 0;
        while (bytes.Length - start > 32 && bytes[start] == 0)
        {
            start++;
        }

        var fixedWidth = new byte[32];
        bytes.AsSpan(start).CopyTo(fixedWidth.AsSpan(32 - (bytes.Length - start)));
        return Base64Url.EncodeToString(fixedWidth);
    }

    private static JsonDocument Load(string file) => JsonDocument.Parse(File.ReadAllBytes(TestData.PathOf(file)));
}
