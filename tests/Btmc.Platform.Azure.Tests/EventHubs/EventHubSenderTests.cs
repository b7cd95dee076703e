using System.Text;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Btmc.Platform.Azure.EventHubs;
using Moq;
using Xunit;

namespace Btmc.Platform.Azure.Tests.EventHubs;

/// <summary>
/// The sender's batching against a mocked EventHubProducerClient (the SDK's own seam: its members are virtual and
/// EventHubsModelFactory makes batches whose TryAdd the test decides). What goes over the wire is checked against the
/// loopback hub in <see cref="EventHubSenderLoopbackTests"/>.
/// </summary>
public sealed class EventHubSenderTests
{
    private const string Hub = "supply-events";

    /// <summary>A producer whose batches take at most perBatch events and no event over
    /// largestEvent bytes; every batch created and every batch sent is recorded.</summary>
    private sealed class Producer
    {
        public Producer(int perBatch, int largestEvent = int.MaxValue)
        {
            Mock.Setup(p => p.CreateBatchAsync(It.IsAny<CreateBatchOptions>(), It.IsAny<CancellationToken>()))
                .ReturnsAsync((CreateBatchOptions options, CancellationToken _) =>
                {
                    var store = new List<EventData>();
                    var batch = EventHubsModelFactory.EventDataBatch(1024, store, options, data => store.Count < perBatch && data.EventBody.ToMemory().Length <= largestEvent);
                    Created.Add((options.PartitionKey, store, batch));
                    return batch;
                });
            Mock.Setup(p => p.SendAsync(It.IsAny<EventDataBatch>(), It.IsAny<CancellationToken>()))
                .Returns((EventDataBatch batch, CancellationToken _) =>
                {
                    Sent.Add(Created.Single(c => ReferenceEquals(c.Batch, batch)).Events.ToList());
                    return Task.CompletedTask;
                });
        }

        public Mock<EventHubProducerClient> Mock { get; } = new();

        public List<(string? PartitionKey, List<EventData> Events, EventDataBatch Batch)> Created { get; } = [];

        public List<List<EventData>> Sent { get; } = [];
    }

    private static ReadOnlyMemory<byte> Body(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(EventData data) => Encoding.UTF8.GetString(data.EventBody.ToArray());

    [Fact]
    public async Task SendAsync_OneLotsEvents_EveryBatchCreatedUnderTheLotsKey()
    {
        var producer = new Producer(perBatch: 2);
        var sender = new EventHubSender(producer.Mock.Object);

        await sender.SendAsync("01/10614141000019/sb", [Body("a"), Body("b"), Body("c")]);

        Assert.Equal(2, producer.Created.Count);
        Assert.All(producer.Created, c => Assert.Equal("01/10614141000019/sb", c.PartitionKey));
    }

    [Fact]
    public async Task SendAsync_TryAddRefuses_SplitIntoBatchesSentInOrder()
    {
        var producer = new Producer(perBatch: 2);
        var sender = new EventHubSender(producer.Mock.Object);

        await sender.SendAsync("lot", [Body("1"), Body("2"), Body("3"), Body("4"), Body("5")]);

        Assert.Equal([["1", "2"], ["3", "4"], ["5"]], producer.Sent.Select(b => b.Select(Text).ToArray()).ToArray());
    }

    [Fact]
    public async Task SendAsync_EventTooLargeForAnEmptyBatch_RefusedBeforeAnythingIsSent()
    {
        var producer = new Producer(perBatch: 2, largestEvent: 10);
        var sender = new EventHubSender(producer.Mock.Object);

        var refusal = await Assert.ThrowsAsync<ArgumentException>(() =>
            sender.SendAsync("lot", [Body("1"), Body("2"), Body("3"), Body(new string('x', 11))]));

        Assert.Contains("Event 3", refusal.Message, StringComparison.Ordinal);
        Assert.Empty(producer.Sent);
        producer.Mock.Verify(p => p.SendAsync(It.IsAny<EventDataBatch>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task SendAsync_RetriesExhausted_TheClientsExceptionSurfacesAndNoLaterBatchIsSent()
    {
        var producer = new Producer(perBatch: 1);
        producer.Mock.Setup(p => p.SendAsync(It.IsAny<EventDataBatch>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new EventHubsException(true, Hub, "The service was busy after 3 retries.", EventHubsException.FailureReason.ServiceBusy));
        var sender = new EventHubSender(producer.Mock.Object);

        var failure = await Assert.ThrowsAsync<EventHubsException>(() => sender.SendAsync("lot", [Body("1"), Body("2")]));

        Assert.Equal(EventHubsException.FailureReason.ServiceBusy, failure.Reason);
        producer.Mock.Verify(p => p.SendAsync(It.IsAny<EventDataBatch>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task SendAsync_NoPartitionKey_RefusedWithoutCreatingABatch()
    {
        var producer = new Producer(perBatch: 2);
        var sender = new EventHubSender(producer.Mock.Object);

        await Assert.ThrowsAsync<ArgumentException>(() => sender.SendAsync("", [Body("1")]));

        Assert.Empty(producer.Created);
    }
}
