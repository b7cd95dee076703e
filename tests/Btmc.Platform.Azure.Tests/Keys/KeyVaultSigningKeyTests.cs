using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Security.KeyVault.Keys;
using Btmc.Ledger;
using Btmc.Platform.Azure.Keys;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Azure.Tests.Keys;

/// <summary>
/// The Key Vault signing key through the official SDK (KeyClient, CryptographyClient) against the loopback vault over
/// HTTPS: the SDK's own challenge authentication, request paths and error mapping, with real P-256 and secp256k1 keys.
/// </summary>
public sealed class KeyVaultSigningKeyTests : IAsyncLifetime
{
    private LoopbackKeyVault? _vault;

    private LoopbackKeyVault Vault => _vault ?? throw new InvalidOperationException("The loopback vault has not started.");

    public async Task InitializeAsync() => _vault = await LoopbackKeyVault.StartAsync();

    public async Task DisposeAsync()
    {
        if (_vault is not null)
        {
            await _vault.DisposeAsync();
        }
    }

    private KeyVaultAccess Access => new(Vault.Credential, Vault.Transport);

    private Task<KeyVaultSigningKey> OpenAsync(Uri keyId) => KeyVaultSigningKey.OpenAsync(keyId, Access);

    private Uri Latest(string name) => new(Vault.VaultUri, $"keys/{name}");

