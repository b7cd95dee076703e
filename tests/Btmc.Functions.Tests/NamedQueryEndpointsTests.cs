using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>Named queries (EPCIS 2.0 <c>/queries</c>, docs/epcis-query.md "Named queries") over HTTP.</summary>
public sealed class NamedQueryEndpointsTests
{
    private static string Shipping(string epc, int minute) =>
        $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{TestEvents.Time(minute)}\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"OBSERVE\"," +
        $"\"epcList\":[\"{epc}\"],\"bizStep\":\"shipping\",\"readPoint\":{{\"id\":\"urn:epc:id:sgln:0614141.00777.0\"}}}}";

    [Fact]
    public async Task RunNamedQuery_StoredByOnePartner_RunsWithItsParametersAndPagingAndIsNobodyElses()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await server.AddPartnerAsync("fab", ["0614141"]);
        await server.AddPartnerAsync("rival", ["4055555"]);
        using var fab = server.ClientAs("fab");
        using var rival = server.ClientAs("rival");
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(
            TestEvents.Commission("urn:epc:id:sgtin:0614141.900001.1", 0), Shipping("urn:epc:id:sgtin:0614141.900001.1", 1), Shipping("urn:epc:id:sgtin:0614141.900001.2", 2)), "fab");
        Assert.True(status == HttpStatusCode.Accepted, body.ToString());
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        // Parameter names as written (a dictionary: an anonymous type's members would be camel-cased on the way out).
        var definition = new { name = "shipped", query = new Dictionary<string, object> { ["EQ_bizStep"] = new[] { "shipping" }, ["eventType"] = "ObjectEvent" } };

        using var created = await fab.PostAsJsonAsync("api/epcis/queries", definition);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        Assert.Equal("/api/epcis/queries/shipped", created.Headers.Location?.OriginalString);
        using var again = await fab.PostAsJsonAsync("api/epcis/queries", definition);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var other = await fab.PostAsJsonAsync("api/epcis/queries", new { name = "shipped", query = new Dictionary<string, object> { ["EQ_bizStep"] = "receiving" } });
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);

        var first = await fab.GetAsync("api/epcis/queries/shipped/events?perPage=1");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var next = first.Headers.GetValues("Link").Single();
        Assert.StartsWith("</api/epcis/queries/shipped/events?", next, StringComparison.Ordinal);
        var second = await fab.GetAsync(next[1..next.IndexOf('>', StringComparison.Ordinal)].TrimStart('/'));
        var events = (await Events(first)).Concat(await Events(second)).ToList();
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal("shipping", e.GetProperty("bizStep").GetString()));

        Assert.Equal(HttpStatusCode.NotFound, (await rival.GetAsync("api/epcis/queries/shipped")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await rival.GetAsync("api/epcis/queries/shipped/events")).StatusCode);
        Assert.Empty((await rival.GetFromJsonAsync<JsonElement>("api/epcis/queries")).GetProperty("queries").EnumerateArray());

        // The same definition under the rival's name runs with the rival's visibility: none of the fab's events.
        using var rivals = await rival.PostAsJsonAsync("api/epcis/queries", definition);
        Assert.Equal(HttpStatusCode.Created, rivals.StatusCode);
        Assert.Empty(await Events(await rival.GetAsync("api/epcis/queries/shipped/events")));

        Assert.Equal(HttpStatusCode.NoContent, (await fab.DeleteAsync("api/epcis/queries/shipped")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fab.GetAsync("api/epcis/queries/shipped")).StatusCode);
        Assert.Single((await rival.GetFromJsonAsync<JsonElement>("api/epcis/queries")).GetProperty("queries").EnumerateArray());
    }

    [Theory]
    [InlineData("{\"name\":\"bad name\",\"query\":{\"EQ_bizStep\":\"shipping\"}}", "name")]
    [InlineData("{\"name\":\"q\",\"query\":{\"EQ_nothing\":\"x\"}}", "query/EQ_nothing")]
    [InlineData("{\"name\":\"q\",\"query\":{\"perPage\":10}}", "query/perPage")]
    [InlineData("{\"name\":\"q\",\"query\":{\"EQ_bizStep\":{\"x\":1}}}", "query/EQ_bizStep")]
    [InlineData("{\"name\":\"q\"}", "query")]
    public async Task CreateNamedQuery_BadDefinition_400NamingTheMember(string body, string field)
    {
        await using var server = await LocalServer.StartInProcessAsync();

        using var response = await server.Http.PostAsync("api/epcis/queries", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    private static async Task<IReadOnlyList<JsonElement>> Events(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return document.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList").EnumerateArray().ToList();
    }
}
