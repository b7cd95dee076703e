using System.Security.Cryptography;
using System.Text;
using Btmc.Supply.Subscriptions;
using Xunit;

namespace Btmc.Supply.Tests.Subscriptions;

public sealed class WebhookSignatureTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"type\":\"EPCISQueryDocument\"}");

    [Fact]
    public void Sign_KnownInput_IsHmacSha256OfTimeDotBody()
    {
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("secret"), Encoding.ASCII.GetBytes("1700000000.").Concat(Body).ToArray()));

        Assert.Equal($"t=1700000000,v1={expected}", WebhookSignature.Sign("secret", 1_700_000_000, Body));
    }

    [Fact]
    public void Verify_Untouched_TrueWithTheTime()
    {
        Assert.True(WebhookSignature.Verify("secret", WebhookSignature.Sign("secret", 1_700_000_000, Body), Body, out var t));
        Assert.Equal(1_700_000_000, t);
    }

    [Theory]
    [InlineData("other")]
    public void Verify_AnotherToken_False(string token) =>
        Assert.False(WebhookSignature.Verify(token, WebhookSignature.Sign("secret", 1_700_000_000, Body), Body, out _));

    [Fact]
    public void Verify_BodyOrTimeChanged_False()
    {
        var header = WebhookSignature.Sign("secret", 1_700_000_000, Body);

        Assert.False(WebhookSignature.Verify("secret", header, Body.Append((byte)' ').ToArray(), out _));
        Assert.False(WebhookSignature.Verify("secret", header.Replace("t=1700000000", "t=1700000001", StringComparison.Ordinal), Body, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("v1=00")]
    [InlineData("t=1,v1=zz")]
    [InlineData("t=x,v1=00")]
    public void Verify_Malformed_False(string header) => Assert.False(WebhookSignature.Verify("secret", header, Body, out _));
}
