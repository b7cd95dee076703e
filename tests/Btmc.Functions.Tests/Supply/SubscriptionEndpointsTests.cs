using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Btmc.Functions.Partners;
using Btmc.Supply.Subscriptions;
using Xunit;

namespace Btmc.Functions.Tests.Supply;

/// <summary>Query subscriptions (EPCIS 2.0 REST binding; docs/epcis-query.md, "Subscriptions") over HTTP: webhooks and WebSockets.</summary>
public sealed class SubscriptionEndpointsTests
{
    private const string Token = "13df38d8275b13f05704629e5f1cf3d45d6132d5";

    /// <summary>Local webhooks allowed (the receiver is on loopback), quick retries.</summary>
    private static readonly string[] Settings =
        ["--Subscriptions:AllowLocalDestinations", "true", "--Subscriptions:RetryBaseMilliseconds", "100", "--Subscriptions:MaxRetryDelaySeconds", "1", "--Subscriptions:PollMilliseconds", "50"];

    /// <summary>A shipping read at a location of the EPC's own company (an event at a partner's location concerns that partner).</summary>
    private static string Shipping(string epc, int minute) =>
        $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{TestEvents.Time(minute)}\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"OBSERVE\"," +
        $"\"epcList\":[\"{epc}\"],\"bizStep\":\"shipping\",\"readPoint\":{{\"id\":\"urn:epc:id:sgln:{epc.Split(':')[^1].Split('.')[0]}.00777.0\"}}}}";

    private static string Epc(string prefix, int serial) => $"urn:epc:id:sgtin:{prefix}.900001.{serial}";

    private static async Task<LocalServer> StartAsync(string? dataDirectory = null, params string[] more)
    {
        var server = await LocalServer.StartInProcessAsync(dataDirectory, [.. Settings, .. more]);
        await server.AddPartnerAsync("fab", ["0614141"]);
        await server.AddPartnerAsync("rival", ["4055555"]);
        return server;
    }

    private static async Task CreateShippedQueryAsync(HttpClient client)
    {
        using var created = await client.PostAsJsonAsync("api/epcis/queries",
            new { name = "shipped", query = new Dictionary<string, object> { ["EQ_bizStep"] = "shipping" } });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> SubscribeAsync(HttpClient client, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await client.PostAsJsonAsync("api/epcis/queries/shipped/subscriptions", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task CaptureSealedAsync(LocalServer server, string partner, params string[] events)
    {
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(events), partner);
        Assert.True(status == HttpStatusCode.Accepted, body.ToString());
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
    }

    private static IEnumerable<string> Epcs(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("epcList")[0].GetString()!);

    [Fact]
    public async Task CreateSubscription_StreamWebhook_DeliversNewMatchingEventsTheCallerMaySeeSignedAndOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync();
        using var fab = server.ClientAs("fab");
        // Sealed before the subscription: not reported (no initialRecordTime: from now on).
        await CaptureSealedAsync(server, "fab", TestEvents.Commission(Epc("0614141", 1), 0), Shipping(Epc("0614141", 1), 1));
        await CreateShippedQueryAsync(fab);

        var subscription = await SubscribeAsync(fab, new { dest = receiver.Url, signatureToken = Token, stream = true });
        var id = subscription.GetProperty("subscriptionID").GetString()!;
        Assert.Equal($"/api/epcis/queries/shipped/subscriptions/{id}", (await fab.PostAsJsonAsync("api/epcis/queries/shipped/subscriptions",
            new { dest = receiver.Url, signatureToken = Token, stream = true })).Headers.Location?.OriginalString);
        Assert.DoesNotContain(Token, subscription.ToString(), StringComparison.Ordinal);

        await CaptureSealedAsync(server, "fab", TestEvents.Commission(Epc("0614141", 2), 2), Shipping(Epc("0614141", 2), 3), Shipping(Epc("0614141", 3), 4));
        // The rival's shipping matches the query but is not the fab's to see.
        await CaptureSealedAsync(server, "rival", TestEvents.Commission(Epc("4055555", 1), 5), Shipping(Epc("4055555", 1), 6));
        await CaptureSealedAsync(server, "fab", Shipping(Epc("0614141", 4), 7));

        var events = await receiver.WaitForEventsAsync(e => e.Count >= 3);
        Assert.Equal([Epc("0614141", 2), Epc("0614141", 3), Epc("0614141", 4)], Epcs(events).Order(StringComparer.Ordinal));
        foreach (var call in receiver.Acknowledged)
        {
            // The signature, checked with HMAC-SHA256 computed here: t=<unix seconds>,v1=<hex HMAC over "t." + body>.
            var parts = call.Signature!.Split(',');
            var t = parts[0]["t=".Length..];
            var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Token), Encoding.ASCII.GetBytes(t + ".").Concat(call.Body).ToArray());
            Assert.Equal("v1=" + Convert.ToHexStringLower(expected), parts[1]);
            Assert.True(WebhookSignature.Verify(Token, call.Signature, call.Body, out _));
            Assert.False(WebhookSignature.Verify(Token, call.Signature, [.. call.Body, (byte)' '], out _));
            var results = call.Document.GetProperty("epcisBody").GetProperty("queryResults");
            Assert.Equal(id, results.GetProperty("subscriptionID").GetString());
            Assert.Equal("shipped", results.GetProperty("queryName").GetString());
            Assert.Equal(id, call.Subscription);
        }

