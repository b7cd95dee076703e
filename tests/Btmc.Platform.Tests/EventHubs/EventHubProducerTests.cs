using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Btmc.Platform.EventHubs;
using Btmc.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Btmc.Platform.Tests.EventHubs;

public sealed class EventHubProducerTests : IAsyncLifetime
{
    private LoopbackEventHub? _started;

    private LoopbackEventHub Hub => _started ?? throw new InvalidOperationException("The loopback service has not started.");

    public async Task InitializeAsync() => _started = await LoopbackEventHub.StartAsync();

    public async Task DisposeAsync()
    {
        if (_started is not null)
        {
            await _started.DisposeAsync();
        }
    }

    private static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static EventHubProducerOptions FastRetries(Uri endpoint, int maxRetries = 3)
    {
        var options = new EventHubProducerOptions { CustomEndpointAddress = endpoint };
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        return options;
    }

    private EventHubProducer SasProducer(int maxRetries = 3, string key = LoopbackEventHub.SharedAccessKey) =>
        new(LoopbackEventHub.ConnectionString(key), options: FastRetries(Hub.Address, maxRetries));

    [Fact]
    public async Task SendAsync_ConnectionString_PostsTheDocumentedBatchRequest()
    {
        var producer = SasProducer();
        const string first = """{"lot":"L-7","step":1,"note":"Café <ok> & \"quoted\""}""";
        const string second = """{"lot":"L-7","step":2}""";

        await producer.SendAsync([Utf8(first), Utf8(second)], "lot:L-7");

        var request = Assert.Single(Hub.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/supply-events/messages", request.Path);
        Assert.Equal("?timeout=60&api-version=2014-01", request.Query);
        Assert.Equal("application/vnd.microsoft.servicebus.json", request.ContentType);
        Assert.NotNull(request.Authorization);
        Assert.True(LoopbackEventHub.VerifySharedAccessSignature(
            request.Authorization, "https://btmc-test.servicebus.windows.net/supply-events", LoopbackEventHub.SharedAccessKey));

        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(JsonValueKind.Array, body.RootElement.ValueKind);
        var items = body.RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, items.Length);
        Assert.Equal(first, items[0].GetProperty("Body").GetString());
        Assert.Equal(second, items[1].GetProperty("Body").GetString());
        Assert.All(items, item =>
        {
            Assert.Equal("lot:L-7", item.GetProperty("BrokerProperties").GetProperty("PartitionKey").GetString());
            Assert.False(item.TryGetProperty("UserProperties", out _));
        });
    }

    [Fact]
    public async Task SendAsync_EventsWithProperties_WritesUserPropertiesPerItem()
    {
        var producer = SasProducer();
        var properties = new Dictionary<string, string> { ["type"] = "EventCaptured", ["lot"] = "L-9" };

        await producer.SendAsync([new EventHubEvent(Utf8("{}"), "lot:L-9", properties), new EventHubEvent(Utf8("[]"), "lot:L-9")]);

        using var body = JsonDocument.Parse(Assert.Single(Hub.Requests).Body);
        var items = body.RootElement.EnumerateArray().ToArray();
        var user = items[0].GetProperty("UserProperties");
        Assert.Equal("EventCaptured", user.GetProperty("type").GetString());
        Assert.Equal("L-9", user.GetProperty("lot").GetString());
        Assert.False(items[1].TryGetProperty("UserProperties", out _));
    }

    [Fact]
    public async Task SendAsync_NoPartitionKey_OmitsBrokerProperties()
    {
        await SasProducer().SendAsync([Utf8("a")], partitionKey: null);

        using var body = JsonDocument.Parse(Assert.Single(Hub.Requests).Body);
        var item = Assert.Single(body.RootElement.EnumerateArray().ToArray());
        Assert.Equal("a", item.GetProperty("Body").GetString());
        Assert.False(item.TryGetProperty("BrokerProperties", out _));
    }

    [Fact]
    public async Task SendAsync_WrongKey_ThrowsWithStatusCodeAndDetailWithoutRetrying()
    {
        var producer = SasProducer(key: "bm90LXRoZS1yaWdodC1rZXk=");

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => producer.SendAsync([Utf8("x")], "k"));

