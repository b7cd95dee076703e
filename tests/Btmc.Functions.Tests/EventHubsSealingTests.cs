using System.Net;
using System.Text.Json;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>
/// The Azure event path over real connections: capture publishes to the supply-events hub (the loopback hub, over AMQP), and
/// the hub's batches reach the sealer as the Functions host's invocation requests. At-least-once delivery, poison
/// messages and a batch the host hands to two instances at once.
/// </summary>
public sealed class EventHubsSealingTests
{
    private static string Sgtin(string item, int serial) => $"urn:epc:id:sgtin:0614141.{item}.{serial}";

    /// <summary>Events of one lot: items packed one by one into the same case (the parent is the lot key), so the hub keeps
    /// them in one partition, in order.</summary>
    private static byte[] OneLot(string item, int count) =>
        CaptureEndpointsTests.Document(Enumerable.Range(0, count)
            .Select(i => TestEvents.Aggregation("ADD", $"urn:epc:id:sscc:0614141.{item}0000", [Sgtin(item, i)], 1 + i)).ToArray());

    private static byte[] Commissioning(string item, int count, int minute = 1) =>
        CaptureEndpointsTests.Document(Enumerable.Range(0, count).Select(i => TestEvents.Commission(Sgtin(item, i), minute)).ToArray());

