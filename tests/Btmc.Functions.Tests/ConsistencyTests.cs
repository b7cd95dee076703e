using System.Net;
using System.Text.Json;
using Xunit;
using static Btmc.Functions.Tests.CaptureEndpointsTests;
using static Btmc.Functions.Tests.TestEvents;

namespace Btmc.Functions.Tests;

/// <summary>Physical consistency at capture (409 for clones, double consumption and double aggregation) over HTTP.</summary>
public sealed class ConsistencyTests
{
    private const string Epc = "urn:epc:id:sgtin:0614141.200001.1";
    private const string Other = "urn:epc:id:sgtin:0614141.200001.2";
    private const string Output1 = "urn:epc:id:sgtin:0614141.200002.1";
    private const string Output2 = "urn:epc:id:sgtin:0614141.200002.2";
    private const string Pallet1 = "urn:epc:id:sscc:0614141.0000000101";
    private const string Pallet2 = "urn:epc:id:sscc:0614141.0000000102";
    private const string Crate = "urn:epc:id:giai:0614141.CRATE7";

    [Fact]
    public async Task Capture_EpcCommissionedAgain_Returns409NamingTheSealedEventAndAcceptsNothing()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var first = (await server.CaptureSealedAsync(Commission(Epc, 0)))[0];

        var (status, body, response) = await server.CaptureAsync(Document(Commission(Other, 5), Commission(Epc, 5)));

