using System.Text.Json;
using Azure;
using Btmc.Platform.Keys.KeyVault;
using Xunit;

namespace Btmc.Platform.Tests.Keys.KeyVault;

public sealed class ChallengeBasedAuthenticationPolicyTests : LoopbackVaultTests
{
    [Fact]
    public async Task CreateEcKeyAsync_FirstRequestToTheVault_GoesWithoutBodyAndTokenThenWithBoth()
    {
        await NewKeyClient().CreateEcKeyAsync(new CreateEcKeyOptions("producer-1"));

        var requests = Vault.Requests;
        Assert.Equal(2, requests.Count);
        Assert.All(requests, request => Assert.Equal(("POST", "/keys/producer-1/create"), (request.Method, request.Path)));
        Assert.Null(requests[0].Authorization);
        Assert.Empty(requests[0].Body);
        Assert.StartsWith("Bearer loopback-", requests[1].Authorization, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(requests[1].Body);
        Assert.Equal("EC", body.RootElement.GetProperty("kty").GetString());

        var token = Assert.Single(Vault.Credential.Requests);
        Assert.Equal(["https://vault.azure.net/.default"], token.Scopes);
        Assert.Equal(Vault.TenantId, token.TenantId);
        Assert.True(token.IsCaeEnabled);
    }

    [Fact]
    public async Task CreateEcKeyAsync_BodilessFirstRequestRetried_KeepsTheBodyForTheAuthenticatedOne()
    {
        Vault.FailNext(2, status: 503, beforeAuthentication: true);

        await NewKeyClient().CreateEcKeyAsync(new CreateEcKeyOptions("producer-1") { CurveName = KeyCurveName.P256K });

        var requests = Vault.Requests;
        Assert.Equal(4, requests.Count);
        Assert.All(requests.Take(3), request => Assert.Empty(request.Body));
        Assert.All(requests.Take(3), request => Assert.Null(request.Authorization));
        using var body = JsonDocument.Parse(requests[3].Body);
        Assert.Equal("P-256K", body.RootElement.GetProperty("crv").GetString());
        Assert.Equal("P-256K", Vault.FindKey("producer-1")?.Curve);
    }

    [Fact]
    public async Task CreateEcKeyAsync_ChallengeMetByAnotherCallWhileTheBodilessRequestWaitsToRetry_RetriesWithTheBody()
    {
        Vault.AddKey("producer-0");
        var client = NewKeyClient();
        Vault.FailNext(1, status: 503, retryAfterSeconds: 2, beforeAuthentication: true);
        var create = client.CreateEcKeyAsync(new CreateEcKeyOptions("producer-1") { CurveName = KeyCurveName.P256K });
        while (Vault.Requests.Count == 0)
        {
            await Task.Delay(10);
        }

        await client.GetKeyAsync("producer-0"); // meets the challenge while the create waits out Retry-After
        await create;

        var requests = Vault.Requests;
        Assert.Equal(4, requests.Count);
        Assert.Empty(requests[0].Body);
        Assert.Equal("GET", requests[1].Method);
        Assert.NotNull(requests[3].Authorization);
        using var body = JsonDocument.Parse(requests[3].Body);
        Assert.Equal("P-256K", body.RootElement.GetProperty("crv").GetString());
    }

    [Fact]
    public async Task GetKeyAsync_SecondCall_CarriesTheTokenAtOnce()
    {
        Vault.AddKey("producer-1");
        var client = NewKeyClient();
        await client.GetKeyAsync("producer-1");

        await client.GetKeyAsync("producer-1");

        var requests = Vault.Requests;
        Assert.Equal(3, requests.Count);
        Assert.Equal(requests[1].Authorization, requests[2].Authorization);
        Assert.Single(Vault.Credential.Requests);
    }

    [Fact]
    public async Task SignAsync_CryptographyClientFromTheKeyClient_SharesTheChallenge()
    {
        var key = Vault.AddKey("producer-1");
        var client = NewKeyClient();
        await client.GetKeyAsync("producer-1");

        await client.GetCryptographyClient("producer-1", key.Version).SignAsync(Btmc.Ledger.SignatureAlgorithm.ES256, new byte[32]);

        var sign = Vault.Requests[^1];
        Assert.Equal(3, Vault.Requests.Count);
        Assert.EndsWith("/sign", sign.Path, StringComparison.Ordinal);
        Assert.NotNull(sign.Authorization);
    }

    [Fact]
    public async Task GetKeyAsync_ChallengeWithScope_RequestsThatScope()
    {
        Vault.AddKey("producer-1");
        Vault.ChallengeWithScope = true;
        Vault.ChallengeResource = "https://managedhsm.azure.net";

        await NewKeyClient().GetKeyAsync("producer-1");

        Assert.Equal(["https://managedhsm.azure.net/.default"], Assert.Single(Vault.Credential.Requests).Scopes);
    }

    [Fact]
    public async Task GetKeyAsync_ChallengeResourceNotTheVaultsDomain_RefusedWithoutAskingForAToken()
    {
        Vault.AddKey("producer-1");
        var client = NewKeyClient(Options(verifyChallengeResource: true));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetKeyAsync("producer-1"));

        Assert.Contains("'vault.azure.net' does not match the vault's host '127.0.0.1'", refused.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(KeyClientOptions.DisableChallengeResourceVerification), refused.Message, StringComparison.Ordinal);
        Assert.Empty(Vault.Credential.Requests);
        Assert.Null(Assert.Single(Vault.Requests).Authorization);
    }