    [Fact]
    public async Task Capture_OnEventHubs_PublishesEachLotUnderItsKeyInDocumentOrder()
    {
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var server = await LocalServer.StartInProcessAsync(null, hub.ServerSettings);
        var shipping = "{\"type\":\"ObjectEvent\",\"eventTime\":\"" + TestEvents.Time(3) + "\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"OBSERVE\"," +
            "\"epcList\":[\"" + Sgtin("100001", 1) + "\"],\"bizStep\":\"shipping\"}";
        var document = CaptureEndpointsTests.Document(
            TestEvents.Commission(Sgtin("100001", 1), 1), TestEvents.Commission(Sgtin("100002", 1), 2), shipping);

        var (status, body, _) = await server.CaptureAsync(document);

        Assert.True(status == HttpStatusCode.Accepted, body.ToString());
        var ids = body.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString()!).ToList();
        var messages = hub.Messages();
        Assert.Equal(3, messages.Count);
        // One transfer per lot key (two keys here), each to the hub's own address.
        Assert.Equal(2, hub.SendEndpoint.Sends.Count);
        Assert.All(hub.SendEndpoint.Sends, s => Assert.EndsWith("/" + LoopbackEventHub.EventHub, s.Address, StringComparison.Ordinal));
        // Serialised items name no lot: their key is their GTIN (indicator 1, company 0614141, item 00001 or 00002) and a
        // hex digit of SHA-256 of the serial ("1": 6b86b2…, so b).
        var byKey = messages.GroupBy(m => m.PartitionKey).ToDictionary(g => g.Key, g => g.Select(m => EnvelopeId(m.Body)).ToList());
        Assert.Equal([ids[0], ids[2]], byKey["01/10614141000019/sb"]);
        Assert.Equal([ids[1]], byKey["01/10614141000026/sb"]);
        var pending = await server.GetJsonAsync("api/epcis/events/" + Uri.EscapeDataString(ids[0]));
        Assert.Equal("pending", pending.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Capture_HubBusyThroughEveryRetry_503AcceptsNothingAndTheDocumentIsAcceptedOnceTheHubIsBack()
    {
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var server = await LocalServer.StartInProcessAsync(null, hub.ServerSettings);
        var document = OneLot("300001", 3);
        hub.SendEndpoint.RefuseSends = true;

        var (status, body, response) = await server.CaptureAsync(document);

        Assert.True(status == HttpStatusCode.ServiceUnavailable, body.ToString());
        Assert.NotNull(response.Headers.RetryAfter);
        // The producer's first try and its 3 retries (BtmcServer.HubOptions), then the refusal; nothing in the hub.
        Assert.Equal(4, hub.SendEndpoint.RefusedSends);
        Assert.Empty(hub.Messages());
        Assert.Equal(0, (await server.GetJsonAsync("api/ledger/chains")).GetProperty("pending").GetInt32());

        hub.SendEndpoint.RefuseSends = false;
        var (retried, retriedBody, _) = await server.CaptureAsync(document);

        Assert.True(retried == HttpStatusCode.Accepted, retriedBody.ToString());
        Assert.Equal(3, hub.Messages().Count);
    }

    [Fact]
    public async Task SealSupplyEvents_HostInvocation_SealsIntoThePartitionsChainAndAnswersTheDocumentedShape()
    {
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var server = await LocalServer.StartInProcessAsync(null, hub.ServerSettings);
        var (_, body, _) = await server.CaptureAsync(OneLot("200001", 5));
        var captureId = body.GetProperty("captureId").GetString()!;
        var messages = hub.Messages();
        var partition = Assert.Single(messages.Select(m => m.Partition).Distinct());

        var (status, contentType, answer) = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(messages));

        Assert.True(status == 200, answer.ToString());
        Assert.Equal("application/json", contentType);
        Assert.Equal(JsonValueKind.Object, answer.GetProperty("Outputs").ValueKind);
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("ReturnValue").ValueKind);
        Assert.Contains("5 event(s) sealed", Assert.Single(answer.GetProperty("Logs").EnumerateArray()).GetString(), StringComparison.Ordinal);
        var status2 = await server.WaitSealedAsync(captureId, TimeSpan.FromSeconds(5));
        Assert.Equal(5, status2.GetProperty("sealed").GetInt32());
        var receipt = await server.GetJsonAsync("api/ledger/receipts/" + Uri.EscapeDataString(EnvelopeId(messages[3].Body)));
        Assert.Equal($"supply-{partition}", receipt.GetProperty("chainId").GetString());
        Assert.Equal(3, receipt.GetProperty("leafIndex").GetInt64());
    }

    [Fact]
    public async Task SealSupplyEvents_BatchDeliveredTwiceAndOverlapping_NoDuplicateEntryAndNoFork()
    {
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var server = await LocalServer.StartInProcessAsync(null, hub.ServerSettings);
        await server.CaptureAsync(OneLot("300001", 10));
        var messages = hub.Messages();

        var first = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(messages[..6]));
        var again = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(messages[..6], retryCount: 1));
        var overlapping = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(messages[3..]));

        Assert.All(new[] { first, again, overlapping }, r => Assert.True(r.Status == 200, r.Body.ToString()));
        Assert.Contains("0 block(s) with 0 event(s) sealed, 6 already sealed", again.Body.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("4 event(s) sealed, 3 already sealed", overlapping.Body.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
        var verify = await server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
        var chain = verify.GetProperty("chains").EnumerateArray().Single(c => c.GetProperty("chainId").GetString() != "governance" && c.GetProperty("entries").GetInt64() > 0);
        Assert.Equal(10, chain.GetProperty("entries").GetInt64());
        Assert.Equal(2, chain.GetProperty("blocks").GetInt64());
    }

    [Fact]
    public async Task SealSupplyEvents_UnreadableBodies_DeadLetteredWithPartitionAndOffsetWhileTheRestSeals()
    {
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var server = await LocalServer.StartInProcessAsync(null, hub.ServerSettings);
        await server.CaptureAsync(OneLot("400001", 3));
        var good = hub.Messages();
        var forged = good[1].Body.Replace("\"partner\":\"local\"", "\"partner\":\"mallory\"", StringComparison.Ordinal)
            .Replace("\"eventTime\":\"2026-11-22T10:02:00.000Z\"", "\"eventTime\":\"2026-11-22T11:02:00.000Z\"", StringComparison.Ordinal);
        Assert.NotEqual(good[1].Body, forged);
        var batch = new List<HubMessage>
        {
            good[0],
            good[1] with { SequenceNumber = 1, Offset = "1000", Body = "not json at all" },
            good[1] with { SequenceNumber = 2, Offset = "2000", Body = forged },
            good[1] with { SequenceNumber = 3, Offset = "3000" },
            good[2] with { SequenceNumber = 4, Offset = "4000" },
        };

        var (status, _, answer) = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(batch));

        Assert.True(status == 200, answer.ToString());
        Assert.Contains("3 event(s) sealed, 0 already sealed, 2 dead-lettered", answer.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
        var backend = server.Backend;
        var chainId = backend.Options.ChainId(good[0].Partition);
        var letters = (await backend.Tables.DeadLetters.QueryAsync(new Btmc.Platform.Tables.TableQuery(chainId))).Items;
        Assert.Equal([1L, 2L], letters.Select(l => l.GetInt64("SequenceNumber")));
        Assert.Equal(["1000", "2000"], letters.Select(l => l.GetString("Offset")));
        Assert.Contains("not a readable supply-events envelope", letters[0].GetString("Reason"), StringComparison.Ordinal);
        Assert.Contains("hashes to", letters[1].GetString("Reason"), StringComparison.Ordinal);
        Assert.Equal("not json at all"u8.ToArray(), letters[0].GetBinary("Body"));
    }

    [Theory]
    [InlineData("{\"Data\":{\"events\":\"[]\"},\"Metadata\":{}}", "/Metadata/PartitionContext")]
    [InlineData("{\"Data\":{},\"Metadata\":{\"PartitionContext\":{\"PartitionId\":\"0\"},\"SequenceNumberArray\":\"[]\",\"OffsetArray\":\"[]\",\"EnqueuedTimeUtcArray\":\"[]\"}}", "/Data/events")]
    [InlineData("{\"Data\":{\"events\":\"[\\\"a\\\"]\"},\"Metadata\":{\"PartitionContext\":{\"PartitionId\":\"0\"},\"SequenceNumberArray\":\"[]\",\"OffsetArray\":\"[\\\"0\\\"]\",\"EnqueuedTimeUtcArray\":\"[\\\"2026-12-02T10:00:00Z\\\"]\"}}", "/Metadata/SequenceNumberArray")]
    public async Task SealSupplyEvents_InvocationNotInTheDocumentedShape_400NamesTheMember(string invocation, string member)
    {
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var server = await LocalServer.StartInProcessAsync(null, hub.ServerSettings);

        var (status, _, problem) = await SimulatedSupplyHub.DeliverAsync(server.Http, invocation);

        Assert.Equal(400, status);
        Assert.Equal(member, problem.GetProperty("errors")[0].GetProperty("pointer").GetString());
    }

    [Fact]
    public async Task SealSupplyEvents_EmbeddedServer_RefusesInvocations()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        var (status, _, problem) = await SimulatedSupplyHub.DeliverAsync(server.Http, "{}");

        Assert.Equal(409, status);
        Assert.Contains("embedded event log", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SealSupplyEvents_TwoInstancesGivenTheSameBatchesAtOnce_OneChainEachEventOnce()
    {
        var tables = AzuriteConnectionString();
        var prefix = "t" + Guid.NewGuid().ToString("N")[..12];
        await using var hub = await SimulatedSupplyHub.StartAsync();
        // Both instances sign as the same producer, with one key file (in Azure: one Key Vault key).
        using var keys = new TempDirectory();
        var sharedKey = Path.Combine(keys.Path, "producer.pem");
        string[] settings = [.. hub.ServerSettings, "--Tables:ConnectionString", tables, "--Supply:TablePrefix", prefix, "--Supply:SealMaxEvents", "7",
            "--Producers:0:Id", "local-producer", "--Producers:0:Key", sharedKey];
        await using var first = await LocalServer.StartInProcessAsync(null, settings);
        await using var second = await LocalServer.StartInProcessAsync(null, settings);
        for (var round = 0; round < 4; round++)
        {
            var (status, body, _) = await first.CaptureAsync(Commissioning("5" + round.ToString("D5", System.Globalization.CultureInfo.InvariantCulture), 20, round));
            Assert.True(status == HttpStatusCode.Accepted, body.ToString());
        }

        var messages = hub.Messages();
        var partitions = messages.GroupBy(m => m.Partition).ToList();
        // During a lease handover both instances receive the same partition's batches, cut differently.
        var deliveries = partitions.SelectMany(p => new[]
        {
            Task.Run(() => DeliverInBatchesAsync(first, p.ToList(), 9)),
            Task.Run(() => DeliverInBatchesAsync(second, p.ToList(), 13)),
        });
        await Task.WhenAll(deliveries);

        var verify = await second.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
        Assert.Equal(80, LocalServer.SupplyEntries(verify));
        foreach (var message in messages)
        {
            var receipt = await first.GetJsonAsync("api/ledger/receipts/" + Uri.EscapeDataString(EnvelopeId(message.Body)));
            Assert.Equal($"supply-{message.Partition}", receipt.GetProperty("chainId").GetString());
        }
    }

    private static async Task DeliverInBatchesAsync(LocalServer server, List<HubMessage> messages, int batchSize)
    {
        for (var i = 0; i < messages.Count; i += batchSize)
        {
            var (status, _, body) = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(messages.GetRange(i, Math.Min(batchSize, messages.Count - i))));
            Assert.True(status == 200, body.ToString());
        }
    }

    internal static string AzuriteConnectionString()
    {
        var connectionString = Environment.GetEnvironmentVariable("BTMC_TEST_AZURITE_TABLES");
        Assert.False(string.IsNullOrEmpty(connectionString), "BTMC_TEST_AZURITE_TABLES is not set: run ./test.sh, which starts Azurite and sets it.");
        return connectionString!;
    }

    internal static string EnvelopeId(string body)
    {
        using var envelope = JsonDocument.Parse(body);
        return envelope.RootElement.GetProperty("id").GetString()!;
    }
}

