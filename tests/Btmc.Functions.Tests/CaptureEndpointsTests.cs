using System.Net;
using System.Text;
using System.Text.Json;
using Btmc.Cli;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests;

public sealed class CaptureEndpointsTests
{
    /// <summary>Two GS1 examples give one eventID to different events; the later one is refused as a conflict.</summary>

    [Fact]
    public async Task Capture_EveryGs1Example_SealedWithReceiptsTheCliVerifies()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var examples = Directory.EnumerateFiles(SharedTestData.PathOf("epcis-examples"), "*.jsonld", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var eventIds = new HashSet<string>(StringComparer.Ordinal);
        var captures = new List<string>();
        foreach (var file in examples)
        {
            var (status, body, _) = await server.CaptureAsync(await File.ReadAllBytesAsync(file));
            switch (Path.GetFileName(file))
            {
                case "EPCISQueryDocument.jsonld":
                    Assert.Equal(HttpStatusCode.BadRequest, status);
                    Assert.Contains("not a capture document", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
                    break;
                default:
                    Assert.True(status == HttpStatusCode.Accepted, $"{file}: {(int)status} {body}");
                    captures.Add(body.GetProperty("captureId").GetString()!);
                    eventIds.UnionWith(body.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString()!));
                    break;
            }
        }

        foreach (var captureId in captures)
        {
            var status = await server.WaitSealedAsync(captureId);
            Assert.Empty(status.GetProperty("errors").EnumerateArray());
        }

        var receipts = Directory.CreateTempSubdirectory("btmc-receipts-");
        try
        {
            foreach (var (eventId, i) in eventIds.Select((id, i) => (id, i)))
            {
                var file = Path.Combine(receipts.FullName, $"{i}.json");
                var fetched = await BtmcCli.RunAsync(["receipt", eventId, "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--out", file], TextWriter.Null, TextWriter.Null);
                Assert.Equal(0, fetched);
                var output = new StringWriter();
                var error = new StringWriter();
                var verified = await BtmcCli.RunAsync(["verify-receipt", file], output, error);
                Assert.True(verified == 0, $"{eventId}: {error}");
                Assert.StartsWith("OK: " + eventId, output.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            receipts.Delete(recursive: true);
        }

        var chains = await server.GetJsonAsync("api/ledger/chains");
        Assert.Equal(eventIds.Count, chains.GetProperty("totalEntries").GetInt64());
    }

    [Theory]
    [InlineData("epcisDocWithSensorComponent")]
    [InlineData("epcisEventWithCURIEs")]
    [InlineData("epcisDocWithShippingAndTransportingEvent")]
    [InlineData("ReferenceEventHashAlgorithm")]
    public async Task Capture_XmlThenTheSameEventsAsJsonLd_SealedOnceUnderTheCbvHashIds(string vector)
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var xml = await File.ReadAllBytesAsync(SharedTestData.PathOf("epcis-hash", vector + ".xml"));
        var expected = (await File.ReadAllLinesAsync(SharedTestData.PathOf("epcis-hash", vector + ".hashes"))).Where(l => l.Length > 0).ToList();

        var fromXml = await server.CaptureAsync(xml, mediaType: "application/xml");
        var fromJson = await server.CaptureAsync(await File.ReadAllBytesAsync(SharedTestData.PathOf("epcis-hash", vector + ".jsonld")));

        Assert.True(fromXml.Status == HttpStatusCode.Accepted, fromXml.Body.ToString());
        Assert.Equal(expected.Distinct(), fromXml.Body.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString()));
        Assert.True(fromJson.Status == HttpStatusCode.Accepted, fromJson.Body.ToString());
        Assert.Equal(expected.Distinct(), fromJson.Body.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, fromJson.Body.GetProperty("newEvents").GetInt32());
        await server.WaitSealedAsync(fromXml.Body.GetProperty("captureId").GetString()!);
        Assert.Equal(expected.Distinct().Count(), (await server.GetJsonAsync("api/ledger/chains")).GetProperty("totalEntries").GetInt64());
    }

