using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Btmc.Ledger;

namespace Btmc.Epcis;

/// <summary>
/// The canonical form of one event and the identity derived from it (docs/ledger-format.md, "Event identity").
/// The form is the event object with its <c>eventID</c> and <c>recordTime</c> members removed, serialised with
/// object members sorted by name (UTF-16 code units), no insignificant white space, strings escaped minimally
/// (RFC 8785 rules), and numbers written exactly as they were submitted. A member given more than once counts once,
/// with its last value.
/// It makes the event hash independent of member order and white space. The CBV 2.0 event hash of issue 3
/// supersedes it as the event identity; <see cref="ContentIdVersion"/> keeps the two apart.
/// </summary>
public static class EventCanonicalForm
{
    /// <summary>The <c>ver</c> query value of identities derived from this form.</summary>
    public const string ContentIdVersion = "BTMC-C14N-1";

    private static readonly string[] ExcludedTopLevelMembers = ["eventID", "recordTime"];

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? s_buffer;

    /// <summary>SHA-256 of the canonical form.</summary>
    public static Hash32 ComputeHash(JsonElement evt)
    {
        var buffer = s_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        WriteValue(evt, buffer, topLevel: true);
        return Hash32.Compute(buffer.WrittenSpan);
    }

    /// <summary>The canonical form as UTF-8 bytes (for documentation and tests).</summary>
    public static byte[] Serialize(JsonElement evt)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        WriteValue(evt, buffer, topLevel: true);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The identity of an event that carries no <c>eventID</c>: an RFC 6920 ni URI over the canonical hash.</summary>
    public static string ContentId(in Hash32 eventHash) => $"ni:///sha-256;{eventHash.ToHex()}?ver={ContentIdVersion}";

    private static void WriteValue(JsonElement value, ArrayBufferWriter<byte> output, bool topLevel)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(value, output, topLevel);
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
                    WriteValue(item, output, topLevel: false);
                }

                output.Write("]"u8);
                break;
            case JsonValueKind.String:
                WriteString(value.GetString() ?? string.Empty, output);
                break;
            case JsonValueKind.Number:
                WriteAscii(value.GetRawText(), output);
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            case JsonValueKind.Null:
                output.Write("null"u8);
                break;
            default:
                throw new ArgumentException($"Unexpected JSON value kind {value.ValueKind}.", nameof(value));
        }
    }

    private static void WriteObject(JsonElement obj, ArrayBufferWriter<byte> output, bool topLevel)
    {
        var count = 0;
        foreach (var _ in obj.EnumerateObject())
        {
            count++;
        }

        var members = ArrayPool<(JsonProperty Member, int Position)>.Shared.Rent(count);
        try
        {
            var n = 0;
            foreach (var member in obj.EnumerateObject())
            {
                if (topLevel && Array.IndexOf(ExcludedTopLevelMembers, member.Name) >= 0)
                {
                    continue;
                }

                members[n] = (member, n);
                n++;
            }

            Array.Sort(members, 0, n, MemberNameComparer.Instance);
            output.Write("{"u8);
            var written = 0;
            for (var i = 0; i < n; i++)
            {
                // Sorted by name, then position: of a repeated name only the last occurrence is written.
                if (i + 1 < n && members[i + 1].Member.NameEquals(members[i].Member.Name))
                {
                    continue;
                }

                if (written++ > 0)
                {
                    output.Write(","u8);
                }

                WriteString(members[i].Member.Name, output);
                output.Write(":"u8);
                WriteValue(members[i].Member.Value, output, topLevel: false);
            }

            output.Write("}"u8);
        }
        finally
        {
            ArrayPool<(JsonProperty, int)>.Shared.Return(members, clearArray: true);
        }
    }

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

    private sealed class MemberNameComparer : IComparer<(JsonProperty Member, int Position)>
    {
        public static readonly MemberNameComparer Instance = new();

        public int Compare((JsonProperty Member, int Position) x, (JsonProperty Member, int Position) y)
        {
            var byName = string.CompareOrdinal(x.Member.Name, y.Member.Name);
            return byName != 0 ? byName : x.Position.CompareTo(y.Position);
        }
    }
}