/// <summary>The table store failing under the Event Hubs path: Azurite throttling (503) and Azurite gone.</summary>
public sealed class EventHubsStorageFaultTests
{
    [Fact]
    public async Task SealSupplyEvents_TablesAnswer503ThenGoAway_FailsClearlyLosesNothingAndRedeliverySealsEverything()
    {
        var azurite = EventHubsSealingTests.AzuriteConnectionString();
        await using var proxy = await TableFaultProxy.StartAsync(azurite);
        await using var hub = await SimulatedSupplyHub.StartAsync();
        string[] settings = [.. hub.ServerSettings, "--Tables:ConnectionString", TableFaultProxy.Through(azurite, proxy), "--Supply:TablePrefix", "t" + Guid.NewGuid().ToString("N")[..12]];
        await using var server = await LocalServer.StartInProcessAsync(null, settings);
        var first = CaptureEndpointsTests.Document(Enumerable.Range(0, 6).Select(i => TestEvents.Commission($"urn:epc:id:sgtin:0614141.600001.{i}", 1)).ToArray());
        var second = CaptureEndpointsTests.Document(Enumerable.Range(0, 3).Select(i => TestEvents.Commission($"urn:epc:id:sgtin:0614141.600001.{10 + i}", 2)).ToArray());
        var (accepted, firstBody, _) = await server.CaptureAsync(first);
        Assert.True(accepted == HttpStatusCode.Accepted, firstBody.ToString());
        var batch = hub.Messages();

        // Throttled throughout: the bounded retries end in a failed invocation naming the store, which the host retries.
        proxy.AnswerServiceUnavailable = true;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var throttled = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(batch));
        Assert.Equal(500, throttled.Status);
        Assert.Contains("503", throttled.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"gave up after {watch.Elapsed}");

