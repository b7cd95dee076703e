using Btmc.Platform.EventHubs;
using Xunit;

namespace Btmc.Platform.Tests.EventHubs;

public sealed class EventHubsConnectionStringTests
{
    [Fact]
    public void Parse_PortalConnectionString_ReadsEveryPart()
    {
        var parsed = EventHubsConnectionString.Parse(
            "Endpoint=sb://btmc.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc+/def==;EntityPath=supply-events");

        Assert.Equal(new EventHubsConnectionString("btmc.servicebus.windows.net", "send", "abc+/def==", "supply-events"), parsed);
    }

    [Fact]
    public void Parse_KeysInOtherCaseAndTrailingSemicolon_ReadsEveryPart()
    {
        var parsed = EventHubsConnectionString.Parse(
            "endpoint=sb://btmc.servicebus.windows.net/; sharedaccesskeyname=send ;SHAREDACCESSKEY=k=;");

        Assert.Equal(new EventHubsConnectionString("btmc.servicebus.windows.net", "send", "k=", null), parsed);
    }

    [Theory]
    [InlineData("SharedAccessKeyName=send;SharedAccessKey=k")]
    [InlineData("Endpoint=sb://btmc.servicebus.windows.net/;SharedAccessKey=k")]
    [InlineData("Endpoint=sb://btmc.servicebus.windows.net/;SharedAccessKeyName=send")]
    [InlineData("Endpoint=sb://btmc.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=x")]
    [InlineData("Endpoint=not a uri;SharedAccessKeyName=send;SharedAccessKey=k")]
    public void Parse_IncompleteConnectionString_ThrowsFormatException(string connectionString)
    {
        Assert.Throws<FormatException>(() => EventHubsConnectionString.Parse(connectionString));
    }

    [Fact]
    public void ToString_ConnectionString_HidesTheKey()
    {
        var parsed = EventHubsConnectionString.Parse("Endpoint=sb://btmc.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=secret");

        Assert.DoesNotContain("secret", parsed.ToString(), StringComparison.Ordinal);
    }
}
