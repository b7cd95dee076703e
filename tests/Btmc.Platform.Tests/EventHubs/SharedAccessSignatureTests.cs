using Btmc.Platform.EventHubs;
using Xunit;

namespace Btmc.Platform.Tests.EventHubs;

public sealed class SharedAccessSignatureTests
{
    /// <summary>
    /// Pinned against an independent computation (python3):
    /// <code>
    /// enc = urllib.parse.quote("https://btmc-test.servicebus.windows.net/supply-events", safe="")
    /// sig = base64.b64encode(hmac.new(key.encode("utf-8"), (enc + "\n" + "1767225600").encode("utf-8"), hashlib.sha256).digest())
    /// "SharedAccessSignature sr=" + enc + "&amp;sig=" + urllib.parse.quote(sig, safe="") + "&amp;se=1767225600&amp;skn=send-policy"
    /// </code>
    /// The signature contains '+', '/' and '=', so its URL encoding is pinned too.
    /// </summary>
    [Fact]
    public void Create_FixedExpiry_MatchesIndependentPythonHmac()
    {
        var token = SharedAccessSignature.Create(
            "https://btmc-test.servicebus.windows.net/supply-events",
            "send-policy",
            "dGVzdC1rZXktbm90LWEtc2VjcmV0PQ==",
            DateTimeOffset.FromUnixTimeSeconds(1767225600));

        Assert.Equal(
            "SharedAccessSignature sr=https%3A%2F%2Fbtmc-test.servicebus.windows.net%2Fsupply-events"
            + "&sig=UHWs%2Bengc1tTnHJil6Wzo0%2FSRWfJdAfIEgQuVS0kMTw%3D&se=1767225600&skn=send-policy",
            token);
    }

    [Fact]
    public void ResourceUriFor_MixedCase_IsHttpsAndLowerCase()
    {
        Assert.Equal(
            "https://btmc-test.servicebus.windows.net/supply-events",
            SharedAccessSignature.ResourceUriFor("BTMC-test.servicebus.windows.net", "Supply-Events"));
    }
}