    [Fact]
    public async Task Capture_MalformedXml_Returns400WithTheXmlLocation()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        var (status, body, _) = await server.CaptureAsync("<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\"><EPCISBody>"u8.ToArray(), mediaType: "application/xml");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("line 1", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capture_UnsupportedMediaType_Returns415()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        var (status, body, _) = await server.CaptureAsync("a,b,c"u8.ToArray(), mediaType: "text/csv");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Contains("application/xml", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capture_InvalidEvent_Returns400NamingEventAndFieldAndAcceptsNothing()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var good = Event("urn:epc:id:sgtin:0614141.107346.1");
        var bad = "{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\",\"eventTimeZoneOffset\":\"+01:00\"}";

        var (status, body, response) = await server.CaptureAsync(Document(good, bad));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var error = Assert.Single(body.GetProperty("errors").EnumerateArray());
        Assert.Equal(1, error.GetProperty("eventIndex").GetInt32());
        Assert.Equal("/epcisBody/eventList/1/eventTime", error.GetProperty("pointer").GetString());
        Assert.Contains("/epcisBody/eventList/1/eventTime", body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        await Task.Delay(200);
        var chains = await server.GetJsonAsync("api/ledger/chains");
        Assert.Equal(0, chains.GetProperty("totalEntries").GetInt64());
        Assert.Equal(0, chains.GetProperty("pending").GetInt32());
    }

    [Fact]
    public async Task Capture_SameDocumentTwice_SameCaptureAndEventsSealedOnce()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var document = Document(Event("urn:epc:id:sgtin:0614141.107346.2"), Event("urn:epc:id:sgtin:0614141.107346.3"));

        var first = await server.CaptureAsync(document);
        var second = await server.CaptureAsync(document);
        await server.WaitSealedAsync(first.Body.GetProperty("captureId").GetString()!);
        var third = await server.CaptureAsync(document);

        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        Assert.Equal(HttpStatusCode.Accepted, second.Status);
        Assert.Equal(HttpStatusCode.Accepted, third.Status);
        Assert.Equal(first.Body.GetProperty("captureId").GetString(), third.Body.GetProperty("captureId").GetString());
        Assert.Equal($"/api/epcis/capture/{first.Body.GetProperty("captureId").GetString()}", first.Response.Headers.Location?.OriginalString);
        Assert.True(third.Body.GetProperty("repeated").GetBoolean());
        var chains = await server.GetJsonAsync("api/ledger/chains");
        Assert.Equal(2, chains.GetProperty("totalEntries").GetInt64());
    }

    [Fact]
    public async Task Capture_SameEventInAnotherDocument_AnswersSameIdAndSealsOnce()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var shared = Event("urn:epc:id:sgtin:0614141.107346.4");
        var first = await server.CaptureAsync(Document(shared));
        await server.WaitSealedAsync(first.Body.GetProperty("captureId").GetString()!);

        // The same event, re-serialised with other white space and member order, beside a new one.
        using var parsed = JsonDocument.Parse(shared);
        var reordered = "{" + string.Join(", ", parsed.RootElement.EnumerateObject().Reverse().Select(p => p.ToString())) + "}";
        var second = await server.CaptureAsync(Document(reordered, Event("urn:epc:id:sgtin:0614141.107346.5")));
        await server.WaitSealedAsync(second.Body.GetProperty("captureId").GetString()!);

        Assert.Equal(first.Body.GetProperty("eventIds")[0].GetString(), second.Body.GetProperty("eventIds")[0].GetString());
        Assert.Equal(1, second.Body.GetProperty("newEvents").GetInt32());
        var chains = await server.GetJsonAsync("api/ledger/chains");
        Assert.Equal(2, chains.GetProperty("totalEntries").GetInt64());
    }

