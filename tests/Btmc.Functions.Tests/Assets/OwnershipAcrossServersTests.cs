using System.Net;
using Xunit;
using static Btmc.Functions.Tests.CaptureEndpointsTests;

namespace Btmc.Functions.Tests.Assets;

/// <summary>
/// The ownership rule across servers (docs/trade.md, "Ownership", "At capture"): two server processes on one table
/// store (Azurite), in Event Hubs mode so that nothing is sealed, so only the claims table can tell one server that the
/// other accepted a shipment.
/// </summary>
public sealed class OwnershipAcrossServersTests
{
    private const string Lot = "urn:epc:class:lgtin:0614141.700004.LOT7";
    private const string Seller = "urn:epc:id:pgln:0614141.00001";

    [Fact]
    public async Task Capture_SixteenShipmentsOfOneLotToDifferentBuyersSplitOverTwoServerProcesses_OneAcceptedTheRest409NamingIt()
    {
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var servers = await ClaimsAcrossServersTests.TwoServers.StartAsync(hub);
        var (status, body, _) = await servers.First.CaptureAsync(Document(Event("ADD", "commissioning", 0, null)));
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");

        var results = await servers.CaptureSplitAsync(i => Document(Event("OBSERVE", "shipping", i + 1, $"urn:epc:id:pgln:0614141.{10000 + i}")));

        var accepted = results.Where(r => r.Status == HttpStatusCode.Accepted).ToList();
        Assert.True(accepted.Count == 1, $"{accepted.Count} of {ClaimsAcrossServersTests.Captures} accepted: {string.Join(" | ", results.Select(r => $"{(int)r.Status} {r.Body}"))}");
        var winner = accepted[0].Body.GetProperty("eventIds")[0].GetString()!;
        Assert.All(results.Where(r => r.Status != HttpStatusCode.Accepted), r =>
        {
            Assert.True(r.Status == HttpStatusCode.Conflict, $"{(int)r.Status} {r.Body}");
            Assert.Equal("application/problem+json", r.Response.Content.Headers.ContentType?.MediaType);
            var error = Assert.Single(r.Body.GetProperty("errors").EnumerateArray());
            Assert.Equal("/epcisBody/eventList/0/sourceList/0", error.GetProperty("pointer").GetString());
            Assert.Contains(winner, error.GetProperty("detail").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal(2, hub.Messages().Count);
    }

    private static string Event(string action, string bizStep, int minute, string? buyer) =>
        $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{TestEvents.Time(minute)}\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"{action}\"," +
        $"\"quantityList\":[{{\"epcClass\":\"{Lot}\",\"quantity\":100}}],\"bizStep\":\"{bizStep}\"" +
        (buyer is null ? string.Empty
            : $",\"sourceList\":[{{\"type\":\"owning_party\",\"source\":\"{Seller}\"}}],\"destinationList\":[{{\"type\":\"owning_party\",\"destination\":\"{buyer}\"}}]") +
        "}";
}
