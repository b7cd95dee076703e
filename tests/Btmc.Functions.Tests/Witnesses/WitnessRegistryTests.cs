using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Btmc.Functions.Tests.Governance;
using Btmc.Ledger.Transparency;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;

namespace Btmc.Functions.Tests.Witnesses;

/// <summary>The witness registry over HTTP: an operator adds and removes witnesses without a committee; anyone lists
/// them; duplicates, malformed verifier keys, non-operators and direct changes beside a committee are refused.</summary>
public sealed class WitnessRegistryTests
{
    internal static Cosigner Witness(string name, byte seed) =>
        Cosigner.OfEd25519(name, new Ed25519PrivateKeyParameters(Enumerable.Repeat(seed, 32).ToArray()));

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone());
    }

    [Fact]
    public async Task AddListRemove_AsTheOperator_TheListFollowsAndIsPublic()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        using var operatorClient = server.ClientAs("operator");
        using var anonymous = server.ClientAs(null);
        var witness = Witness("witness.test/w1", 1);

        var (added, body) = await SendAsync(operatorClient, HttpMethod.Post, "api/witnesses", new { verifierKey = witness.ToVerifierKey() });
        var (_, listed) = await SendAsync(anonymous, HttpMethod.Get, "api/witnesses");
        var (removed, _) = await SendAsync(operatorClient, HttpMethod.Delete, "api/witnesses/witness.test/w1");
        var (_, after) = await SendAsync(anonymous, HttpMethod.Get, "api/witnesses");

        Assert.True(added == HttpStatusCode.Created, body.ToString());
        Assert.Equal(witness.ToVerifierKey(), listed.GetProperty("witnesses")[0].GetProperty("verifierKey").GetString());
        Assert.Equal("witness.test/w1", listed.GetProperty("witnesses")[0].GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NoContent, removed);
        Assert.Equal(0, after.GetProperty("witnesses").GetArrayLength());

        // The witness records replay: an audit of the governance chain accepts them.
        var verify = await server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
    }

    [Fact]
    public async Task Add_DuplicateMalformedOrByANonOperator_RefusedNamingTheField()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.AddPartnerAsync("fab-a", ["4012345"]);
        using var operatorClient = server.ClientAs("operator");
        using var fab = server.ClientAs("fab-a");
        var witness = Witness("witness.test/w1", 1);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(operatorClient, HttpMethod.Post, "api/witnesses", new { verifierKey = witness.ToVerifierKey() })).Status);

        var (duplicate, duplicateBody) = await SendAsync(operatorClient, HttpMethod.Post, "api/witnesses", new { verifierKey = witness.ToVerifierKey() });
        var (sameKey, sameKeyBody) = await SendAsync(operatorClient, HttpMethod.Post, "api/witnesses", new { verifierKey = Witness("witness.test/w2", 1).ToVerifierKey() });
        var (malformed, malformedBody) = await SendAsync(operatorClient, HttpMethod.Post, "api/witnesses", new { verifierKey = "witness.test/w3+00000000+AAAA" });
        var (forbidden, _) = await SendAsync(fab, HttpMethod.Post, "api/witnesses", new { verifierKey = Witness("witness.test/w4", 4).ToVerifierKey() });
        var (missing, _) = await SendAsync(operatorClient, HttpMethod.Delete, "api/witnesses/nobody");

        Assert.Equal((HttpStatusCode.Conflict, "name"), (duplicate, duplicateBody.GetProperty("field").GetString()));
        Assert.Equal((HttpStatusCode.Conflict, "verifierKey"), (sameKey, sameKeyBody.GetProperty("field").GetString()));
        Assert.Equal((HttpStatusCode.BadRequest, "verifierKey"), (malformed, malformedBody.GetProperty("field").GetString()));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Fact]
    public async Task OperatorAdd_OnALedgerWithACommittee_409AndTheProposalRegistersIt()
    {
        await using var committee = await Committee.StartAsync();
        using var operatorClient = committee.Server.ClientAs("operator");
        var witness = Witness("witness.test/w1", 1);

        var (direct, problem) = await SendAsync(operatorClient, HttpMethod.Post, "api/witnesses", new { verifierKey = witness.ToVerifierKey() });
        var id = await committee.ProposeAsync("alice", "add-witness", "--witness-key", witness.ToVerifierKey());
        var show = await committee.BtmcAsync("committee", "show", id);
        await committee.SignAsync("bob", id);
        var third = await committee.SignAsync("carol", id);
        var listed = await committee.Server.GetJsonAsync("api/witnesses");

        Assert.Equal((HttpStatusCode.Conflict, "committee"), (direct, problem.GetProperty("field").GetString()));
        Assert.Contains($"action: add-witness\nwitness: witness.test/w1\nverifier-key: {witness.ToVerifierKey()}\n", show.Output, StringComparison.Ordinal);
        Assert.True(third.Exit == 0, third.Error);
        Assert.Equal("witness.test/w1", listed.GetProperty("witnesses")[0].GetProperty("name").GetString());
    }
}
