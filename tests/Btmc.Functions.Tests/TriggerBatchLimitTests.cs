using System.Text;
using System.Text.Json;
using Btmc.Epcis;
using Btmc.Functions.Supply;
using Btmc.Supply;
using Btmc.Supply.Capture;
using Btmc.Supply.Storage;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>
/// The sealer's request limit follows from the host's batch size and the event size (docs/architecture.md, "Trigger
/// batches"): a full batch of the largest events, escaped twice as the host writes them, must get through, or the host
/// retries it forever and the partition stalls.
/// </summary>
public sealed class TriggerBatchLimitTests
{
    private const int MaxEventBytes = 1024;
    private const int MaxCaptureBytes = 1024 * 1024;

    [Fact]
    public async Task HostJson_MaxEventBatchSize_IsTheOneTheLimitIsDerivedFrom()
    {
        using var host = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(SharedTestData.RepositoryRoot, "host.json")));

        var batchSize = host.RootElement.GetProperty("extensions").GetProperty("eventHubs").GetProperty("maxEventBatchSize").GetInt32();

        Assert.Equal(SupplyEventsTrigger.MaxEventBatchSize, batchSize);
    }

    [Fact]
    public async Task SealSupplyEvents_FullBatchOfTheLargestEvents_SealedThoughFarOverTheCaptureLimit()
    {
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var server = await LocalServer.StartInProcessAsync(null,
            [.. hub.ServerSettings, "--Supply:MaxEventBytes", MaxEventBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--Supply:MaxCaptureBytes", MaxCaptureBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var receivedAt = DateTimeOffset.UtcNow;
        var messages = Enumerable.Range(0, SupplyEventsTrigger.MaxEventBatchSize).Select(i =>
        {
            var evt = LargestEvent(i);
            var body = Encoding.UTF8.GetString(SupplyEventEnvelope.Encode(new EventRecord(evt.EventId, evt.EventHash, "batch-limit", "local", receivedAt, evt.Json)));
            return new HubMessage(0, i, i.ToString(System.Globalization.CultureInfo.InvariantCulture), receivedAt, $"lot-{i}", body);
        }).ToList();
        var invocation = SimulatedSupplyHub.Invocation(messages);
        var size = Encoding.UTF8.GetByteCount(invocation);
        var options = new SupplyOptions { MaxEventBytes = MaxEventBytes };

        var (status, _, answer) = await SimulatedSupplyHub.DeliverAsync(server.Http, invocation);

        Assert.True(size > 4 * MaxCaptureBytes, $"the batch is only {size} bytes");
        Assert.True(size <= SupplyEventsTrigger.MaxInvocationBytes(options), $"{size} bytes is over the derived limit {SupplyEventsTrigger.MaxInvocationBytes(options)}");
        Assert.True(status == 200, answer.ToString());
        Assert.Contains($"{SupplyEventsTrigger.MaxEventBatchSize} event(s) sealed", answer.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SealSupplyEvents_InvocationOverTheDerivedLimit_413()
    {
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var server = await LocalServer.StartInProcessAsync(null,
            [.. hub.ServerSettings, "--Supply:MaxEventBytes", MaxEventBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var limit = SupplyEventsTrigger.MaxInvocationBytes(new SupplyOptions { MaxEventBytes = MaxEventBytes });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/" + FunctionNames.SealSupplyEvents)
        {
            Content = new ByteArrayContent(new byte[limit + 1]),
        };

        // Waits for the server's verdict before sending the body, which the server refuses unread.
        request.Headers.ExpectContinue = true;

        using var response = await server.Http.SendAsync(request);

        Assert.Equal(413, (int)response.StatusCode);
    }

    /// <summary>An event of at most <see cref="MaxEventBytes"/> as stored, as close to it as the padding allows, padded
    /// with '&lt;', which the host's second escape turns into the most bytes.</summary>
    private static CapturedEvent LargestEvent(int serial)
    {
        for (var padding = MaxEventBytes; padding > 0; padding--)
        {
            var evt = "{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-11-22T10:00:00.000Z\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"OBSERVE\"," +
                $"\"epcList\":[\"urn:epc:id:sgtin:0614141.700100.{serial}\"],\"bizStep\":\"shipping\",\"ex:note\":\"{new string('<', padding)}\"}}";
            var document = "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",{\"ex\":\"https://example.com/ex/\"}]," +
                "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" + evt + "]}}";
            var read = EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(document), DateTimeOffset.UtcNow);
            Assert.True(read.IsValid, string.Join("; ", read.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
            if (read.Events[0].Json.Length <= MaxEventBytes)
            {
                return read.Events[0];
            }
        }

        throw new InvalidOperationException("No padding fits.");
    }
}
