using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Btmc.Ledger;

namespace Btmc.Epcis;

/// <summary>
/// The canonical form of one event as stored (docs/ledger-format.md, "Event content hash"): the whole event object,
/// serialised with object members sorted by name (UTF-16 code units), no insignificant white space, strings escaped
/// minimally (RFC 8785 rules), and numbers written exactly as they were submitted. A member given more than once
/// counts once, with its last value. Its SHA-256 is the event hash of a ledger leaf: it binds every byte that matters
/// of the stored event (its eventID, recordTime and @context included), independent of member order and white space.
/// The event's identity is its CBV 2.0 event hash ID (<see cref="Cbv.EventHashId"/>), which covers only the
/// event's business content.
/// </summary>
public static class EventCanonicalForm
{
    /// <summary>The name of this canonical form.</summary>
    public const string Version = "BTMC-C14N-2";

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? s_buffer;

    /// <summary>SHA-256 of the canonical form.</summary>
    public static Hash32 ComputeHash(JsonElement evt)
    {
        var buffer = s_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        WriteValue(evt, buffer);
        return Hash32.Compute(buffer.WrittenSpan);
    }

    /// <summary>The canonical form as UTF-8 bytes (for documentation and tests).</summary>
    public static byte[] Serialize(JsonElement evt)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        WriteValue(evt, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteValue(JsonElement value, ArrayBufferWriter<byte> output)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(value, output);
                break;
            case JsonValueKind.Array:
                output.Write("["u8);
                var first = true;
                foreach (var item in value.EnumerateArray())
                {
                    if (!first)
                    {
                        output.Write(","u8);
                    }

                    first = false;
                    WriteValue(item, output);
                }

                output.Write("]"u8);
                break;
            case JsonValueKind.String:
                // A submitted string with no escape sequence is already in canonical form (JSON text cannot hold a
                // raw quote or control character); only escaped strings are decoded and re-escaped.
                var raw = JsonMarshal.GetRawUtf8Value(value);
                if (raw.IndexOf((byte)'\\') < 0)
                {
                    output.Write(raw);
                }
                else
                {
                    WriteString(value.GetString() ?? string.Empty, output);
                }

                break;
            case JsonValueKind.Number:
            case JsonValueKind.True:
            case JsonValueKind.False:
            case JsonValueKind.Null:
                output.Write(JsonMarshal.GetRawUtf8Value(value));
                break;
            default:
                throw new ArgumentException($"Unexpected JSON value kind {value.ValueKind}.", nameof(value));
        }
    }

    private static void WriteObject(JsonElement obj, ArrayBufferWriter<byte> output)
    {
        var count = 0;
        foreach (var _ in obj.EnumerateObject())
        {
            count++;
        }

        var members = ArrayPool<Member>.Shared.Rent(count);
        try
        {
            var n = 0;
            var allAscii = true;
            foreach (var member in obj.EnumerateObject())
            {
                var rawName = JsonMarshal.GetRawUtf8PropertyName(member);
                var plain = rawName.IndexOf((byte)'\\') < 0;
                allAscii &= plain && Ascii.IsValid(rawName);
                members[n] = new Member(member, n, plain);
                n++;
            }

            // ASCII names sort the same by UTF-8 bytes as by UTF-16 code units; anything else sorts as strings.
            Array.Sort(members, 0, n, allAscii ? Utf8NameComparer.Instance : StringNameComparer.Instance);
            output.Write("{"u8);
            var written = 0;
            for (var i = 0; i < n; i++)
            {
                // Sorted by name, then position: of a repeated name only the last occurrence is written.
                if (i + 1 < n && SameName(members[i], members[i + 1], allAscii))
                {
                    continue;
                }

                if (written++ > 0)
                {
                    output.Write(","u8);
                }

                if (members[i].Plain)
                {
                    output.Write("\""u8);
                    output.Write(JsonMarshal.GetRawUtf8PropertyName(members[i].Property));
                    output.Write("\""u8);
                }
                else
                {
                    WriteString(members[i].Property.Name, output);
                }

                output.Write(":"u8);
                WriteValue(members[i].Property.Value, output);
            }

            output.Write("}"u8);
        }
        finally
        {
            ArrayPool<Member>.Shared.Return(members, clearArray: true);
        }
    }

    private static bool SameName(in Member a, in Member b, bool ascii) => ascii
        ? JsonMarshal.GetRawUtf8PropertyName(a.Property).SequenceEqual(JsonMarshal.GetRawUtf8PropertyName(b.Property))
        : b.Property.NameEquals(a.Property.Name);

    private static void WriteString(string value, ArrayBufferWriter<byte> output)
    {
        output.Write("\""u8);
        var runStart = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c >= 0x20 && c != '"' && c != '\\')
            {
                continue;
            }

            WriteUtf8(value.AsSpan(runStart, i - runStart), output);
            switch (c)
            {
                case '"': output.Write("\\\""u8); break;
                case '\\': output.Write("\\\\"u8); break;
                case '\b': output.Write("\\b"u8); break;
                case '\f': output.Write("\\f"u8); break;
                case '\n': output.Write("\\n"u8); break;
                case '\r': output.Write("\\r"u8); break;
                case '\t': output.Write("\\t"u8); break;
                default:
                    WriteAscii($"\\u{(int)c:x4}", output);
                    break;
            }

            runStart = i + 1;
        }

        WriteUtf8(value.AsSpan(runStart), output);
        output.Write("\""u8);
    }

    private static void WriteUtf8(ReadOnlySpan<char> chars, ArrayBufferWriter<byte> output)
    {
        if (chars.IsEmpty)
        {
            return;
        }

        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(chars.Length));
        output.Advance(Encoding.UTF8.GetBytes(chars, span));
    }

    private static void WriteAscii(string text, ArrayBufferWriter<byte> output)
    {
        var span = output.GetSpan(text.Length);
        output.Advance(Encoding.ASCII.GetBytes(text, span));
    }

    /// <summary>One member of an object being written: its position breaks ties between repeated names.</summary>
    private readonly record struct Member(JsonProperty Property, int Position, bool Plain);

    private sealed class Utf8NameComparer : IComparer<Member>
    {
        public static readonly Utf8NameComparer Instance = new();

        public int Compare(Member x, Member y)
        {
            var byName = JsonMarshal.GetRawUtf8PropertyName(x.Property).SequenceCompareTo(JsonMarshal.GetRawUtf8PropertyName(y.Property));
            return byName != 0 ? byName : x.Position.CompareTo(y.Position);
        }
    }

    private sealed class StringNameComparer : IComparer<Member>
    {
        public static readonly StringNameComparer Instance = new();

        public int Compare(Member x, Member y)
        {
            var byName = string.CompareOrdinal(x.Property.Name, y.Property.Name);
            return byName != 0 ? byName : x.Position.CompareTo(y.Position);
        }
    }
}
