using System.Net;
using System.Text.Json;
using Btmc.Governance;
using Xunit;

namespace Btmc.Functions.Tests.Governance;

/// <summary>Partners on a ledger with a committee: added, and allowed to void another's event, by 3-of-5 proposals.</summary>
public sealed class CommitteePartnerTests
{
    private const string FabChip = "urn:epc:id:sgtin:4012345.000010.";

    [Fact]
    public async Task AddPartnerProposal_ExecutedOnTheThirdApproval_ThePartnerCapturesUnderItsPrefix()
    {
        await using var committee = await Committee.StartAsync();
        var key = PartnerDirectory.NewKey();

        var id = await committee.ProposeAsync("alice", "add-partner", "--partner", "fab-a", "--prefix", "4012345", "--api-key-sha256", PartnerDirectory.HashKey(key));
        var show = await committee.BtmcAsync("committee", "show", id);
        var (before, _, _) = await CaptureAsync(committee.Server, key, FabChip + "1");
        await committee.SignAsync("bob", id);
        var third = await committee.SignAsync("carol", id);
        var (after, body, _) = await CaptureAsync(committee.Server, key, FabChip + "1");

        Assert.True(show.Exit == 0, show.Error);
        Assert.Contains("action: add-partner\npartner: fab-a\n", show.Output, StringComparison.Ordinal);
        Assert.Contains("prefixes: 4012345\n", show.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, before);
        Assert.True(third.Exit == 0, third.Error);
        Assert.True(after == HttpStatusCode.Accepted, body.ToString());
    }

    [Fact]
    public async Task OperatorAddPartner_OnALedgerWithACommittee_409NamingTheCommittee()
    {
        await using var committee = await Committee.StartAsync();
        using var operatorClient = committee.Server.ClientAs("operator");

        using var response = await operatorClient.PostAsync("api/partners", new StringContent("{\"id\":\"fab-a\",\"prefixes\":[\"4012345\"]}", System.Text.Encoding.UTF8, "application/json"));
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("committee", problem.RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public async Task DeclareErrorProposal_Executed_AnotherPartnerMayDeclareTheEventErroneous()
    {
        await using var committee = await Committee.StartAsync();
        var fabKey = PartnerDirectory.NewKey();
        var osatKey = PartnerDirectory.NewKey();
        foreach (var (partner, prefix, key) in new[] { ("fab-a", "4012345", fabKey), ("osat-b", "4098765", osatKey) })
        {
            var add = await committee.ProposeAsync("alice", "add-partner", "--partner", partner, "--prefix", prefix, "--api-key-sha256", PartnerDirectory.HashKey(key));
            await committee.SignAsync("bob", add);
            Assert.Equal(0, (await committee.SignAsync("carol", add)).Exit);
        }

        var commission = TestEvents.Commission(FabChip + "2", 1);
        var (captured, body, _) = await CaptureAsync(committee.Server, fabKey, FabChip + "2");
        Assert.Equal(HttpStatusCode.Accepted, captured);
        await committee.Server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        var eventId = body.GetProperty("eventIds")[0].GetString()!;
        var declaration = commission[..^1] + ",\"errorDeclaration\":{\"declarationTime\":\"2026-11-22T11:00:00.000Z\",\"reason\":\"incorrect_data\"}}";
        var (refused, _, _) = await CaptureDocumentAsync(committee.Server, osatKey, CaptureEndpointsTests.Document(declaration));

        var proposal = await committee.ProposeAsync("alice", "declare-error", "--event", eventId);
        await committee.SignAsync("bob", proposal);
        Assert.Equal(0, (await committee.SignAsync("carol", proposal)).Exit);
        var (accepted, acceptedBody, _) = await CaptureDocumentAsync(committee.Server, osatKey, CaptureEndpointsTests.Document(declaration));

        Assert.Equal(HttpStatusCode.Forbidden, refused);
        Assert.True(accepted == HttpStatusCode.Accepted, acceptedBody.ToString());
    }

    private static Task<(HttpStatusCode, JsonElement, string)> CaptureAsync(LocalServer server, string key, string epc) =>
        CaptureDocumentAsync(server, key, CaptureEndpointsTests.Document(TestEvents.Commission(epc, 1)));

    private static async Task<(HttpStatusCode, JsonElement, string)> CaptureDocumentAsync(LocalServer server, string key, byte[] document)
    {
        using var client = server.ClientAs(null);
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        using var content = new ByteArrayContent(document);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/ld+json");
        using var response = await client.PostAsync("api/epcis/capture", content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone(), text);
    }
}