        var shown = await fab.GetFromJsonAsync<JsonElement>($"api/epcis/queries/shipped/subscriptions/{id}");
        Assert.Equal(JsonValueKind.String, shown.GetProperty("lastNotifiedAt").ValueKind);
        Assert.True(shown.GetProperty("stream").GetBoolean());
        Assert.True(shown.GetProperty("signed").GetBoolean());
        Assert.DoesNotContain(Token, shown.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateSubscription_ReceiverDownThenFailingThenUp_DeliversEveryEventWithTheSameDeliveryIdOnRetry()
    {
        var port = LocalServer.FreePort();
        await using var server = await StartAsync();
        using var fab = server.ClientAs("fab");
        await CreateShippedQueryAsync(fab);
        var id = (await SubscribeAsync(fab, new { dest = $"http://127.0.0.1:{port}/hook", stream = true })).GetProperty("subscriptionID").GetString()!;

        // Nobody listens: the deliveries fail and are retried with backoff.
        await CaptureSealedAsync(server, "fab", TestEvents.Commission(Epc("0614141", 1), 0), Shipping(Epc("0614141", 1), 1));
        await CaptureSealedAsync(server, "fab", Shipping(Epc("0614141", 1), 2));
        await WaitAsync(async () => (await fab.GetFromJsonAsync<JsonElement>($"api/epcis/queries/shipped/subscriptions/{id}")).GetProperty("failedAttempts").GetInt32() >= 2);
        var shown = await fab.GetFromJsonAsync<JsonElement>($"api/epcis/queries/shipped/subscriptions/{id}");
        Assert.Contains("could not be reached", shown.GetProperty("lastError").GetString(), StringComparison.Ordinal);

        // Up, but answering 503 twice before it accepts (both events were sealed before: every call is the same batch).
        await using var receiver = await WebhookReceiver.StartAsync(port);
        receiver.Answer = n => n <= 2 ? 503 : 200;

        var events = await receiver.WaitForEventsAsync(e => e.Count >= 2);
        Assert.Equal(2, events.Count);
        var failed = receiver.Calls.Where(c => c.Status == 503).ToList();
        Assert.Equal(2, failed.Count);
        // A batch sent again is the same batch: same delivery id, same events; after its acknowledgement, never again.
        Assert.All(failed, f => Assert.Contains(receiver.Acknowledged, a => a.Delivery == f.Delivery && a.Events.Count == f.Events.Count));
        Assert.Equal(receiver.Acknowledged.Count, receiver.Acknowledged.Select(a => a.Delivery).Distinct().Count());
        await WaitAsync(async () => (await fab.GetFromJsonAsync<JsonElement>($"api/epcis/queries/shipped/subscriptions/{id}")).GetProperty("failedAttempts").GetInt32() == 0);
    }

    [Fact]
    public async Task CreateSubscription_ServerRestarted_SurvivesAndDeliversWhatWasSealedMeanwhile()
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            await using var receiver = await WebhookReceiver.StartAsync();
            receiver.Answer = _ => 503;
            string id;
            await using (var first = await StartAsync(data))
            {
                using var fab = first.ClientAs("fab");
                await CreateShippedQueryAsync(fab);
                id = (await SubscribeAsync(fab, new { dest = receiver.Url, signatureToken = Token, stream = true })).GetProperty("subscriptionID").GetString()!;
                await CaptureSealedAsync(first, "fab", TestEvents.Commission(Epc("0614141", 1), 0), Shipping(Epc("0614141", 1), 1));
                await receiver.WaitForCallAsync(c => c.Status == 503);
            }

            // The receiver recovers while the server is down; the server comes back on the same data.
            receiver.Answer = _ => 200;
            await using var second = await LocalServer.StartInProcessAsync(data, Settings);
            using var again = second.ClientAs("fab");
            var listed = await again.GetFromJsonAsync<JsonElement>("api/epcis/queries/shipped/subscriptions");
            Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("subscriptionID").GetString());
            await CaptureSealedAsync(second, "fab", Shipping(Epc("0614141", 1), 2));

