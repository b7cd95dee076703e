using System.Text;

namespace Btmc.Ledger;

/// <summary>UTF-8 that throws on lone surrogates (encode) and malformed bytes (decode) instead of substituting.</summary>
internal static class StrictUtf8
{
    public static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The UTF-8 byte count of <paramref name="value"/>; ArgumentException naming <paramref name="paramName"/> when it is not valid UTF-16.</summary>
    public static int GetByteCount(string value, string paramName)
    {
        try
        {
            return Encoding.GetByteCount(value);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException("The text is not valid Unicode (lone surrogate).", paramName, ex);
        }
    }
}