        // Retried, and boundedly: the time above bounds the invocation's retries. The count is only a sanity bound, since
        // the server's background work (governance sync, root checkpoints, the pending sweep) goes through the proxy too,
        // and on a loaded machine a slower invocation leaves it more turns (52 were seen against a bound of 50).
        Assert.InRange(proxy.Refused, 2, 200);

        // Gone: a capture is refused with 503 and nothing of it is published.
        proxy.AnswerServiceUnavailable = false;
        await proxy.StopListeningAsync();
        var (refused, problem, response) = await server.CaptureAsync(second);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.Equal("Storage unavailable", problem.GetProperty("title").GetString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(batch.Count, hub.Messages().Count);

        // Back: the redelivered batch and the retried capture are sealed, each event once.
        await proxy.StartListeningAsync();
        var redelivered = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(batch, retryCount: 1));
        Assert.True(redelivered.Status == 200, redelivered.Body.ToString());
        var (retried, secondBody, _) = await server.CaptureAsync(second);
        Assert.True(retried == HttpStatusCode.Accepted, secondBody.ToString());
        var all = hub.Messages();
        foreach (var partition in all.GroupBy(m => m.Partition))
        {
            var delivered = await SimulatedSupplyHub.DeliverAsync(server.Http, SimulatedSupplyHub.Invocation(partition.ToList()));
            Assert.True(delivered.Status == 200, delivered.Body.ToString());
        }

        await server.WaitSealedAsync(firstBody.GetProperty("captureId").GetString()!, TimeSpan.FromSeconds(10));
        await server.WaitSealedAsync(secondBody.GetProperty("captureId").GetString()!, TimeSpan.FromSeconds(10));
        var verify = await server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
        Assert.Equal(9, LocalServer.SupplyEntries(verify));
    }
}