        AssertConflict(status, body, response, eventIndex: 1, "/epcisBody/eventList/1/epcList/0", first, "sealed in");
        await AssertNotQueryableAsync(server, Other);
        await AssertNothingAcceptedAsync(server, entries: 1, Commission(Other, 5));
    }

    [Fact]
    public async Task Capture_EpcCommissionedAgainInItsDigitalLinkSpelling_Returns409()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var first = (await server.CaptureSealedAsync(Commission(Epc, 0)))[0];
        var digitalLink = Btmc.Epcis.EventTerms.CanonicalEpc(Epc);

        var (status, body, response) = await server.CaptureAsync(Document(Commission(digitalLink, 5).Replace("\"commissioning\"", "\"https://ref.gs1.org/cbv/BizStep-commissioning\"", StringComparison.Ordinal)));

        AssertConflict(status, body, response, eventIndex: 0, "/epcisBody/eventList/0/epcList/0", first, "sealed in");
    }

    [Fact]
    public async Task Capture_InputConsumedAgain_Returns409PointingAtTheInput()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var first = (await server.CaptureSealedAsync(Transformation([Epc], [Output1], 10)))[0];

        var (status, body, response) = await server.CaptureAsync(Document(Commission(Output2, 15), Transformation([Other, Epc], [Output2], 20)));

        AssertConflict(status, body, response, eventIndex: 1, "/epcisBody/eventList/1/inputEPCList/1", first, "sealed in");
        await AssertNothingAcceptedAsync(server, entries: 1, Transformation([Other], [Output2], 20));
    }

    [Fact]
    public async Task Capture_ChildAggregatedIntoSecondParent_Returns409PointingAtTheChild()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var first = (await server.CaptureSealedAsync(Aggregation("ADD", Pallet1, [Epc], 10)))[0];

        var (status, body, response) = await server.CaptureAsync(Document(Aggregation("ADD", Pallet2, [Other, Epc], 20)));

        AssertConflict(status, body, response, eventIndex: 0, "/epcisBody/eventList/0/childEPCs/1", first, "sealed in");
        Assert.Contains(Btmc.Epcis.EventTerms.CanonicalEpc(Pallet1), body.GetProperty("errors")[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNothingAcceptedAsync(server, entries: 1, Aggregation("ADD", Pallet2, [Other], 20));
    }

    [Fact]
    public async Task Capture_ChildAggregatedIntoTheSameParentAgain_Accepted()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.CaptureSealedAsync(Aggregation("ADD", Pallet1, [Epc], 10));

        await server.CaptureSealedAsync(Aggregation("ADD", Pallet1, [Epc, Other], 20));
    }

    [Theory]
    [InlineData("child named")]
    [InlineData("parent emptied")]
    public async Task Capture_DisaggregatedThenAggregatedIntoAnotherParent_Accepted(string delete)
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.CaptureSealedAsync(Aggregation("ADD", Pallet1, [Epc], 10));
        await server.CaptureSealedAsync(Aggregation("DELETE", Pallet1, delete == "child named" ? [Epc] : [], 20));

        await server.CaptureSealedAsync(Aggregation("ADD", Crate, [Epc], 30));
    }

    [Fact]
    public async Task Capture_DisaggregateAndReaggregateInOneDocument_Accepted()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        await server.CaptureSealedAsync(Aggregation("ADD", Pallet1, [Epc], 10), Aggregation("DELETE", Pallet1, [Epc], 20), Aggregation("ADD", Pallet2, [Epc], 30));
    }

    [Fact]
    public async Task Capture_AggregatedElsewhereBeforeTheDeleteByEventTime_Returns409()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var first = (await server.CaptureSealedAsync(Aggregation("ADD", Pallet1, [Epc], 10)))[0];
        await server.CaptureSealedAsync(Aggregation("DELETE", Pallet1, [Epc], 30));

        // Captured after the DELETE, but happened before it: the child was still on the first pallet.
        var (status, body, response) = await server.CaptureAsync(Document(Aggregation("ADD", Pallet2, [Epc], 20)));

        AssertConflict(status, body, response, eventIndex: 0, "/epcisBody/eventList/0/childEPCs/0", first, "sealed in");
    }

    [Fact]
    public async Task Capture_DeleteOfAnotherChild_DoesNotFreeTheChild()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var first = (await server.CaptureSealedAsync(Aggregation("ADD", Pallet1, [Epc, Other], 10)))[0];
        await server.CaptureSealedAsync(Aggregation("DELETE", Pallet1, [Other], 20));

        var (status, body, response) = await server.CaptureAsync(Document(Aggregation("ADD", Pallet2, [Epc], 30)));

        AssertConflict(status, body, response, eventIndex: 0, "/epcisBody/eventList/0/childEPCs/0", first, "sealed in");
    }

    [Fact]
    public async Task Capture_ConflictWithAcceptedUnsealedEvent_Returns409NamingIt()
    {
        // Nothing is sealed for a minute: the first commissioning is only accepted.
        await using var server = await LocalServer.StartInProcessAsync(null, "--Supply:SealMaxDelayMilliseconds", "60000");
        var accepted = await server.CaptureAsync(Document(Commission(Epc, 0)));
        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        var first = accepted.Body.GetProperty("eventIds")[0].GetString()!;

        var (status, body, response) = await server.CaptureAsync(Document(Commission(Epc, 5)));

        AssertConflict(status, body, response, eventIndex: 0, "/epcisBody/eventList/0/epcList/0", first, "awaiting sealing");
        Assert.Equal(1, (await server.GetJsonAsync("api/ledger/chains")).GetProperty("pending").GetInt32());
    }

    [Fact]
    public async Task Capture_ConsumedTwiceWhileTheFirstIsUnsealed_Returns409()
    {
        await using var server = await LocalServer.StartInProcessAsync(null, "--Supply:SealMaxDelayMilliseconds", "60000");
        var accepted = await server.CaptureAsync(Document(Transformation([Epc], [Output1], 10)));
        var first = accepted.Body.GetProperty("eventIds")[0].GetString()!;

        var (status, body, response) = await server.CaptureAsync(Document(Transformation([Epc], [Output2], 20)));

        AssertConflict(status, body, response, eventIndex: 0, "/epcisBody/eventList/0/inputEPCList/0", first, "awaiting sealing");
    }

    [Fact]
    public async Task Capture_ConflictWithinOneDocument_Returns409AndSealsNeither()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        var (status, body, response) = await server.CaptureAsync(Document(Commission(Other, 0), Commission(Epc, 1), Aggregation("ADD", Pallet1, [Other], 2), Aggregation("ADD", Pallet2, [Other], 3)));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var error = Assert.Single(body.GetProperty("errors").EnumerateArray());
        Assert.Equal(3, error.GetProperty("eventIndex").GetInt32());
        Assert.Equal("/epcisBody/eventList/3/childEPCs/0", error.GetProperty("pointer").GetString());
        await AssertNotQueryableAsync(server, Other);
        await AssertNotQueryableAsync(server, Pallet1);
        await AssertNothingAcceptedAsync(server, entries: 0, Commission(Other, 0), Commission(Epc, 1), Aggregation("ADD", Pallet1, [Other], 2));
    }

    [Fact]
    public async Task Capture_CommissionedTwiceWithinOneDocument_Returns409ForTheSecond()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        var (status, body, _) = await server.CaptureAsync(Document(Commission(Epc, 0), Commission(Epc, 1)));

        Assert.Equal(HttpStatusCode.Conflict, status);
        var error = Assert.Single(body.GetProperty("errors").EnumerateArray());
        Assert.Equal("/epcisBody/eventList/1/epcList/0", error.GetProperty("pointer").GetString());
        await AssertNothingAcceptedAsync(server, entries: 0, Commission(Epc, 0));
    }

    [Fact]
    public async Task Capture_ErrorDeclarationOfTheCommissioning_LetsTheCorrectiveCommissioningThrough()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        const string original = "urn:uuid:5c1b8f0e-2b7a-4d8e-9a51-000000000001";
        const string corrective = "urn:uuid:5c1b8f0e-2b7a-4d8e-9a51-000000000002";
        var first = (await server.CaptureSealedAsync(Commission(Epc, 0, original)))[0];
        var refused = await server.CaptureAsync(Document(Commission(Epc, 1, corrective)));
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);

        var declaration = Commission(Epc, 0, original)[..^1] +
            $",\"errorDeclaration\":{{\"declarationTime\":\"2026-11-22T11:00:00.000Z\",\"reason\":\"incorrect_data\",\"correctiveEventIDs\":[\"{corrective}\"]}}}}";
        var declared = await server.CaptureSealedAsync(declaration);
        var corrected = await server.CaptureSealedAsync(Commission(Epc, 1, corrective));

        Assert.StartsWith(first, declared[0], StringComparison.Ordinal);
        Assert.NotEqual(first, declared[0]);
        Assert.NotEqual(first, corrected[0]);
    }

    [Fact]
    public async Task Capture_CorrectiveCommissioningInTheDocumentOfTheErrorDeclaration_Accepted()
    {
        await using var server = await LocalServer.StartInProcessAsync(null, "--Supply:SealMaxDelayMilliseconds", "60000");
        const string original = "urn:uuid:5c1b8f0e-2b7a-4d8e-9a51-000000000003";
        const string corrective = "urn:uuid:5c1b8f0e-2b7a-4d8e-9a51-000000000004";
        Assert.Equal(HttpStatusCode.Accepted, (await server.CaptureAsync(Document(Commission(Epc, 0, original)))).Status);
        var declaration = Commission(Epc, 0, original)[..^1] +
            $",\"errorDeclaration\":{{\"declarationTime\":\"2026-11-22T11:00:00.000Z\",\"reason\":\"incorrect_data\",\"correctiveEventIDs\":[\"{corrective}\"]}}}}";

        var (status, body, _) = await server.CaptureAsync(Document(declaration, Commission(Epc, 1, corrective)));

        Assert.True(status == HttpStatusCode.Accepted, body.ToString());
    }

    [Fact]
    public async Task Capture_ParallelCommissioningsOfOneEpc_ExactlyOneAccepted()
    {
        // Sealing as often as possible, so that events are sealed (and their claims released) amid the checks.
        await using var server = await LocalServer.StartInProcessAsync(null, "--Supply:SealMaxDelayMilliseconds", "1");
        const int rounds = 8;
        const int captures = 16;
        for (var round = 0; round < rounds; round++)
        {
            var epc = $"urn:epc:id:sgtin:0614141.300001.{round}";

            var results = await Task.WhenAll(Enumerable.Range(0, captures).Select(i => Task.Run(() => server.CaptureAsync(Document(Commission(epc, i))))));

            var accepted = results.Where(r => r.Status == HttpStatusCode.Accepted).ToList();
            Assert.True(accepted.Count == 1, $"round {round}: {accepted.Count} commissionings of {epc} accepted");
            Assert.Equal(captures - 1, results.Count(r => r.Status == HttpStatusCode.Conflict));
            await server.WaitSealedAsync(accepted[0].Body.GetProperty("captureId").GetString()!);
        }

        var chains = await server.GetJsonAsync("api/ledger/chains");
        Assert.Equal(rounds, chains.GetProperty("totalEntries").GetInt64());
        Assert.Equal(0, chains.GetProperty("pending").GetInt32());
    }

    private static void AssertConflict(HttpStatusCode status, JsonElement body, HttpResponseMessage response, int eventIndex, string pointer, string conflictingEventId, string where)
    {
        Assert.True(status == HttpStatusCode.Conflict, $"{(int)status} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(409, body.GetProperty("status").GetInt32());
        var error = Assert.Single(body.GetProperty("errors").EnumerateArray());
        Assert.Equal(eventIndex, error.GetProperty("eventIndex").GetInt32());
        Assert.Equal(pointer, error.GetProperty("pointer").GetString());
        var detail = error.GetProperty("detail").GetString();
        Assert.Contains(conflictingEventId, detail, StringComparison.Ordinal);
        Assert.Contains(where, detail, StringComparison.Ordinal);
    }

    private static async Task AssertNotQueryableAsync(LocalServer server, string epc)
    {
        var result = await server.GetJsonAsync("api/epcis/events?MATCH_anyEPC=" + Uri.EscapeDataString(epc));
        var events = result.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList");
        Assert.Equal(0, events.GetArrayLength());
    }

    /// <summary>The ledger holds <paramref name="entries"/> and nothing pending, and each of <paramref name="events"/>
    /// (from a refused document) is new when captured on its own.</summary>
    private static async Task AssertNothingAcceptedAsync(LocalServer server, int entries, params string[] events)
    {
        var chains = await server.GetJsonAsync("api/ledger/chains");
        Assert.Equal(entries, chains.GetProperty("totalEntries").GetInt64());
        Assert.Equal(0, chains.GetProperty("pending").GetInt32());
        foreach (var evt in events)
        {
            var (status, body, _) = await server.CaptureAsync(Document(evt));
            Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
            Assert.Equal(1, body.GetProperty("newEvents").GetInt32());
        }
    }
}
