using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Btmc.Platform.EventHubs;

/// <summary>
/// Event Hubs / Service Bus shared access signature tokens
/// (https://learn.microsoft.com/rest/api/eventhub/generate-sas-token):
/// <c>SharedAccessSignature sr={enc(uri)}&amp;sig={enc(base64(HMAC-SHA256(utf8(key), enc(uri) + "\n" + expiry)))}&amp;se={expiry}&amp;skn={keyName}</c>,
/// where enc is URL encoding, expiry is Unix seconds and the HMAC key is the policy key string's UTF-8 bytes
/// (not base64-decoded).
/// </summary>
public static class SharedAccessSignature
{
    public const string Scheme = "SharedAccessSignature";

    /// <summary>Builds the Authorization header value for <paramref name="resourceUri"/> expiring at <paramref name="expiresOn"/>.</summary>
    public static string Create(string resourceUri, string keyName, string key, DateTimeOffset expiresOn)
    {
        ArgumentException.ThrowIfNullOrEmpty(resourceUri);
        ArgumentException.ThrowIfNullOrEmpty(keyName);
        ArgumentException.ThrowIfNullOrEmpty(key);

        var encodedResource = WebUtility.UrlEncode(resourceUri);
        var expiry = expiresOn.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(encodedResource + "\n" + expiry));
        var signature = WebUtility.UrlEncode(Convert.ToBase64String(mac));
        return $"{Scheme} sr={encodedResource}&sig={signature}&se={expiry}&skn={WebUtility.UrlEncode(keyName)}";
    }

    /// <summary>The resource a token for an event hub's send endpoint is signed for: <c>https://{namespace}/{eventHub}</c>, lower case.</summary>
    public static string ResourceUriFor(string fullyQualifiedNamespace, string eventHubName) =>
        $"https://{fullyQualifiedNamespace}/{eventHubName}".ToLowerInvariant();
}
