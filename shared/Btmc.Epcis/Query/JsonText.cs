using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Btmc.Epcis.Query;

/// <summary>Reads JSON string values as characters without allocating, for the event scan loop.</summary>
internal static class JsonText
{
    /// <summary>Size of the caller's stack buffer: longer or escaped strings fall back to an allocated string.</summary>
    public const int BufferLength = 256;

    /// <summary>
    /// The text of <paramref name="value"/> when it is a JSON string, decoded into <paramref name="buffer"/> when it
    /// fits and carries no escape; <c>false</c> for any other kind of value.
    /// </summary>
    public static bool TryGetText(JsonElement value, Span<char> buffer, out ReadOnlySpan<char> text)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            text = default;
            return false;
        }

        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw.Length >= 2 && raw[0] == (byte)'"')
        {
            raw = raw[1..^1];
        }

        if (raw.Length <= buffer.Length && !raw.Contains((byte)'\\'))
        {
            var written = Encoding.UTF8.GetChars(raw, buffer);
            text = buffer[..written];
            return true;
        }

        text = value.GetString();
        return true;
    }

    /// <summary>The text of the string member <paramref name="name"/> of <paramref name="obj"/>, if present.</summary>
    public static bool TryGetMember(JsonElement obj, ReadOnlySpan<byte> name, Span<char> buffer, out ReadOnlySpan<char> text)
    {
        if (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value))
        {
            return TryGetText(value, buffer, out text);
        }

        text = default;
        return false;
    }
}