        Assert.Equal(401, error.Status);
        Assert.Equal("401", error.ErrorCode);
        Assert.Contains("InvalidSignature", error.Message, StringComparison.Ordinal);
        Assert.Contains("supply-events", error.Message, StringComparison.Ordinal);
        Assert.Single(Hub.Requests);
    }

    [Fact]
    public async Task SendAsync_429Then503ThenCreated_RetriesTheSameBatchAndSucceeds()
    {
        Hub.Script = (_, number) => number switch
        {
            0 => new Reply(429, LoopbackEventHub.ErrorBody(429, "ServerBusy: throttled.")),
            1 => new Reply(503, LoopbackEventHub.ErrorBody(503, "ServerBusy: try again.")),
            _ => null,
        };

        await SasProducer().SendAsync([Utf8("one"), Utf8("two")], "lot:L-1");

        var requests = Hub.Requests;
        Assert.Equal(3, requests.Count);
        Assert.All(requests, request => Assert.Equal(requests[0].Body, request.Body));
        Assert.All(requests, request => Assert.True(LoopbackEventHub.VerifySharedAccessSignature(
            request.Authorization ?? "", $"https://{LoopbackEventHub.Namespace}/{LoopbackEventHub.EventHub}", LoopbackEventHub.SharedAccessKey)));
    }

    [Fact]
    public async Task SendAsync_Persistent503_ThrowsAfterBoundedRetries()
    {
        Hub.Script = (_, _) => new Reply(503, LoopbackEventHub.ErrorBody(503, "ServerBusy: the request was terminated because the entity is being throttled."));

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => SasProducer(maxRetries: 2).SendAsync([Utf8("x")], "k"));

        Assert.Equal(3, Hub.Requests.Count);
        Assert.Equal(503, error.Status);
        Assert.Equal("503", error.ErrorCode);
        Assert.Contains("after 2 retries", error.Message, StringComparison.Ordinal);
        Assert.Contains("ServerBusy", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_FirstTryTimesOut_RetriesAndSucceeds()
    {
        Hub.Script = (_, number) => number == 0 ? new Reply(201, Delay: TimeSpan.FromSeconds(10)) : null;
        var options = FastRetries(Hub.Address);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(1); // long enough for a loaded machine to deliver the request before giving up on the answer
        var producer = new EventHubProducer(LoopbackEventHub.ConnectionString(), options: options);

        await producer.SendAsync([Utf8("x")], "k");

        Assert.Equal(2, Hub.Requests.Count);
    }

    [Fact]
    public async Task SendAsync_EveryTryTimesOut_ThrowsWithStatusZero()
    {
        Hub.Script = (_, _) => new Reply(201, Delay: TimeSpan.FromSeconds(10));
        var options = FastRetries(Hub.Address, maxRetries: 1);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(1);
        var producer = new EventHubProducer(LoopbackEventHub.ConnectionString(), options: options);

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => producer.SendAsync([Utf8("x")], "k"));

        Assert.Equal(0, error.Status);
        Assert.Contains("no response", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, Hub.Requests.Count);
    }

    [Fact]
    public async Task SendAsync_BatchOverOneMegabyte_IsRefusedBeforeSending()
    {
        var producer = SasProducer();
        var body = Utf8(new string('a', 100_000));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => producer.SendAsync(Enumerable.Repeat(body, 11), "k"));

        Assert.Contains("1048576-byte limit", error.Message, StringComparison.Ordinal);
        Assert.Empty(Hub.Requests);
    }

    [Fact]
    public async Task SendAsync_BatchExactlyAtTheLimit_IsSent()
    {
        var producer = SasProducer();
        // The envelope around one ASCII body; the body fills the rest of the 1 MB.
        var overhead = """[{"Body":"","BrokerProperties":{"PartitionKey":"k"}}]""".Length;
        var body = Utf8(new string('a', EventHubProducerOptions.StandardMaximumBatchSizeInBytes - overhead));

        await producer.SendAsync([body], "k");

        Assert.Equal(EventHubProducerOptions.StandardMaximumBatchSizeInBytes, Assert.Single(Hub.Requests).Body.Length);
    }

    [Fact]
    public async Task SendAsync_MixedPartitionKeys_IsRefusedBeforeSending()
    {
        var producer = SasProducer();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => producer.SendAsync(
            [new EventHubEvent(Utf8("1"), "lot:A"), new EventHubEvent(Utf8("2"), "lot:B")]));

        Assert.Contains("one partition key", error.Message, StringComparison.Ordinal);
        Assert.Empty(Hub.Requests);
    }

    [Fact]
    public async Task SendAsync_KeyedAndUnkeyedEvents_IsRefusedBeforeSending()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => SasProducer().SendAsync(
            [new EventHubEvent(Utf8("1"), "lot:A"), new EventHubEvent(Utf8("2"))]));

        Assert.Empty(Hub.Requests);
    }

    [Fact]
    public async Task SendAsync_InvalidUtf8Body_IsRefusedBeforeSending()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => SasProducer().SendAsync([new byte[] { 0x7b, 0xff, 0x7d }], "k"));

        Assert.Empty(Hub.Requests);
    }

    [Fact]
    public async Task SendAsync_NoEvents_IsRefused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => SasProducer().SendAsync(Array.Empty<ReadOnlyMemory<byte>>(), "k"));

        Assert.Empty(Hub.Requests);
    }

    [Fact]
    public async Task SendAsync_TokenCredentialOverHttps_SendsBearerTokenForTheEventHubsScope()
    {
        await using var hub = await LoopbackEventHub.StartAsync(https: true);
        var serverThumbprint = hub.Certificate?.Thumbprint ?? throw new InvalidOperationException("no certificate");
        hub.Script = (request, _) => request.Authorization == "Bearer test-token" ? new Reply(201) : new Reply(401);
        var options = FastRetries(hub.Address);
        options.Transport = new HttpClientTransport(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == serverThumbprint,
        });
        var credential = new RecordingCredential();
        var producer = new EventHubProducer(LoopbackEventHub.Namespace, LoopbackEventHub.EventHub, credential, options);

        await producer.SendAsync([Utf8("x")], "k");

        var request = Assert.Single(hub.Requests);
        Assert.Equal("Bearer test-token", request.Authorization);
        Assert.Equal("/supply-events/messages", request.Path);
        Assert.Equal(["https://eventhubs.azure.net/.default"], Assert.Single(credential.RequestedScopes.Distinct(StringArrayComparer.Instance)));
    }

    [Fact]
    public async Task SendAsync_TokenNearExpiry_SignsANewToken()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = FastRetries(Hub.Address);
        options.TimeProvider = clock;
        options.SharedAccessSignatureLifetime = TimeSpan.FromMinutes(20);
        var producer = new EventHubProducer(LoopbackEventHub.ConnectionString(), options: options);

        await producer.SendAsync([Utf8("1")], "k");
        clock.Advance(TimeSpan.FromMinutes(10)); // 10 minutes left: still used
        await producer.SendAsync([Utf8("2")], "k");
        clock.Advance(TimeSpan.FromMinutes(6)); // 4 minutes left: renewed
        await producer.SendAsync([Utf8("3")], "k");

        var tokens = Hub.Requests.Select(request => request.Authorization).ToArray();
        Assert.Equal(tokens[0], tokens[1]);
        Assert.NotEqual(tokens[1], tokens[2]);
        Assert.Contains($"&se={(clock.GetUtcNow() + TimeSpan.FromMinutes(20)).ToUnixTimeSeconds()}&", tokens[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_CallerCancels_ThrowsOperationCanceledWithoutRetrying()
    {
        using var cancellation = new CancellationTokenSource();
        Hub.Script = (_, _) =>
        {
            cancellation.CancelAfter(TimeSpan.FromMilliseconds(50)); // once the request is in flight, not on a timer
            return new Reply(201, Delay: TimeSpan.FromSeconds(10));
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SasProducer().SendAsync([Utf8("x")], "k", cancellation.Token));

        Assert.Single(Hub.Requests);
    }

    [Fact]
    public void Constructor_EntityPathDiffersFromEventHubName_Throws()
    {
        Assert.Throws<ArgumentException>(() => new EventHubProducer(LoopbackEventHub.ConnectionString(), "other-hub"));
    }

    [Fact]
    public void Constructor_ConnectionStringWithoutEntityPath_TakesTheGivenName()
    {
        var producer = new EventHubProducer(
            $"Endpoint=sb://{LoopbackEventHub.Namespace}/;SharedAccessKeyName=k;SharedAccessKey=v", "supply-events");

        Assert.Equal(LoopbackEventHub.Namespace, producer.FullyQualifiedNamespace);
        Assert.Equal("supply-events", producer.EventHubName);
    }

    private sealed class RecordingCredential : TokenCredential
    {
        public List<string[]> RequestedScopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (RequestedScopes)
            {
                RequestedScopes.Add(requestContext.Scopes);
            }

            return new AccessToken("test-token", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }

    private sealed class StringArrayComparer : IEqualityComparer<string[]>
    {
        public static readonly StringArrayComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.SequenceEqual(y);

        public int GetHashCode(string[] obj) => obj.Length == 0 ? 0 : obj[0].GetHashCode(StringComparison.Ordinal);
    }
}
