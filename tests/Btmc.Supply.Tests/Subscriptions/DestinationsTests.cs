using System.Net;
using Btmc.Supply.Subscriptions;
using Xunit;

namespace Btmc.Supply.Tests.Subscriptions;

public sealed class DestinationsTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("2001:db8::1")]
    public void IsPublic_NonPublicAddress_False(string address) => Assert.False(Destinations.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void IsPublic_PublicAddress_True(string address) => Assert.True(Destinations.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://127.0.0.1/hook")]
    [InlineData("http://example.com/hook")]
    [InlineData("https://user@example.com/hook")]
    [InlineData("https://example.com/hook#x")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/relative")]
    public void Check_DefaultPolicy_Refuses(string dest)
    {
        var ex = Assert.Throws<SubscriptionControlsException>(() => new Destinations(allowLocal: false).Check(dest));

        Assert.Equal("dest", ex.Field);
    }

    [Fact]
    public void Check_LocalAllowed_TakesLoopbackHttp() =>
        Assert.Equal("http://127.0.0.1:8080/hook", new Destinations(allowLocal: true).Check("http://127.0.0.1:8080/hook").AbsoluteUri);

    [Fact]
    public async Task ConnectAsync_NameResolvingToLoopbackUnderDefaultPolicy_RefusedBeforeConnecting()
    {
        // "localhost" passes the URL check (it is a name) but resolves to loopback: refused at connection time.
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => new Destinations(allowLocal: false).ConnectAsync(new DnsEndPoint("localhost", 9), CancellationToken.None).AsTask());

        Assert.Contains("no public address", ex.Message, StringComparison.Ordinal);
    }
}
