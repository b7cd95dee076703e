using System.Security.Cryptography;
using Azure;
using Btmc.Ledger;
using Btmc.Platform.Keys.KeyVault;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Tests.Keys.KeyVault;

public sealed class KeyVaultSigningKeyTests : LoopbackVaultTests
{
    private Task<KeyVaultSigningKey> OpenAsync(Uri keyId) => KeyVaultSigningKey.OpenAsync(keyId, Vault.Credential, Options());

    private static bool VerifiesWith(LoopbackKey key, Hash32 digest, byte[] signature)
    {
        using var publicKey = key.CreatePublicKey();
        return publicKey.VerifyHash(digest.AsSpan(), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    [Fact]
    public async Task OpenAsync_UnversionedKeyId_PinsTheLatestVersionAndKeyIdIsTheThumbprint()
    {
        Vault.AddKey("producer-1");
        var latest = Vault.AddKey("producer-1");

        var signingKey = await OpenAsync(new Uri(Vault.VaultUri, "keys/producer-1"));

        var expected = EcPublicJwk.FromECDsa(latest.Key);
        Assert.Equal(Vault.KeyIdOf(latest).AbsoluteUri, signingKey.Reference);
        Assert.Equal(expected.ComputeThumbprint(), signingKey.KeyId);
        Assert.Equal(expected with { Kid = signingKey.KeyId }, signingKey.PublicKey);
    }

    [Fact]
    public async Task OpenAsync_VersionedKeyId_UsesThatVersionEvenWhenANewerOneExists()
    {
        var first = Vault.AddKey("producer-1");
        Vault.AddKey("producer-1");

        var signingKey = await OpenAsync(Vault.KeyIdOf(first));

        Assert.Equal(Vault.KeyIdOf(first).AbsoluteUri, signingKey.Reference);
        Assert.Equal(EcPublicJwk.FromECDsa(first.Key).ComputeThumbprint(), signingKey.KeyId);
    }

    [Theory]
    [InlineData("P-256", "ES256")]
    [InlineData("P-256K", "ES256K")]
    public async Task SignDigestAsync_Digest_SignsInTheVaultWithTheCurvesAlgorithmAndTheSignatureVerifies(string curve, string alg)
    {
        var key = Vault.AddKey("producer-1", curve);
        var signingKey = await OpenAsync(new Uri(Vault.VaultUri, "keys/producer-1"));
        var digest = Hash32.Compute("block 1"u8);

        var signature = await signingKey.SignDigestAsync(digest);

        Assert.True(BlockSignature.Verify(signingKey.PublicKey, digest, signature));
        Assert.True(VerifiesWith(key, digest, signature));
        var request = Vault.Requests[^1];
        Assert.Equal($"/keys/producer-1/{key.Version}/sign", request.Path);
        Assert.Contains($"\"alg\":\"{alg}\"", System.Text.Encoding.UTF8.GetString(request.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignDigestAsync_KeyRotatedAfterOpening_StillSignsWithThePinnedVersion()
    {
        var pinned = Vault.AddKey("producer-1");
        var signingKey = await OpenAsync(new Uri(Vault.VaultUri, "keys/producer-1"));
        var rotated = Vault.AddKey("producer-1");
        var digest = Hash32.Compute("block 2"u8);

        var signature = await signingKey.SignDigestAsync(digest);

        Assert.Equal($"/keys/producer-1/{pinned.Version}/sign", Vault.Requests[^1].Path);
        Assert.True(VerifiesWith(pinned, digest, signature));
        Assert.False(VerifiesWith(rotated, digest, signature));
        Assert.Equal(Vault.KeyIdOf(pinned).AbsoluteUri, signingKey.Reference);
    }

    public static TheoryData<string> Tamperings => ["bit flip", "other key", "truncated", "der"];

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task SignDigestAsync_VaultReturnsASignatureThatDoesNotVerify_ThrowsAndReturnsNothing(string tampering)
    {
        Vault.AddKey("producer-1");
        var signingKey = await OpenAsync(new Uri(Vault.VaultUri, "keys/producer-1"));
        var digest = Hash32.Compute("block 3"u8);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Vault.SignatureTamper = signature => tampering switch
        {
            "bit flip" => [.. signature[..63], (byte)(signature[63] ^ 0x01)],
            "other key" => otherKey.SignHash(digest.AsSpan(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            "truncated" => signature[..63],
            _ => otherKey.SignHash(digest.AsSpan(), DSASignatureFormat.Rfc3279DerSequence),
        };

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => signingKey.SignDigestAsync(digest));

        Assert.Contains("does not verify against its public key", refused.Message, StringComparison.Ordinal);
        Assert.Contains(signingKey.Reference, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_MissingKey_Throws404KeyNotFound()
    {
        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => OpenAsync(new Uri(Vault.VaultUri, "keys/missing")));

        Assert.Equal(404, failure.Status);
        Assert.Equal("KeyNotFound", failure.ErrorCode);
    }
}
