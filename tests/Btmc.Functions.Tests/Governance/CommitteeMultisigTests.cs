using System.Net;
using System.Net.Http.Json;
using System.Text;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Platform.Keys;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests.Governance;

/// <summary>The committee's 3-of-5 multisignature end to end: members sign with their own key files through the CLI,
/// over HTTP, and the ledger records and verifies every step.</summary>
public sealed class CommitteeMultisigTests
{
    private const string HolderAccount = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U";

    [Fact]
    public async Task TwoOfFive_IsNotExecuted()
    {
        await using var committee = await Committee.StartAsync();

        var id = await committee.ProposeAsync("alice", "allocate-tokens", "--account", HolderAccount, "--amount", "500");
        var (exit, _, error) = await committee.SignAsync("bob", id);

        Assert.True(exit == 0, error);
        var proposal = await committee.ProposalAsync(id);
        Assert.Equal("open", proposal.GetProperty("status").GetString());
        Assert.Equal(["alice", "bob"], proposal.GetProperty("approvals").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(0, (await committee.Server.GetJsonAsync($"api/governance/accounts/{HolderAccount}")).GetProperty("holdings").GetInt64());
        Assert.DoesNotContain($"governance:execution:{id}", await committee.GovernanceRecordIdsAsync());
    }

    [Fact]
    public async Task ThreeDistinct_ExecutesOnceAndSealsProposalApprovalsAndExecution()
    {
        await using var committee = await Committee.StartAsync();
        var id = await committee.ProposeAsync("alice", "allocate-tokens", "--account", HolderAccount, "--amount", "500");
        Assert.Equal(0, (await committee.SignAsync("bob", id)).Exit);

        var third = await committee.SignAsync("carol", id);
        var late = await committee.SignAsync("dave", id);

        Assert.True(third.Exit == 0, third.Error);
        Assert.Contains("# status: executed", third.Output, StringComparison.Ordinal);
        Assert.Equal(1, late.Exit);
        Assert.Contains("409", late.Error, StringComparison.Ordinal);
        Assert.Contains("has been executed", late.Error, StringComparison.Ordinal);
        Assert.Equal(500, (await committee.Server.GetJsonAsync($"api/governance/accounts/{HolderAccount}")).GetProperty("holdings").GetInt64());
        var records = await committee.GovernanceRecordIdsAsync();
        Assert.Equal(
            ["governance:genesis", "governance:partners-import", $"governance:proposal:{id}", $"governance:approval:{id}:alice", $"governance:approval:{id}:bob", $"governance:approval:{id}:carol", $"governance:execution:{id}"],
            records);
        var verify = await committee.Server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
    }

    [Fact]
    public async Task SameMemberTwice_CountsOnce()
    {
        await using var committee = await Committee.StartAsync();
        var id = await committee.ProposeAsync("alice", "set-parameter", "--parameter", "vote.max-producers", "--value", "10");

        var again = await committee.SignAsync("alice", id);
        var bob = await committee.SignAsync("bob", id);

        Assert.Equal(1, again.Exit);
        Assert.Contains("has approved proposal", again.Error, StringComparison.Ordinal);
        Assert.Equal(0, bob.Exit);
        var proposal = await committee.ProposalAsync(id);
        Assert.Equal("open", proposal.GetProperty("status").GetString());
        Assert.Equal(2, proposal.GetProperty("approvals").GetArrayLength());
    }

    [Fact]
    public async Task RemovedMember_IsRejectedAndTheirPendingApprovalStopsCounting()
    {
        await using var committee = await Committee.StartAsync();
        var pending = await committee.ProposeAsync("erin", "allocate-tokens", "--account", HolderAccount, "--amount", "7");
        Assert.Equal(0, (await committee.BtmcAsync("committee", "keygen", "--out", Path.Combine(committee.KeysPath, "frank.pem"))).Exit);
        var replace = await committee.ProposeAsync("alice", "replace-member", "--old-member", "erin", "--new-member", "frank", "--public-key", Path.Combine(committee.KeysPath, "frank.pem"));
        Assert.Equal(0, (await committee.SignAsync("bob", replace)).Exit);
        Assert.Equal(0, (await committee.SignAsync("carol", replace)).Exit);

        var erin = await committee.SignAsync("erin", replace);
        Assert.Equal(2, erin.Exit);
        Assert.Contains("no committee member's key", erin.Error, StringComparison.Ordinal);

        // Erin's approval of the pending proposal no longer counts: with bob and carol it is still two of three.
        Assert.Equal(0, (await committee.SignAsync("bob", pending)).Exit);
        Assert.Equal(0, (await committee.SignAsync("carol", pending)).Exit);
        var proposal = await committee.ProposalAsync(pending);
        Assert.Equal("open", proposal.GetProperty("status").GetString());
        Assert.Equal(["bob", "carol"], proposal.GetProperty("approvals").EnumerateArray().Select(a => a.GetString()));

        // A removed member's signature sent straight to the API is refused as well.
        using var erinKey = LocalKeyFileSigner.Open(committee.KeyOf("erin"));
        var payload = ProposalPayload.Parse(proposal.GetProperty("payload").GetString()!);
        var response = await committee.Server.Http.PostAsJsonAsync($"api/governance/proposals/{pending}/approvals",
            new { member = "erin", signature = Convert.ToBase64String(await erinKey.SignDigestAsync(payload.Digest)) });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'erin' is not a committee member", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, (await committee.SignAsync("frank", pending)).Exit);
        Assert.Equal("executed", (await committee.ProposalAsync(pending)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task WrongPayloadDomainOrExpiry_AreRefusedNamingTheField()
    {
        await using var committee = await Committee.StartAsync();
        var overview = await committee.Server.GetJsonAsync("api/governance");
        var domain = overview.GetProperty("domain").GetString()!;
        using var alice = LocalKeyFileSigner.Open(committee.KeyOf("alice"));
        var good = ProposalPayload.Create(domain, DateTimeOffset.UtcNow.AddHours(1), new AllocateTokens(HolderAccount, 1));
        var otherDomain = good with { Domain = "btmc/another-deployment/governance" };

        var wrongDomain = await PostProposalAsync(committee, otherDomain.Text, "alice", await alice.SignDigestAsync(otherDomain.Digest));
        var wrongPayload = await PostProposalAsync(committee, good.Text, "alice", await alice.SignDigestAsync(otherDomain.Digest));
        var notCanonical = await PostProposalAsync(committee, good.Text.Replace("amount: 1", "amount: 01", StringComparison.Ordinal), "alice", await alice.SignDigestAsync(good.Digest));
        var expired = good with { Expires = DateTimeOffset.UtcNow.AddSeconds(-5).AddTicks(-DateTimeOffset.UtcNow.Ticks % TimeSpan.TicksPerSecond) };
        var tooOld = await PostProposalAsync(committee, expired.Text, "alice", await alice.SignDigestAsync(expired.Digest));

        Assert.Equal((HttpStatusCode.BadRequest, "domain"), wrongDomain);
        Assert.Equal((HttpStatusCode.BadRequest, "signature"), wrongPayload);
        Assert.Equal((HttpStatusCode.BadRequest, "amount"), notCanonical);
        Assert.Equal((HttpStatusCode.Conflict, "expires"), tooOld);
        Assert.Empty((await committee.Server.GetJsonAsync("api/governance/proposals")).GetProperty("proposals").EnumerateArray());
    }

    [Fact]
    public async Task ApprovalAfterExpiry_IsRefused()
    {
        await using var committee = await Committee.StartAsync();
        var id = await committee.ProposeAsync("alice", "allocate-tokens", "--account", HolderAccount, "--amount", "3", "--expires-in", "0.0006");
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        var bob = await committee.SignAsync("bob", id);

        Assert.Equal(1, bob.Exit);
        Assert.Contains("expired", bob.Error, StringComparison.Ordinal);
        Assert.Equal("expired", (await committee.ProposalAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ConcurrentApprovals_ExecuteExactlyOnce()
    {
        await using var committee = await Committee.StartAsync();
        var id = await committee.ProposeAsync("alice", "allocate-tokens", "--account", HolderAccount, "--amount", "1000");

        var results = await Task.WhenAll(new[] { "bob", "carol", "dave", "erin" }.Select(m => committee.SignAsync(m, id)));

        Assert.Equal(1, (await committee.GovernanceRecordIdsAsync()).Count(r => r == $"governance:execution:{id}"));
        Assert.Equal(1000, (await committee.Server.GetJsonAsync($"api/governance/accounts/{HolderAccount}")).GetProperty("holdings").GetInt64());
        Assert.Equal(1000, (await committee.Server.GetJsonAsync("api/governance")).GetProperty("supply").GetInt64());
        // Two of the four approvals complete the threshold with alice's; the ones that arrive after the execution are refused.
        Assert.Equal(2, results.Count(r => r.Exit == 0));
        Assert.All(results.Where(r => r.Exit != 0), r => Assert.Contains("has been executed", r.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConcurrentApprovalsOnTwoInstances_ExecuteExactlyOnce()
    {
        await using var committee = await Committee.StartTwoInstancesAsync();
        var id = await committee.ProposeAsync("alice", "allocate-tokens", "--account", HolderAccount, "--amount", "1000");

        var results = await Task.WhenAll(
            committee.SignAsync("bob", id, committee.Server),
            committee.SignAsync("carol", id, committee.Second),
            committee.SignAsync("dave", id, committee.Server),
            committee.SignAsync("erin", id, committee.Second));

        var records = await committee.GovernanceRecordIdsAsync();
        Assert.Equal(1, records.Count(r => r == $"governance:execution:{id}"));
        // Alice's, and the two that reached the threshold; the later two were refused.
        Assert.Equal(3, records.Count(r => r.StartsWith($"governance:approval:{id}:", StringComparison.Ordinal)));
        Assert.Equal(2, results.Count(r => r.Exit == 0));
        Assert.All(results.Where(r => r.Exit != 0), r => Assert.Contains("has been executed", r.Error, StringComparison.Ordinal));
        foreach (var server in new[] { committee.Server, committee.Second! })
        {
            Assert.Equal(1000, (await server.GetJsonAsync($"api/governance/accounts/{HolderAccount}")).GetProperty("holdings").GetInt64());
            var verify = await server.GetJsonAsync("api/ledger/verify");
            Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
        }
    }

    [Fact]
    public async Task Show_PrintsExactlyTheSignedPayloadAndItsDigest()
    {
        await using var committee = await Committee.StartAsync();
        var id = await committee.ProposeAsync("alice", "set-parameter", "--parameter", "proposal.max-lifetime-hours", "--value", "48");

        var (exit, output, _) = await committee.BtmcAsync("committee", "show", id);

        Assert.Equal(0, exit);
        var payload = (await committee.ProposalAsync(id)).GetProperty("payload").GetString()!;
        Assert.StartsWith(payload + "\n# digest", output, StringComparison.Ordinal);
        Assert.Equal(id, Hash32.Compute(Encoding.UTF8.GetBytes(payload)).ToHex());
        Assert.Contains($"# digest (SHA-256 of the text above, what members sign): {id}", output, StringComparison.Ordinal);
        Assert.Contains("action: set-parameter\nparameter: proposal.max-lifetime-hours\nvalue: 48\n", payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MemberWithAKeyVaultKey_SignsInTheVaultAndOnlyTheSignatureIsSent()
    {
        await using var vault = await LoopbackKeyVault.StartAsync();
        await using var committee = await Committee.StartAsync(vault);
        var id = await committee.ProposeAsync("alice", "allocate-tokens", "--account", HolderAccount, "--amount", "9");
        Assert.Equal(0, (await committee.SignAsync("bob", id)).Exit);

        var carol = await committee.SignAsync("carol", id);

        Assert.True(carol.Exit == 0, carol.Error);
        Assert.Contains("# status: executed", carol.Output, StringComparison.Ordinal);
        var sign = Assert.Single(vault.Requests, r => r.Method == "POST" && r.Path.EndsWith("/sign", StringComparison.Ordinal) && r.Authorization is not null);
        Assert.Contains("\"alg\":\"ES256K\"", Encoding.UTF8.GetString(sign.Body), StringComparison.Ordinal);
        Assert.Contains($"\"value\":\"{System.Buffers.Text.Base64Url.EncodeToString(Convert.FromHexString(id))}\"", Encoding.UTF8.GetString(sign.Body), StringComparison.Ordinal);
        Assert.Equal(9, (await committee.Server.GetJsonAsync($"api/governance/accounts/{HolderAccount}")).GetProperty("holdings").GetInt64());
        var verify = await committee.Server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
    }

    private static async Task<(HttpStatusCode, string?)> PostProposalAsync(Committee committee, string payload, string member, byte[] signature)
    {
        using var response = await committee.Server.Http.PostAsJsonAsync("api/governance/proposals", new { payload, member, signature = Convert.ToBase64String(signature) });
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (response.StatusCode, body.TryGetProperty("field", out var field) ? field.GetString() : body.ToString());
    }
}
