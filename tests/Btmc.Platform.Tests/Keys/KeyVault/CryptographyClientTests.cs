using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Btmc.Ledger;
using Btmc.Platform.Keys.KeyVault;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Tests.Keys.KeyVault;

public sealed class CryptographyClientTests : LoopbackVaultTests
{
    private CryptographyClient NewClient(LoopbackKey key) => new(Vault.KeyIdOf(key), Vault.Credential, Options());

    private static byte[] Digest(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("P-256", SignatureAlgorithm.ES256)]
    [InlineData("P-256K", SignatureAlgorithm.ES256K)]
    public async Task SignAsync_AlgorithmOfTheKeysCurve_ReturnsP1363SignaturesThatVerifyWithTheServersPublicKey(
        string curve, SignatureAlgorithm algorithm)
    {
        var key = Vault.AddKey("producer-1", curve);
        var client = NewClient(key);
        using var publicKey = key.CreatePublicKey();

        for (var i = 0; i < 8; i++)
        {
            var digest = Digest($"block {i}");

            var result = await client.SignAsync(algorithm, digest);

            Assert.Equal(64, result.Signature.Length);
            Assert.True(
                publicKey.VerifyHash(digest, result.Signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                $"Signature {i} does not verify.");
            Assert.False(publicKey.VerifyHash(Digest("other"), result.Signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
            Assert.Equal(Vault.KeyIdOf(key).AbsoluteUri, result.KeyId);
            Assert.Equal(algorithm, result.Algorithm);
        }
    }

    [Fact]
    public async Task SignAsync_Digest_GoesAsUnpaddedBase64UrlWithTheJwaName()
    {
        var key = Vault.AddKey("producer-1", "P-256K");
        var digest = Enumerable.Range(0, 32).Select(i => (byte)(0xF8 + i)).ToArray(); // bytes that give '-' and '_' in base64url

        await NewClient(key).SignAsync(SignatureAlgorithm.ES256K, digest);

        var request = Vault.Requests[^1];
        Assert.Equal($"/keys/producer-1/{key.Version}/sign", request.Path);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("ES256K", body.RootElement.GetProperty("alg").GetString());
        var value = body.RootElement.GetProperty("value").GetString() ?? "";
        Assert.Equal(Base64Url.EncodeToString(digest), value);
        Assert.DoesNotContain('=', value);
        Assert.DoesNotContain('+', value);
        Assert.DoesNotContain('/', value);
    }

    [Fact]
    public async Task SignAsync_UnversionedKeyId_SignsWithTheLatestVersion()
    {
        Vault.AddKey("producer-1");
        var latest = Vault.AddKey("producer-1");
        var client = new CryptographyClient(new Uri(Vault.VaultUri, "keys/producer-1"), Vault.Credential, Options());
        var digest = Digest("block");

        var result = await client.SignAsync(SignatureAlgorithm.ES256, digest);

        Assert.Equal("/keys/producer-1/sign", Vault.Requests[^1].Path);
        Assert.Equal(Vault.KeyIdOf(latest).AbsoluteUri, result.KeyId);
        using var publicKey = latest.CreatePublicKey();
        Assert.True(publicKey.VerifyHash(digest, result.Signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Theory]
    [InlineData("P-256", SignatureAlgorithm.ES256K)]
    [InlineData("P-256K", SignatureAlgorithm.ES256)]
    public async Task SignAsync_AlgorithmNotTheKeysCurve_Throws400BadParameter(string curve, SignatureAlgorithm algorithm)
    {
        var key = Vault.AddKey("producer-1", curve);

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => NewClient(key).SignAsync(algorithm, Digest("block")));

        Assert.Equal(400, failure.Status);
        Assert.Equal("BadParameter", failure.ErrorCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public async Task SignAsync_DigestNot32Bytes_IsRefusedBeforeSending(int length)
    {
        var key = Vault.AddKey("producer-1");
        var client = NewClient(key);

        await Assert.ThrowsAsync<ArgumentException>(() => client.SignAsync(SignatureAlgorithm.ES256, new byte[length]));
        await Assert.ThrowsAsync<ArgumentException>(() => client.VerifyAsync(SignatureAlgorithm.ES256, new byte[length], new byte[64]));

        Assert.Empty(Vault.Requests);
    }

    [Fact]
    public async Task SignAsync_KeyMissing_Throws404KeyNotFound()
    {
        var client = new CryptographyClient(new Uri(Vault.VaultUri, "keys/missing/0123456789abcdef0123456789abcdef"), Vault.Credential, Options());

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => client.SignAsync(SignatureAlgorithm.ES256, Digest("block")));

        Assert.Equal(404, failure.Status);
        Assert.Equal("KeyNotFound", failure.ErrorCode);
    }

    [Theory]
    [InlineData("P-256", SignatureAlgorithm.ES256)]
    [InlineData("P-256K", SignatureAlgorithm.ES256K)]
    public async Task VerifyAsync_SignatureByTheKey_IsValidAndAnAlteredOneIsNot(string curve, SignatureAlgorithm algorithm)
    {
        var key = Vault.AddKey("producer-1", curve);
        var client = NewClient(key);
        var digest = Digest("block");
        var signature = key.Key.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var altered = (byte[])signature.Clone();
        altered[10] ^= 0x01;

        var valid = await client.VerifyAsync(algorithm, digest, signature);
        var invalid = await client.VerifyAsync(algorithm, digest, altered);

        Assert.True(valid.IsValid);
        Assert.False(invalid.IsValid);
        Assert.Equal((Vault.KeyIdOf(key).AbsoluteUri, algorithm), (valid.KeyId, valid.Algorithm));
        using var body = JsonDocument.Parse(Vault.Requests[^1].Body);
        Assert.Equal(Base64Url.EncodeToString(digest), body.RootElement.GetProperty("digest").GetString());
        Assert.Equal(Base64Url.EncodeToString(altered), body.RootElement.GetProperty("value").GetString());
    }

    [Theory]
    [InlineData("https://myvault.vault.azure.net/secrets/producer-1")]
    [InlineData("https://myvault.vault.azure.net/keys/")]
    [InlineData("https://myvault.vault.azure.net/keys/producer-1/v1/extra")]
    [InlineData("https://myvault.vault.azure.net/keys/producer_1")]
    [InlineData("http://myvault.vault.azure.net/keys/producer-1")]
    public void Constructor_NotAnHttpsKeyIdentifier_IsRefused(string keyId)
    {
        Assert.Throws<ArgumentException>(() => new CryptographyClient(new Uri(keyId), Vault.Credential));
    }
}