    [Fact]
    public async Task Capture_EventIdReusedForOtherContent_BothSealedUnderTheirHashIds()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var first = await server.CaptureAsync(Document(Event("urn:epc:id:sgtin:0614141.107346.6", eventId: "urn:uuid:7d2b0b52-6a51-4d1c-9b55-2f0e3c1f0001")));
        var second = await server.CaptureAsync(Document(Event("urn:epc:id:sgtin:0614141.107346.7", eventId: "urn:uuid:7d2b0b52-6a51-4d1c-9b55-2f0e3c1f0001")));

        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        Assert.Equal(HttpStatusCode.Accepted, second.Status);
        var ids = new[] { first.Body, second.Body }.Select(b => b.GetProperty("eventIds")[0].GetString()!).ToList();
        Assert.NotEqual(ids[0], ids[1]);
        Assert.All(ids, id => Assert.Matches("^ni:///sha-256;[0-9a-f]{64}\\?ver=CBV2\\.0$", id));
        await server.WaitSealedAsync(second.Body.GetProperty("captureId").GetString()!);
        Assert.Equal(2, (await server.GetJsonAsync("api/ledger/chains")).GetProperty("totalEntries").GetInt64());
    }

    [Fact]
    public async Task Capture_SameEventByTwoPartnersInAnotherSpelling_SealedOnceForTheFirstPartner()
    {
        await using var server = await LocalServer.StartWithPartnersAsync("fab-02");
        var urn = Document(Event("urn:epc:id:sgtin:0614141.107346.9", eventId: "urn:uuid:00000000-0000-4000-8000-000000000001"));
        var digitalLink = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Document(Event("https://id.gs1.org/01/10614141073464/21/9", eventId: "urn:uuid:00000000-0000-4000-8000-000000000002")))
            .Replace("\"bizStep\":\"commissioning\"", "\"bizStep\":\"https://ref.gs1.org/cbv/BizStep-commissioning\"", StringComparison.Ordinal));

        var first = await server.CaptureAsync(urn);
        var second = await server.CaptureAsync(digitalLink, "fab-02");

        Assert.Equal(HttpStatusCode.Accepted, second.Status);
        var id = first.Body.GetProperty("eventIds")[0].GetString()!;
        Assert.Equal(id, second.Body.GetProperty("eventIds")[0].GetString());
        Assert.Equal(0, second.Body.GetProperty("newEvents").GetInt32());
        await server.WaitSealedAsync(first.Body.GetProperty("captureId").GetString()!);
        var receipt = await server.GetJsonAsync("api/ledger/receipts/" + Uri.EscapeDataString(id));
        Assert.Equal("local", receipt.GetProperty("partner").GetString());
        Assert.Equal(1, (await server.GetJsonAsync("api/ledger/chains")).GetProperty("totalEntries").GetInt64());
    }

    [Fact]
    public async Task GetCaptureAndEvent_BeforeAndAfterSealing_ShowCountsAndPosition()
    {
        // A long sealing delay keeps the events pending long enough to look at them.
        await using var server = await LocalServer.StartInProcessAsync(null, "--Supply:SealMaxDelayMilliseconds", "1500");
        var (_, body, _) = await server.CaptureAsync(Document(Event("urn:epc:id:sgtin:0614141.107346.8")));
        var captureId = body.GetProperty("captureId").GetString()!;
        var eventId = body.GetProperty("eventIds")[0].GetString()!;

        // Other captures in between reuse the request buffers; the pending event must keep its own bytes.
        for (var i = 0; i < 8; i++)
        {
            await server.CaptureAsync(Document(Enumerable.Range(0, 20).Select(j => Event($"urn:epc:id:sgtin:0614141.00099{i}.{j}")).ToArray()));
        }

        var pendingEvent = await server.GetJsonAsync("api/epcis/events/" + Uri.EscapeDataString(eventId));
        var pendingCapture = await server.GetJsonAsync($"api/epcis/capture/{captureId}");
        using var notYet = await server.Http.GetAsync("api/ledger/receipts/" + Uri.EscapeDataString(eventId));
        var sealedCapture = await server.WaitSealedAsync(captureId);
        var sealedEvent = await server.GetJsonAsync("api/epcis/events/" + Uri.EscapeDataString(eventId));

        Assert.Equal("pending", pendingEvent.GetProperty("status").GetString());
        Assert.Equal("urn:epc:id:sgtin:0614141.107346.8", pendingEvent.GetProperty("event").GetProperty("epcList")[0].GetString());
        Assert.Equal(JsonValueKind.Null, pendingEvent.GetProperty("position").ValueKind);
        Assert.Equal(1, pendingCapture.GetProperty("pending").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, notYet.StatusCode);
        Assert.NotNull(notYet.Headers.RetryAfter);
        Assert.Equal(1, sealedCapture.GetProperty("sealed").GetInt32());
        Assert.Equal("sealed", sealedEvent.GetProperty("status").GetString());
        Assert.Equal(0, sealedEvent.GetProperty("position").GetProperty("height").GetInt64());
        Assert.Equal("urn:epc:id:sgtin:0614141.107346.8", sealedEvent.GetProperty("event").GetProperty("epcList")[0].GetString());
    }

    [Fact]
    public async Task Capture_OverTheEventLimit_Returns413WithTheLimit()
    {
        await using var server = await LocalServer.StartInProcessAsync(null, "--Supply:MaxEventsPerCapture", "2");

        var (status, body, _) = await server.CaptureAsync(Document(Event("urn:epc:id:sgtin:0614141.000011.1"), Event("urn:epc:id:sgtin:0614141.000011.2"), Event("urn:epc:id:sgtin:0614141.000011.3")));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("at most 2", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capture_SealingBacklogFull_Returns503WithRetryAfterAndAcceptsNothing()
    {
        await using var server = await LocalServer.StartInProcessAsync(null, "--Supply:MaxPendingEvents", "3", "--Supply:SealMaxDelayMilliseconds", "60000");
        var first = await server.CaptureAsync(Document(Event("urn:epc:id:sgtin:0614141.000022.1"), Event("urn:epc:id:sgtin:0614141.000022.2")));

        var (status, body, response) = await server.CaptureAsync(Document(Event("urn:epc:id:sgtin:0614141.000022.3"), Event("urn:epc:id:sgtin:0614141.000022.4")));

        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("at most 3", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await server.GetJsonAsync("api/ledger/chains")).GetProperty("pending").GetInt32());
    }

    [Fact]
    public async Task GetUnknownCaptureOrEvent_Returns404Problem()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        using var capture = await server.Http.GetAsync("api/epcis/capture/0123456789abcdef");
        using var evt = await server.Http.GetAsync("api/epcis/events/" + Uri.EscapeDataString("urn:uuid:missing"));

        Assert.Equal(HttpStatusCode.NotFound, capture.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, evt.StatusCode);
        Assert.Equal("application/problem+json", evt.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task CliCapture_FolderWithOneBadDocument_ReportsEachAndExits1()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var folder = Directory.CreateTempSubdirectory("btmc-capture-");
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(folder.FullName, "a.jsonld"), Document(Event("urn:epc:id:sgtin:0614141.000009.1"), Event("urn:epc:id:sgtin:0614141.000009.2")));
            await File.WriteAllBytesAsync(Path.Combine(folder.FullName, "b.json"), Document(Event("urn:epc:id:sgtin:0614141.000009.3")));
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "c.jsonld"), "{\"type\":\"ObjectEvent\",\"action\":\"ADD\"}");
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "notes.txt"), "not a document");
            var output = new StringWriter();
            var progress = new StringWriter();

            var exit = await BtmcCli.RunAsync(["capture", folder.FullName, "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile], output, progress);

            Assert.Equal(1, exit);
            var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("202 ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("202 ", lines[1], StringComparison.Ordinal);
            Assert.StartsWith("400 ", lines[2], StringComparison.Ordinal);
            Assert.Contains("/eventTime", lines[2], StringComparison.Ordinal);
            Assert.Equal("2 of 3 documents accepted, 3 events", lines[3]);
            Assert.Contains("] 3/3", progress.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    internal static string Event(string epc, string? eventId = null, string time = "2026-11-22T10:00:00.000Z") =>
        "{" + (eventId is null ? string.Empty : $"\"eventID\":\"{eventId}\",") +
        $"\"type\":\"ObjectEvent\",\"eventTime\":\"{time}\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\"," +
        $"\"epcList\":[\"{epc}\"],\"bizStep\":\"commissioning\",\"disposition\":\"active\",\"readPoint\":{{\"id\":\"urn:epc:id:sgln:0614141.00777.0\"}}}}";

    internal static byte[] Document(params string[] events) => Encoding.UTF8.GetBytes(
        "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
        "\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" + string.Join(",", events) + "]}}");
}
