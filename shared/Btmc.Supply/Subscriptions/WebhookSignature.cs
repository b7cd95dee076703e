using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Btmc.Supply.Subscriptions;

/// <summary>
/// The <c>GS1-Signature</c> header of a webhook call (the REST binding leaves the scheme to the implementation and names
/// HMAC-SHA256 as an example): <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256&gt;</c>, the HMAC keyed with the UTF-8
/// bytes of the subscription's <c>signatureToken</c> over <c>&lt;t&gt;.</c> followed by the request body. The time is
/// signed too, so a receiver that refuses old times (docs/epcis-query.md suggests five minutes) cannot be replayed to.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "GS1-Signature";

    public static string Sign(string signatureToken, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        return $"t={t},v1={Convert.ToHexStringLower(Mac(signatureToken, t, body))}";
    }

    /// <summary>True when <paramref name="header"/> is a signature of <paramref name="body"/> with the token (constant-time compare).</summary>
    public static bool Verify(string signatureToken, string header, ReadOnlySpan<byte> body, out long unixSeconds)
    {
        unixSeconds = 0;
        var parts = header.Split(',');
        if (parts.Length != 2 || !parts[0].StartsWith("t=", StringComparison.Ordinal) || !parts[1].StartsWith("v1=", StringComparison.Ordinal)
            || !long.TryParse(parts[0].AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out unixSeconds))
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(parts[1].AsSpan(3));
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(given, Mac(signatureToken, parts[0][2..], body));
    }

    private static byte[] Mac(string signatureToken, string t, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(signatureToken));
        hmac.AppendData(Encoding.ASCII.GetBytes(t + "."));
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }
}