    private static bool VerifiesWith(LoopbackKey key, Hash32 digest, byte[] signature)
    {
        using var publicKey = key.CreatePublicKey();
        return publicKey.VerifyHash(digest.AsSpan(), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    private IEnumerable<KeyVaultRequest> SignRequests => Vault.Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/sign", StringComparison.Ordinal) && r.Authorization is not null);

    [Fact]
    public async Task OpenAsync_UnversionedKeyId_PinsTheLatestVersionAndKeyIdIsTheThumbprint()
    {
        Vault.AddKey("producer-1");
        var latest = Vault.AddKey("producer-1");

        var signingKey = await OpenAsync(Latest("producer-1"));

        var expected = EcPublicJwk.FromECDsa(latest.Key);
        Assert.StartsWith("https://127.0.0.1:", signingKey.Reference, StringComparison.Ordinal);
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
    [InlineData("P-256", "ES256", false)]
    [InlineData("P-256K", "ES256K", false)]
    [InlineData("P-256", "ES256", true)]
    [InlineData("P-256K", "ES256K", true)]
    public async Task SignDigestAsync_Digest_SignsInTheVaultWithTheCurvesAlgorithmAndTheSignatureVerifies(string curve, string alg, bool hsm)
    {
        var key = Vault.AddKey("producer-1", curve, hsm);
        var signingKey = await OpenAsync(Latest("producer-1"));
        var digest = Hash32.Compute("block 1"u8);

        var signature = await signingKey.SignDigestAsync(digest);

        Assert.True(BlockSignature.Verify(signingKey.PublicKey, digest, signature));
        Assert.True(VerifiesWith(key, digest, signature));
        var sign = Assert.Single(SignRequests);
        Assert.Equal($"/keys/producer-1/{key.Version}/sign", sign.Path);
        var body = Encoding.UTF8.GetString(sign.Body);
        Assert.Contains($"\"alg\":\"{alg}\"", body, StringComparison.Ordinal);
        // The digest is sent as it is, never the data: the vault does not hash again.
        Assert.Contains($"\"value\":\"{System.Buffers.Text.Base64Url.EncodeToString(digest.AsSpan())}\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignDigestAsync_KeyRotatedAfterOpening_StillSignsWithThePinnedVersion()
    {
        var pinned = Vault.AddKey("producer-1", "P-256K");
        var signingKey = await OpenAsync(Latest("producer-1"));
        var rotated = Vault.AddKey("producer-1", "P-256K");
        var digest = Hash32.Compute("block 2"u8);

        var signature = await signingKey.SignDigestAsync(digest);

        Assert.Equal($"/keys/producer-1/{pinned.Version}/sign", Assert.Single(SignRequests).Path);
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
        var signingKey = await OpenAsync(Latest("producer-1"));
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
        Assert.Single(SignRequests);
    }

    [Fact]
    public async Task OpenAsync_MissingKey_Throws404KeyNotFound()
    {
        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => OpenAsync(Latest("missing")));

        Assert.Equal(404, failure.Status);
        Assert.Equal("KeyNotFound", failure.ErrorCode);
    }

    [Fact]
    public async Task SignDigestAsync_KeyForbiddenAfterOpening_Throws403Forbidden()
    {
        Vault.AddKey("producer-1");
        var signingKey = await OpenAsync(Latest("producer-1"));
        Vault.ForbiddenKeys.Add("producer-1");

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => signingKey.SignDigestAsync(Hash32.Compute("block 4"u8)));

        Assert.Equal(403, failure.Status);
        Assert.Equal("Forbidden", failure.ErrorCode);
    }

    [Fact]
    public async Task OpenAsync_TokenTheVaultDidNotIssue_Throws401AndTheKeyIsNotRead()
    {
        Vault.AddKey("producer-1");
        var stranger = new LoopbackTokenCredential();

        var failure = await Assert.ThrowsAsync<RequestFailedException>(
            () => KeyVaultSigningKey.OpenAsync(Latest("producer-1"), new KeyVaultAccess(stranger, Vault.Transport)));

        Assert.Equal(401, failure.Status);
        // The SDK answered the challenge with the stranger's token, for the challenge's scope and tenant; the vault refused it.
        var asked = Assert.Single(stranger.Requests);
        Assert.Equal([Vault.ExpectedScope], asked.Scopes);
        Assert.Equal(Vault.TenantId, asked.TenantId);
        Assert.All(Vault.Requests.Where(r => r.Authorization is not null), r => Assert.False(Vault.Credential.TryGetIssued(r.Authorization!["Bearer ".Length..], out _)));
    }

    [Fact]
    public async Task OpenAsync_PlainHttpVault_SdkRefusesToSendATokenInTheClear()
    {
        await using var plain = await LoopbackKeyVault.StartPlainHttpAsync();
        plain.AddKey("producer-1");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(
            () => KeyVaultSigningKey.OpenAsync(new Uri(plain.VaultUri, "keys/producer-1"), new KeyVaultAccess(plain.Credential, plain.Transport)));

        Assert.Contains("https", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(plain.Credential.Requests);
        Assert.DoesNotContain(plain.Requests, r => r.Authorization is not null);
    }

    [Fact]
    public async Task OpenAsync_TransportThatDoesNotTrustTheVaultsCertificate_FailsBeforeAnyToken()
    {
        Vault.AddKey("producer-1");
        await using var other = await LoopbackKeyVault.StartAsync();

        var options = new KeyVaultAccess(Vault.Credential, other.Transport).OptionsFor(Latest("producer-1"));
        options.Retry.MaxRetries = 0;

        // Another vault's transport trusts that vault's certificate only: the TLS handshake fails, nothing is sent.
        var failure = await Assert.ThrowsAsync<RequestFailedException>(
            () => KeyVaultSigningKey.OpenAsync(Latest("producer-1"), Vault.Credential, options));

        Assert.Equal(0, failure.Status);
        Assert.IsType<System.Security.Authentication.AuthenticationException>(failure.InnerException?.InnerException);
        Assert.Empty(Vault.Requests);
        Assert.Empty(Vault.Credential.Requests);
    }

    [Fact]
    public async Task OpenAsync_ChallengeResourceVerificationOn_RefusesTheLoopbacksChallenge()
    {
        Vault.AddKey("producer-1");
        var options = new KeyClientOptions { DisableChallengeResourceVerification = false, Transport = Vault.Transport };

        // The challenge names https://vault.azure.net, which 127.0.0.1 is not under: no token is asked for.
        await Assert.ThrowsAsync<InvalidOperationException>(
            () => KeyVaultSigningKey.OpenAsync(Latest("producer-1"), Vault.Credential, options));

        Assert.Empty(Vault.Credential.Requests);
    }

    [Fact]
    public async Task SignDigestAsync_VaultThrottlesTwice_TheSdkRetriesAndSigns()
    {
        Vault.AddKey("producer-1");
        var options = Access.OptionsFor(Latest("producer-1"));
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        var signingKey = await KeyVaultSigningKey.OpenAsync(Latest("producer-1"), Vault.Credential, options);
        Vault.FailNext(2, status: 429);

        var signature = await signingKey.SignDigestAsync(Hash32.Compute("block 6"u8));

        Assert.True(BlockSignature.Verify(signingKey.PublicKey, Hash32.Compute("block 6"u8), signature));
    }

    [Theory]
    [InlineData("https://127.0.0.1:8443/keys/k", true)]
    [InlineData("https://myvault.vault.azure.net/keys/k", false)]
    public void OptionsFor_KeyId_DisablesChallengeResourceVerificationForLoopbackOnly(string keyId, bool disabled)
    {
        var options = new KeyVaultAccess(Vault.Credential).OptionsFor(new Uri(keyId));

        Assert.Equal(disabled, options.DisableChallengeResourceVerification);
    }

    [Theory]
    [InlineData("secrets/producer-1")]
    [InlineData("keys")]
    [InlineData("")]
    public async Task OpenAsync_NotAKeyIdentifier_ThrowsArgumentExceptionAndSendsNothing(string path)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => OpenAsync(new Uri(Vault.VaultUri, path)));

        Assert.Empty(Vault.Requests);
    }
}
