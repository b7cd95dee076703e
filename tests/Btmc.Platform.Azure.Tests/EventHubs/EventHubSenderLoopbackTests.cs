using System.Text;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Btmc.Platform.Azure.EventHubs;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Azure.Tests.EventHubs;

/// <summary>
/// The sender on the real EventHubProducerClient, over AMQP to the loopback hub (which checks the SAS token and
/// decodes each transfer as the service would): what reaches the hub, how it is batched, and what a refusal looks like.
/// </summary>
public sealed class EventHubSenderLoopbackTests
{
    private static EventHubProducerClientOptions Options(int maximumRetries = 0) => new()
    {
        RetryOptions = new EventHubsRetryOptions
        {
            MaximumRetries = maximumRetries,
            Delay = TimeSpan.FromMilliseconds(10),
            MaximumDelay = TimeSpan.FromMilliseconds(50),
            TryTimeout = TimeSpan.FromSeconds(10),
        },
    };

    private static ReadOnlyMemory<byte> Body(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task SendAsync_OneKeysEvents_ArriveInOneTransferUnderTheKeyInOrder()
    {
        await using var hub = await LoopbackEventHub.StartAsync();
        await using var sender = new EventHubSender(new EventHubProducerClient(hub.ConnectionString(), LoopbackEventHub.EventHub, Options()));

        await sender.SendAsync("lot-7", [Body("{\"n\":1}"), Body("{\"n\":2}"), Body("{\"n\":3}")]);

        var send = Assert.Single(hub.Sends);
        Assert.Equal(["lot-7", "lot-7", "lot-7"], send.Events.Select(e => e.PartitionKey));
        Assert.Equal(["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"], send.Events.Select(e => Encoding.UTF8.GetString(e.Body)));
        Assert.Empty(hub.RefusedTokens);
    }

    [Fact]
    public async Task SendAsync_MoreThanOnePublicationHolds_SplitIntoTransfersThatEachFitInOrder()
    {
        await using var hub = await LoopbackEventHub.StartAsync();
        await using var sender = new EventHubSender(new EventHubProducerClient(hub.ConnectionString(), LoopbackEventHub.EventHub, Options()));
        // 2.5 MB in 100 KB events: at least three publications of at most 1 MB.
        var bodies = Enumerable.Range(0, 25).Select(i => Body(i.ToString("D3") + new string('x', 100_000))).ToList();

        await sender.SendAsync("lot-big", bodies);

        Assert.InRange(hub.Sends.Count, 3, 4);
        Assert.All(hub.Sends, s => Assert.True(s.Events.Sum(e => e.Body.Length) <= (int)LoopbackEventHub.MaximumMessageSize));
        var received = hub.Sends.SelectMany(s => s.Events).ToList();
        Assert.All(received, e => Assert.Equal("lot-big", e.PartitionKey));
        Assert.Equal(Enumerable.Range(0, 25).Select(i => i.ToString("D3")), received.Select(e => Encoding.UTF8.GetString(e.Body, 0, 3)));
    }

    [Fact]
    public async Task SendAsync_WrongKey_TokenRefusedAndNothingReachesTheHub()
    {
        await using var hub = await LoopbackEventHub.StartAsync();
        var wrongKey = Convert.ToBase64String(Encoding.UTF8.GetBytes("not-the-policy-key"));
        await using var sender = new EventHubSender(new EventHubProducerClient(hub.ConnectionString(wrongKey), LoopbackEventHub.EventHub, Options()));

        await Assert.ThrowsAnyAsync<Exception>(() => sender.SendAsync("lot-1", [Body("{}")]));

        Assert.Empty(hub.Sends);
        Assert.NotEmpty(hub.RefusedTokens);
    }

    [Fact]
    public async Task SendAsync_HubBusyThroughEveryRetry_ThrowsTransientAfterRetriesAndNothingAccepted()
    {
        await using var hub = await LoopbackEventHub.StartAsync();
        await using var sender = new EventHubSender(new EventHubProducerClient(hub.ConnectionString(), LoopbackEventHub.EventHub, Options(maximumRetries: 2)));
        hub.RefuseSends = true;

        var failure = await Assert.ThrowsAsync<EventHubsException>(() => sender.SendAsync("lot-1", [Body("{}")]));

        Assert.True(failure.IsTransient, failure.ToString());
        Assert.Equal(EventHubsException.FailureReason.ServiceBusy, failure.Reason);
        Assert.Equal(3, hub.RefusedSends);
        Assert.Empty(hub.Sends);
    }
}