            var events = await receiver.WaitForEventsAsync(e => e.Count >= 2);
            Assert.Equal(2, events.Count);
            Assert.Equal(2, events.Select(e => e.GetProperty("eventTime").GetString()).Distinct().Count());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task CreateSubscription_ReceiverHangs_CaptureAndSealingGoOnAndTheCallTimesOut()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = _ => null;
        await using var server = await StartAsync(null, "--Subscriptions:DeliveryTimeoutSeconds", "2");
        using var fab = server.ClientAs("fab");
        await CreateShippedQueryAsync(fab);
        var id = (await SubscribeAsync(fab, new { dest = receiver.Url, stream = true })).GetProperty("subscriptionID").GetString()!;
        await CaptureSealedAsync(server, "fab", TestEvents.Commission(Epc("0614141", 1), 0), Shipping(Epc("0614141", 1), 1));
        await receiver.WaitForCallAsync(_ => true);

        // While the webhook hangs, documents keep being accepted and sealed at the usual pace (one slot or so each).
        for (var i = 2; i < 8; i++)
        {
            var watch = Stopwatch.StartNew();
            await CaptureSealedAsync(server, "fab", Shipping(Epc("0614141", 1), i));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"Sealing took {watch.Elapsed} while a webhook hung.");
        }

        await WaitAsync(async () => (await fab.GetFromJsonAsync<JsonElement>($"api/epcis/queries/shipped/subscriptions/{id}")).GetProperty("lastError").GetString()
            ?.Contains("did not answer", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task RunNamedQuery_WebSocketStream_PushesNewResultsTheCallerMaySee()
    {
        await using var server = await StartAsync();
        using var fab = server.ClientAs("fab");
        using var rival = server.ClientAs("rival");
        await CreateShippedQueryAsync(fab);
        await CreateShippedQueryAsync(rival);
        using var fabSocket = await ConnectAsync(server, "fab", "api/epcis/queries/shipped/events?stream=true");
        using var rivalSocket = await ConnectAsync(server, "rival", "api/epcis/queries/shipped/events?stream=true");

        await CaptureSealedAsync(server, "fab", TestEvents.Commission(Epc("0614141", 1), 0), Shipping(Epc("0614141", 1), 1));
        await CaptureSealedAsync(server, "rival", TestEvents.Commission(Epc("4055555", 1), 2), Shipping(Epc("4055555", 1), 3));

        Assert.Equal([Epc("0614141", 1)], Epcs(await ReceiveAsync(fabSocket)));
        // The rival's first message holds its own shipping only: the fab's was sealed first but is not the rival's to see.
        Assert.Equal([Epc("4055555", 1)], Epcs(await ReceiveAsync(rivalSocket)));
        await fabSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Fact]
    public async Task RunNamedQuery_SubscriptionParametersWithoutUpgrade_400SubscriptionControlsException()
    {
        await using var server = await StartAsync();
        using var fab = server.ClientAs("fab");
        await CreateShippedQueryAsync(fab);

        using var response = await fab.GetAsync("api/epcis/queries/shipped/events?stream=true");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("epcisException:SubscriptionControlsException", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task CreateSubscription_ScheduleEverySecondReportIfEmpty_CallsWithAnEmptyList()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync();
        using var fab = server.ClientAs("fab");
        await CreateShippedQueryAsync(fab);

        var subscription = await SubscribeAsync(fab, new { dest = receiver.Url, reportIfEmpty = true, schedule = new { second = "[0-59]" } });

        var call = await receiver.WaitForCallAsync(c => c.Status == 200);
        Assert.Empty(call.Events);
        Assert.Equal("[0-59]", subscription.GetProperty("schedule").GetProperty("second").GetString());
        Assert.True(subscription.GetProperty("reportIfEmpty").GetBoolean());
    }

    [Fact]
    public async Task CreateSubscription_SameAgainOrAnotherToken_200SameIdOr409AndOnlyTheOwnerSeesOrDeletesIt()
    {
        await using var server = await StartAsync();
        using var fab = server.ClientAs("fab");
        using var rival = server.ClientAs("rival");
        await CreateShippedQueryAsync(fab);
        var body = new { dest = "http://127.0.0.1:9/hook", signatureToken = Token, stream = true };
        var id = (await SubscribeAsync(fab, body)).GetProperty("subscriptionID").GetString()!;

        Assert.Equal(id, (await SubscribeAsync(fab, body, HttpStatusCode.OK)).GetProperty("subscriptionID").GetString());
        var conflict = await SubscribeAsync(fab, new { dest = "http://127.0.0.1:9/hook", signatureToken = "another", stream = true }, HttpStatusCode.Conflict);
        Assert.Equal("signatureToken", conflict.GetProperty("field").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await rival.GetAsync($"api/epcis/queries/shipped/subscriptions/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await rival.DeleteAsync($"api/epcis/queries/shipped/subscriptions/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await rival.GetAsync("api/epcis/queries/shipped/subscriptions")).StatusCode);
        Assert.Single((await fab.GetFromJsonAsync<JsonElement>("api/epcis/queries/shipped/subscriptions")).EnumerateArray());

        // Deleting the query unsubscribes: defined again, it has no subscriptions.
        Assert.Equal(HttpStatusCode.NoContent, (await fab.DeleteAsync("api/epcis/queries/shipped")).StatusCode);
        await CreateShippedQueryAsync(fab);
        Assert.Empty((await fab.GetFromJsonAsync<JsonElement>("api/epcis/queries/shipped/subscriptions")).EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await fab.GetAsync($"api/epcis/queries/shipped/subscriptions/{id}")).StatusCode);
    }

    [Theory]
    [InlineData("{\"stream\":true}", "dest")]
    [InlineData("{\"dest\":\"ftp://example.com/hook\",\"stream\":true}", "dest")]
    [InlineData("{\"dest\":\"http://example.com/hook\",\"stream\":true}", "dest")]
    [InlineData("{\"dest\":\"https://169.254.169.254/latest/meta-data\",\"stream\":true}", "dest")]
    [InlineData("{\"dest\":\"https://10.0.0.5/hook\",\"stream\":true}", "dest")]
    [InlineData("{\"dest\":\"https://user:pw@example.com/hook\",\"stream\":true}", "dest")]
    [InlineData("{\"dest\":\"https://example.com/hook\"}", "schedule")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"stream\":false}", "stream")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"stream\":true,\"schedule\":{\"hour\":\"1\"}}", "stream")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"stream\":true,\"reportIfEmpty\":true}", "reportIfEmpty")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"schedule\":{\"minute\":\"61\"}}", "schedule/minute")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"schedule\":{\"hour\":\"[5-2]\"}}", "schedule/hour")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"schedule\":{\"hour\":\"*/2\"}}", "schedule/hour")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"schedule\":{\"weekday\":\"1\"}}", "schedule/weekday")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"schedule\":{\"dayOfMonth\":\"30\",\"month\":\"2\"}}", "schedule")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"stream\":true,\"initialRecordTime\":\"yesterday\"}", "initialRecordTime")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"stream\":true,\"signatureToken\":\"\"}", "signatureToken")]
    [InlineData("{\"dest\":\"https://example.com/hook\",\"stream\":true,\"callback\":\"x\"}", "callback")]
    public async Task CreateSubscription_BadControls_400SubscriptionControlsExceptionNamingTheMember(string body, string member)
    {
        // The default policy: public https webhooks only.
        await using var server = await LocalServer.StartInProcessAsync();
        await CreateShippedQueryAsync(server.Http);

        using var response = await server.Http.PostAsync("api/epcis/queries/shipped/subscriptions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("epcisException:SubscriptionControlsException", problem.GetProperty("type").GetString());
        Assert.Equal(member, problem.GetProperty("errors")[0].GetProperty("pointer").GetString());
    }

    [Fact]
    public async Task CreateSubscription_UnknownQuery_404()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        using var response = await server.Http.PostAsJsonAsync("api/epcis/queries/nothing/subscriptions", new { dest = "https://example.com/hook", stream = true });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static async Task<ClientWebSocket> ConnectAsync(LocalServer server, string partner, string path)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader(PartnerAuthentication.HeaderName, LocalServer.PartnerApiKey(partner));
        await socket.ConnectAsync(new Uri(server.BaseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + "/" + path), CancellationToken.None);
        return socket;
    }

    private static async Task<IReadOnlyList<JsonElement>> ReceiveAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var message = new MemoryStream();
        var buffer = new byte[8192];
        WebSocketReceiveResult received;
        do
        {
            received = await socket.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, received.Count);
        }
        while (!received.EndOfMessage);

        Assert.Equal(WebSocketMessageType.Text, received.MessageType);
        return JsonDocument.Parse(message.ToArray()).RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody")
            .GetProperty("eventList").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "The condition did not hold in time.");
            await timer.WaitForNextTickAsync();
        }
    }
}