    [Theory]
    [InlineData("https://myvault.vault.azure.net/", "https://vault.azure.net/.default")]
    [InlineData("https://MyVault.Vault.Azure.Net/", "https://vault.azure.net/.default")]
    [InlineData("https://myhsm.managedhsm.azure.net/", "https://managedhsm.azure.net/.default")]
    public void VerifyResource_VaultHostUnderTheResource_Accepts(string vault, string scope)
    {
        ChallengeBasedAuthenticationPolicy.VerifyResource(new Uri(vault), scope);
    }

    [Theory]
    [InlineData("https://myvault.vault.azure.net.attacker.example/", "https://vault.azure.net/.default")]
    [InlineData("https://evilvault.azure.net/", "https://vault.azure.net/.default")]
    [InlineData("https://vault.azure.net/", "https://vault.azure.net/.default")]
    [InlineData("https://myvault.vault.azure.net/", "https://attacker.example/.default")]
    [InlineData("https://myvault.vault.azure.net/", "not a uri")]
    public void VerifyResource_VaultHostNotUnderTheResource_Throws(string vault, string scope)
    {
        Assert.Throws<InvalidOperationException>(() => ChallengeBasedAuthenticationPolicy.VerifyResource(new Uri(vault), scope));
    }

    [Fact]
    public async Task GetKeyAsync_TenantChangesLater_NewChallengeGetsATokenForTheNewTenant()
    {
        Vault.AddKey("producer-1");
        var client = NewKeyClient();
        await client.GetKeyAsync("producer-1");
        var firstTenant = Vault.TenantId;
        Vault.TenantId = Guid.NewGuid().ToString();

        await client.GetKeyAsync("producer-1");

        Assert.Equal([firstTenant, Vault.TenantId], Vault.Credential.Requests.Select(request => request.TenantId));
        var requests = Vault.Requests;
        Assert.Equal(4, requests.Count);
        Assert.Equal(requests[1].Authorization, requests[2].Authorization); // the old token, refused with the new challenge
        Assert.NotEqual(requests[2].Authorization, requests[3].Authorization);
    }

    [Fact]
    public async Task GetKeyAsync_ClaimsChallenge_GetsATokenWithTheClaims()
    {
        Vault.AddKey("producer-1");
        var client = NewKeyClient();
        await client.GetKeyAsync("producer-1");
        const string claims = """{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}""";
        Vault.RequiredClaims = claims;

        await client.GetKeyAsync("producer-1");

        var last = Vault.Credential.Requests[^1];
        Assert.Equal(claims, last.Claims);
        Assert.Equal(Vault.TenantId, last.TenantId);
        Assert.Equal(["https://vault.azure.net/.default"], last.Scopes);
        Assert.Equal(4, Vault.Requests.Count);
    }

    [Fact]
    public async Task GetKeyAsync_TokenRevokedAndTheSameChallenge_Fails401WithoutResendingTheSameToken()
    {
        Vault.AddKey("producer-1");
        var client = NewKeyClient();
        await client.GetKeyAsync("producer-1");
        Vault.Credential.RevokeIssued();

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetKeyAsync("producer-1"));

        Assert.Equal(401, failure.Status);
        Assert.Equal("Unauthorized", failure.ErrorCode);
        Assert.Equal(3, Vault.Requests.Count);
    }

    [Theory]
    [InlineData("http://myvault.vault.azure.net/")]
    [InlineData("http://10.0.0.5/")]
    [InlineData("https://myvault.vault.azure.net/keys/")]
    public void KeyClient_VaultUriNotHttpsOrNotAVault_IsRefused(string vaultUri)
    {
        Assert.Throws<ArgumentException>(() => new KeyClient(new Uri(vaultUri), Vault.Credential));
    }

    [Theory]
    [InlineData("https://myvault.vault.azure.net/")]
    [InlineData("http://localhost:8443/")]
    [InlineData("http://127.0.0.1:8443")]
    [InlineData("http://[::1]:8443/")]
    public void KeyClient_HttpsOrLoopbackHttp_IsAccepted(string vaultUri)
    {
        var client = new KeyClient(new Uri(vaultUri), Vault.Credential);

        Assert.Equal(new Uri(vaultUri).GetLeftPart(UriPartial.Authority) + "/", client.VaultUri.AbsoluteUri);
    }

    [Fact]
    public void Parse_SeveralSchemesAndQuotedValues_ReturnsTheBearerParameters()
    {
        var parameters = BearerChallenge.Parse(
            "PoP nonce=\"abc\", Bearer realm=\"\", Authorization_Uri=\"https://login.microsoftonline.com/t1\", "
            + "error=insufficient_claims, claims=\"eyJhIjoiYiJ9\", note=\"say \\\"hi\\\", twice\"");

        Assert.NotNull(parameters);
        Assert.Equal("https://login.microsoftonline.com/t1", parameters["authorization_uri"]);
        Assert.Equal("insufficient_claims", parameters["error"]);
        Assert.Equal("eyJhIjoiYiJ9", parameters["claims"]);
        Assert.Equal("say \"hi\", twice", parameters["note"]);
        Assert.Equal("", parameters["realm"]);
        Assert.False(parameters.ContainsKey("nonce"));
        Assert.Null(BearerChallenge.Parse("Basic realm=\"x\""));
    }

    [Theory]
    [InlineData("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", "72f988bf-86f1-41af-91ab-2d7cd011db47")]
    [InlineData("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/authorize", "contoso.onmicrosoft.com")]
    public void TenantOf_AuthorizationUri_IsItsFirstPathSegment(string authorization, string tenant)
    {
        Assert.Equal(tenant, ChallengeBasedAuthenticationPolicy.TenantOf(authorization));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("https://login.microsoftonline.com/")]
    [InlineData("not a uri")]
    public void TenantOf_NoTenant_Throws(string? authorization)
    {
        Assert.Throws<InvalidOperationException>(() => ChallengeBasedAuthenticationPolicy.TenantOf(authorization));
    }
}
