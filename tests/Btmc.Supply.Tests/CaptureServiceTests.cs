using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Capture;
using Btmc.Supply.Storage;
using Xunit;

namespace Btmc.Supply.Tests;

public sealed class CaptureServiceTests
{
    [Fact]
    public async Task CaptureAsync_SealedEventsAfterRestart_RecognisedAndNotSealedAgain()
    {
        // Two blocks: at restart only the head block is re-indexed, so block 0's events are known from the index alone.
        await using var harness = await SupplyHarness.StartAsync(sealMaxEvents: 25);
        var epcs = SupplyHarness.Epcs("7", 50);
        await harness.CaptureAsync(epcs);
        await harness.Backend.Sealers[0].SealAvailableAsync();
        await harness.Backend.Sealers[0].SealAvailableAsync();

        var restarted = harness.Restart(sealMaxEvents: 100);
        await restarted.StartAsync();
        var again = Assert.IsType<CaptureAccepted>(await restarted.Capture.CaptureAsync("partner-b", SupplyHarness.Document(epcs)));
        var sealedAgain = await restarted.Sealers[0].SealAvailableAsync();

        Assert.Equal(0, again.NewEvents);
        Assert.Equal(0, restarted.Pending.Count);
        Assert.Null(sealedAgain);
        var audit = await restarted.Auditor.AuditAsync(restarted.ChainIds, harness.Rules);
        Assert.Equal(50, audit.Chains.Sum(c => c.Entries));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CaptureAsync_EventBeingAppendedByAnotherCapture_AnswersOnlyOnceThatAppendEnds(bool appendSucceeds)
    {
        await using var harness = await SupplyHarness.StartAsync();
        var document = SupplyHarness.Document("urn:epc:id:sgtin:0614141.000008.1");
        var evt = EpcisDocumentReader.Read(document, DateTimeOffset.UtcNow).Events[0];
        var inFlight = PendingEvent.Of(new EventRecord(evt.EventId, evt.EventHash, "other-capture", "partner-b", DateTimeOffset.UtcNow, evt.Json.ToArray()), SupplyPartitionKey.Of(evt.Terms, evt.EventId), 0);
        Assert.True(harness.Backend.Pending.TryAdd(inFlight, out _));

        var capture = harness.Backend.Capture.CaptureAsync("partner-a", document);
        await Task.Delay(100);
        Assert.False(capture.IsCompleted);

        if (appendSucceeds)
        {
            inFlight.MarkAppended();
            var accepted = Assert.IsType<CaptureAccepted>(await capture);
            Assert.Equal(0, accepted.NewEvents);
        }
        else
        {
            // The other capture failed to append and dropped its registration: this one says to send again, and the
            // retry registers the event itself.
            inFlight.MarkFailed(new IOException("simulated disk failure"));
            harness.Backend.Pending.Remove(inFlight);
            var refused = await Assert.ThrowsAsync<Refused>(() => capture);
            Assert.Equal(RefusalKind.Busy, refused.Kind);
            var retried = Assert.IsType<CaptureAccepted>(await harness.Backend.Capture.CaptureAsync("partner-a", document));
            Assert.Equal(1, retried.NewEvents);
        }
    }

    [Fact]
    public async Task CaptureAsync_InvalidDocument_AppendsNothing()
    {
        await using var harness = await SupplyHarness.StartAsync();

        var rejected = await Assert.ThrowsAsync<Refused>(() => harness.Backend.Capture.CaptureAsync("partner-a", "{\"type\":\"EPCISDocument\"}"u8.ToArray()));

        Assert.Equal(RefusalKind.Invalid, rejected.Kind);
        Assert.NotEmpty(rejected.Members);
        Assert.Equal(0, harness.Log.GetEndSequenceNumber(0));
        Assert.Equal(0, harness.Backend.Pending.Count);
    }
}
