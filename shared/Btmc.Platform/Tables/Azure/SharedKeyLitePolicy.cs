using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Btmc.Platform.Tables.Azure;

/// <summary>
/// Signs every attempt of a request with the storage account key, Table SharedKeyLite flavour:
/// <c>StringToSign = x-ms-date + "\n" + CanonicalizedResource</c>, where the resource is <c>"/" + account + path</c>
/// (as encoded on the wire) plus <c>?comp=</c> when present. It runs after the retry policy, so each retry carries a
/// fresh <c>x-ms-date</c> and a fresh signature.
/// </summary>
internal sealed class SharedKeyLitePolicy(string accountName, string accountKey, TimeProvider? time = null) : HttpPipelineSynchronousPolicy
{
    private readonly byte[] _key = Convert.FromBase64String(accountKey);

    public override void OnSendingRequest(HttpMessage message)
    {
        var date = (time ?? TimeProvider.System).GetUtcNow().ToString("r", CultureInfo.InvariantCulture);
        message.Request.Headers.SetValue("x-ms-date", date);
        var signature = Sign(StringToSign(date, accountName, message.Request.Uri.ToUri()));
        message.Request.Headers.SetValue("Authorization", $"SharedKeyLite {accountName}:{signature}");
    }

    /// <summary>The HMAC-SHA256 of the string to sign under the account key, in base64.</summary>
    internal string Sign(string stringToSign) =>
        Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(stringToSign)));

    internal static string StringToSign(string date, string accountName, Uri uri)
    {
        var resource = new StringBuilder(date).Append('\n').Append('/').Append(accountName).Append(uri.AbsolutePath);
        var query = uri.Query;
        if (query.Length > 1)
        {
            foreach (var pair in query[1..].Split('&'))
            {
                if (pair.StartsWith("comp=", StringComparison.OrdinalIgnoreCase))
                {
                    resource.Append("?comp=").Append(Uri.UnescapeDataString(pair["comp=".Length..]));
                    break;
                }
            }
        }

        return resource.ToString();
    }
}
