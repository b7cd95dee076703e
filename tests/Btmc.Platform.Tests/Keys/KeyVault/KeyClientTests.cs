using System.Diagnostics;
using System.Text.Json;
using Azure;
using Btmc.Ledger;
using Btmc.Platform.Keys.KeyVault;
using Xunit;

namespace Btmc.Platform.Tests.Keys.KeyVault;

public sealed class KeyClientTests : LoopbackVaultTests
{
    [Fact]
    public async Task GetKeyAsync_P256Key_ReturnsTheServersPublicKey()
    {
        var stored = Vault.AddKey("producer-1");

        KeyVaultKey key = await NewKeyClient().GetKeyAsync("producer-1");

        Assert.Equal(Vault.KeyIdOf(stored), key.Id);
        Assert.Equal(("producer-1", stored.Version), (key.Name, key.Version));
        Assert.Equal(KeyType.Ec, key.KeyType);
        Assert.Equal(KeyCurveName.P256, key.Key.CurveName);
        Assert.Equal([KeyOperation.Sign, KeyOperation.Verify], key.KeyOperations);
        Assert.True(key.Properties.Enabled);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(stored.Created), key.Properties.CreatedOn);
        var jwk = key.Key.ToEcPublicJwk();
        Assert.Equal(EcPublicJwk.FromECDsa(stored.Key), jwk);
        Assert.Equal(EcPublicJwk.FromECDsa(stored.Key).ComputeThumbprint(), jwk.ComputeThumbprint());
        Assert.Equal(SignatureAlgorithm.ES256, jwk.Algorithm);
    }

    [Fact]
    public async Task GetKeyAsync_P256KKey_ConvertsToASecp256k1Jwk()
    {
        var stored = Vault.AddKey("producer-k", "P-256K");

        KeyVaultKey key = await NewKeyClient().GetKeyAsync("producer-k");

        Assert.Equal(KeyCurveName.P256K, key.Key.CurveName);
        var jwk = key.Key.ToEcPublicJwk("kid-1");
        Assert.Equal(("EC", "secp256k1", "kid-1"), (jwk.Kty, jwk.Crv, jwk.Kid));
        Assert.Equal(SignatureAlgorithm.ES256K, jwk.Algorithm);
        Assert.Equal(EcPublicJwk.FromECDsa(stored.Key).ComputeThumbprint(), jwk.ComputeThumbprint());
    }

    [Fact]
    public async Task GetKeyAsync_HsmKey_IsAnEcJwk()
    {
        var stored = Vault.AddKey("producer-hsm", "P-256K", hsm: true);

        KeyVaultKey key = await NewKeyClient().GetKeyAsync("producer-hsm");

        Assert.Equal(KeyType.EcHsm, key.KeyType);
        Assert.Equal(EcPublicJwk.FromECDsa(stored.Key), key.Key.ToEcPublicJwk());
    }

    [Fact]
    public async Task GetKeyAsync_Version_ReturnsThatVersionAndWithoutOneTheLatest()
    {
        var first = Vault.AddKey("producer-1");
        var second = Vault.AddKey("producer-1");
        var client = NewKeyClient();

        KeyVaultKey older = await client.GetKeyAsync("producer-1", first.Version);
        KeyVaultKey latest = await client.GetKeyAsync("producer-1");

        Assert.Equal(first.Version, older.Version);
        Assert.Equal(EcPublicJwk.FromECDsa(first.Key), older.Key.ToEcPublicJwk());
        Assert.Equal(second.Version, latest.Version);
        Assert.Equal(EcPublicJwk.FromECDsa(second.Key), latest.Key.ToEcPublicJwk());
        Assert.Equal([$"/keys/producer-1/{first.Version}", "/keys/producer-1/"], Vault.Requests.Skip(1).Select(request => request.Path));
    }

    [Theory]
    [InlineData(KeyClientOptions.ServiceVersion.V7_4, "7.4")]
    [InlineData(KeyClientOptions.ServiceVersion.V7_5, "7.5")]
    [InlineData(KeyClientOptions.ServiceVersion.V7_6, "7.6")]
    public async Task GetKeyAsync_ServiceVersion_IsSentAsApiVersion(KeyClientOptions.ServiceVersion version, string expected)
    {
        Vault.AddKey("producer-1");
        var options = new KeyClientOptions(version) { DisableChallengeResourceVerification = true };

        await NewKeyClient(options).GetKeyAsync("producer-1");

        Assert.All(Vault.Requests, request => Assert.Equal($"?api-version={expected}", request.Query));
    }

    [Fact]
    public void KeyClientOptions_Default_IsVersion75WithBoundedRetriesAndResourceVerification()
    {
        var options = new KeyClientOptions();

        Assert.Equal(KeyClientOptions.ServiceVersion.V7_5, options.Version);
        Assert.False(options.DisableChallengeResourceVerification);
        Assert.Equal(4, options.Retry.MaxRetries);
    }

    [Fact]
    public async Task CreateEcKeyAsync_HsmP256K_SendsTheDocumentedBodyAndReturnsTheNewKey()
    {
        var options = new CreateEcKeyOptions("producer-2", hardwareProtected: true)
        {
            CurveName = KeyCurveName.P256K,
            Enabled = true,
            ExpiresOn = DateTimeOffset.FromUnixTimeSeconds(1_900_000_000),
        };
        options.Tags["producer"] = "p2";

        KeyVaultKey key = await NewKeyClient().CreateEcKeyAsync(options);

        using var body = JsonDocument.Parse(Vault.Requests[^1].Body);
        var root = body.RootElement;
        Assert.Equal("EC-HSM", root.GetProperty("kty").GetString());
        Assert.Equal("P-256K", root.GetProperty("crv").GetString());
        Assert.Equal(["sign", "verify"], root.GetProperty("key_ops").EnumerateArray().Select(op => op.GetString()));
        Assert.True(root.GetProperty("attributes").GetProperty("enabled").GetBoolean());
        Assert.Equal(1_900_000_000, root.GetProperty("attributes").GetProperty("exp").GetInt64());
        Assert.Equal("p2", root.GetProperty("tags").GetProperty("producer").GetString());

        var stored = Vault.FindKey("producer-2") ?? throw new InvalidOperationException("The vault holds no key.");
        Assert.Equal(("EC-HSM", "P-256K"), (stored.KeyType, stored.Curve));
        Assert.Equal(Vault.KeyIdOf(stored), key.Id);
        Assert.Equal(KeyType.EcHsm, key.KeyType);
        Assert.Equal(EcPublicJwk.FromECDsa(stored.Key), key.Key.ToEcPublicJwk());
    }

    [Fact]
    public async Task CreateEcKeyAsync_NoCurve_CreatesAP256Key()
    {
        KeyVaultKey key = await NewKeyClient().CreateEcKeyAsync(new CreateEcKeyOptions("producer-3"));

        Assert.Equal(KeyCurveName.P256, key.Key.CurveName);
        Assert.Equal(KeyType.Ec, key.KeyType);
        Assert.Equal("P-256", Vault.FindKey("producer-3")?.Curve);
    }

    [Fact]
    public async Task CreateEcKeyAsync_CurveOtherThanP256OrP256K_IsRefusedBeforeSending()
    {
        var options = new CreateEcKeyOptions("producer-4") { CurveName = "P-384" };

        await Assert.ThrowsAsync<ArgumentException>(() => NewKeyClient().CreateEcKeyAsync(options));

        Assert.Empty(Vault.Requests);
    }

    [Theory]
    [InlineData("")]
    [InlineData("producer_1")]
    [InlineData("producer/1")]
    [InlineData("producer 1")]
    [InlineData("prodücer")]
    public async Task GetKeyAsync_NameBreakingTheKeyVaultRule_IsRefusedBeforeSending(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => NewKeyClient().GetKeyAsync(name));
        Assert.Throws<ArgumentException>(() => new CreateEcKeyOptions(name));

        Assert.Empty(Vault.Requests);
    }

    [Fact]
    public async Task GetKeyAsync_NameLength_127IsAcceptedAnd128Refused()
    {
        var longest = new string('k', 127);
        Vault.AddKey(longest);

        KeyVaultKey key = await NewKeyClient().GetKeyAsync(longest);

        Assert.Equal(longest, key.Name);
        await Assert.ThrowsAsync<ArgumentException>(() => NewKeyClient().GetKeyAsync(longest + "k"));
    }

    [Fact]
    public async Task GetKeyAsync_VersionWithAPathSegment_IsRefusedBeforeSending()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => NewKeyClient().GetKeyAsync("producer-1", "abc/sign"));

        Assert.Empty(Vault.Requests);
    }

    [Fact]
    public async Task GetKeyAsync_MissingKey_Throws404KeyNotFound()
    {
        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => NewKeyClient().GetKeyAsync("missing"));

        Assert.Equal(404, failure.Status);
        Assert.Equal("KeyNotFound", failure.ErrorCode);
        Assert.Contains("missing was not found in this key vault", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetKeyAsync_NoPermission_Throws403Forbidden()
    {
        Vault.AddKey("secret-1");
        Vault.ForbiddenKeys.Add("secret-1");

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => NewKeyClient().GetKeyAsync("secret-1"));

        Assert.Equal(403, failure.Status);
        Assert.Equal("Forbidden", failure.ErrorCode);
    }

    [Fact]
    public async Task GetKeyAsync_ThrottledTwice_WaitsForRetryAfterAndSucceeds()
    {
        Vault.AddKey("producer-1");
        var client = NewKeyClient(Options(maxRetries: 3));
        await client.GetKeyAsync("producer-1");
        var before = Vault.Requests.Count;
        Vault.FailNext(2, status: 429, retryAfterSeconds: 1);

        var elapsed = Stopwatch.StartNew();
        KeyVaultKey key = await client.GetKeyAsync("producer-1");
        elapsed.Stop();

        Assert.Equal("producer-1", key.Name);
        Assert.Equal(3, Vault.Requests.Count - before);
        // The client's own back-off is 10-50 ms here; two waits of about a second are the server's Retry-After.
        Assert.True(elapsed.Elapsed >= TimeSpan.FromSeconds(1.9), $"Retried after {elapsed.Elapsed}; Retry-After asked for 2 x 1 s.");
    }

    [Fact]
    public async Task GetKeyAsync_ThrottledBeyondTheRetries_GivesUpWith429()
    {
        Vault.AddKey("producer-1");
        var client = NewKeyClient(Options(maxRetries: 2));
        await client.GetKeyAsync("producer-1");
        var before = Vault.Requests.Count;
        Vault.FailNext(10, status: 429);

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetKeyAsync("producer-1"));

        Assert.Equal(429, failure.Status);
        Assert.Equal("Throttled", failure.ErrorCode);
        Assert.Equal(3, Vault.Requests.Count - before);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task GetKeyAsync_ServerError_IsRetriedAndSucceeds(int status)
    {
        Vault.AddKey("producer-1");
        var client = NewKeyClient();
        await client.GetKeyAsync("producer-1");
        var before = Vault.Requests.Count;
        Vault.FailNext(2, status);

        KeyVaultKey key = await client.GetKeyAsync("producer-1");

        Assert.Equal("producer-1", key.Name);
        Assert.Equal(3, Vault.Requests.Count - before);
    }

    [Fact]
    public async Task GetKeyAsync_VaultGone_ThrowsStatus0AfterTheRetries()
    {
        var vaultUri = Vault.VaultUri;
        await Vault.DisposeAsync();
        var client = new KeyClient(vaultUri, Vault.Credential, Options(maxRetries: 1));

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetKeyAsync("producer-1"));

        Assert.Equal(0, failure.Status);
        Assert.Contains("got no response after 2 attempt(s)", failure.Message, StringComparison.Ordinal);
    }
}
