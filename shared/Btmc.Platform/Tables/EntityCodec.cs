using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Btmc.Platform.Tables;

/// <summary>
/// The compact binary form the SQLite store keeps an entity's properties in, plus the ETag and continuation token
/// formats. Properties: <c>u8 version(1), varint count</c>, then per property <c>varint nameBytes, UTF-8 name,
/// u8 type, value</c>. Values: string as UTF-8 (<c>varint bytes</c>) or, when it is not well-formed UTF-16, as raw
/// UTF-16 (<c>varint chars</c>); int32/int64/double/ticks little-endian; bool in the type byte; Guid 16 bytes;
/// binary <c>varint length, bytes</c>. Every value round-trips bit-exactly (NaN payloads included).
/// </summary>
internal static class EntityCodec
{
    private const byte FormatVersion = 1;

    private const byte TypeStringUtf8 = 1;
    private const byte TypeStringUtf16 = 2;
    private const byte TypeInt32 = 3;
    private const byte TypeInt64 = 4;
    private const byte TypeDouble = 5;
    private const byte TypeFalse = 6;
    private const byte TypeTrue = 7;
    private const byte TypeDateTime = 8;
    private const byte TypeGuid = 9;
    private const byte TypeBinary = 10;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? s_buffer;

    /// <summary>Serializes validated properties.</summary>
    public static byte[] Encode(IReadOnlyDictionary<string, object> properties)
    {
        var w = s_buffer ??= new ArrayBufferWriter<byte>(4096);
        w.ResetWrittenCount();
        w.GetSpan(1)[0] = FormatVersion;
        w.Advance(1);
        WriteVarint(w, (uint)properties.Count);
        foreach (var (name, value) in properties)
        {
            WriteUtf8(w, name);
            switch (value)
            {
                case string s:
                    if (IsWellFormedUtf16(s))
                    {
                        WriteByte(w, TypeStringUtf8);
                        WriteUtf8(w, s);
                    }
                    else
                    {
                        WriteByte(w, TypeStringUtf16);
                        WriteVarint(w, (uint)s.Length);
                        var span = w.GetSpan(s.Length * 2);
                        for (var i = 0; i < s.Length; i++)
                        {
                            BinaryPrimitives.WriteUInt16LittleEndian(span[(2 * i)..], s[i]);
                        }

                        w.Advance(s.Length * 2);
                    }

                    break;
                case int i32:
                    WriteByte(w, TypeInt32);
                    BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), i32);
                    w.Advance(4);
                    break;
                case long i64:
                    WriteByte(w, TypeInt64);
                    BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), i64);
                    w.Advance(8);
                    break;
                case double d:
                    WriteByte(w, TypeDouble);
                    BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), BitConverter.DoubleToInt64Bits(d));
                    w.Advance(8);
                    break;
                case bool b:
                    WriteByte(w, b ? TypeTrue : TypeFalse);
                    break;
                case DateTimeOffset dto:
                    WriteByte(w, TypeDateTime);
                    BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), dto.UtcTicks);
                    w.Advance(8);
                    break;
                case Guid g:
                    WriteByte(w, TypeGuid);
                    g.TryWriteBytes(w.GetSpan(16));
                    w.Advance(16);
                    break;
                case byte[] bytes:
                    WriteByte(w, TypeBinary);
                    WriteVarint(w, (uint)bytes.Length);
                    bytes.CopyTo(w.GetSpan(bytes.Length));
                    w.Advance(bytes.Length);
                    break;
                default:
                    throw new TableStoreException(400, "InvalidInput", $"The property '{name}' has the unsupported type {value?.GetType().Name ?? "null"}.");
            }
        }

        return w.WrittenSpan.ToArray();
    }

    /// <summary>Deserializes properties; with <paramref name="select"/>, only those names are kept.</summary>
    public static Dictionary<string, object> Decode(ReadOnlySpan<byte> data, IReadOnlySet<string>? select = null)
    {
        var pos = 0;
        if (data.Length == 0 || data[pos++] != FormatVersion)
        {
            throw new InvalidDataException("The stored entity has an unknown property format.");
        }

        var count = (int)ReadVarint(data, ref pos);
        var result = new Dictionary<string, object>(select is null ? count : Math.Min(count, select.Count), StringComparer.Ordinal);
        for (var n = 0; n < count; n++)
        {
            var nameLength = (int)ReadVarint(data, ref pos);
            var name = Encoding.UTF8.GetString(data.Slice(pos, nameLength));
            pos += nameLength;
            var type = data[pos++];
            object value;
            switch (type)
            {
                case TypeStringUtf8:
                {
                    var len = (int)ReadVarint(data, ref pos);
                    value = Encoding.UTF8.GetString(data.Slice(pos, len));
                    pos += len;
                    break;
                }

                case TypeStringUtf16:
                {
                    var chars = (int)ReadVarint(data, ref pos);
                    var slice = data.Slice(pos, chars * 2);
                    value = string.Create(chars, slice.ToArray(), static (span, bytes) =>
                    {
                        for (var i = 0; i < span.Length; i++)
                        {
                            span[i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i));
                        }
                    });
                    pos += chars * 2;
                    break;
                }

                case TypeInt32:
                    value = BinaryPrimitives.ReadInt32LittleEndian(data[pos..]);
                    pos += 4;
                    break;
                case TypeInt64:
                    value = BinaryPrimitives.ReadInt64LittleEndian(data[pos..]);
                    pos += 8;
                    break;
                case TypeDouble:
                    value = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(data[pos..]));
                    pos += 8;
                    break;
                case TypeFalse:
                    value = false;
                    break;
                case TypeTrue:
                    value = true;
                    break;
                case TypeDateTime:
                    value = new DateTimeOffset(BinaryPrimitives.ReadInt64LittleEndian(data[pos..]), TimeSpan.Zero);
                    pos += 8;
                    break;
                case TypeGuid:
                    value = new Guid(data.Slice(pos, 16));
                    pos += 16;
                    break;
                case TypeBinary:
                {
                    var len = (int)ReadVarint(data, ref pos);
                    value = data.Slice(pos, len).ToArray();
                    pos += len;
                    break;
                }

                default:
                    throw new InvalidDataException($"The stored entity has the unknown property type {type}.");
            }

            if (select is null || select.Contains(name))
            {
                result[name] = value;
            }
        }

        return result;
    }

    /// <summary>The ETag of a write at <paramref name="utcTicks"/>, shaped like the service's: W/"datetime'...'".</summary>
    public static string FormatETag(long utcTicks)
    {
        var stamp = new DateTime(utcTicks, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH'%3A'mm'%3A'ss.fffffff'Z'", CultureInfo.InvariantCulture);
        return $"W/\"datetime'{stamp}'\"";
    }

    /// <summary>An opaque continuation token naming the first entity of the next page.</summary>
    public static string EncodeContinuation(string partitionKey, string rowKey)
    {
        var w = new ArrayBufferWriter<byte>(16 + (3 * (partitionKey.Length + rowKey.Length)));
        WriteByte(w, FormatVersion);
        WriteUtf8(w, partitionKey);
        WriteUtf8(w, rowKey);
        return Convert.ToBase64String(w.WrittenSpan).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Reads a token of <see cref="EncodeContinuation"/>; 400 InvalidInput when it is not one.</summary>
    public static (string PartitionKey, string RowKey) DecodeContinuation(string token)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var data = Convert.FromBase64String(base64);
            var pos = 0;
            if (data.Length == 0 || data[pos++] != FormatVersion)
            {
                throw new FormatException("unknown token version");
            }

            var pkLength = (int)ReadVarint(data, ref pos);
            var pk = Encoding.UTF8.GetString(data.AsSpan(pos, pkLength));
            pos += pkLength;
            var rkLength = (int)ReadVarint(data, ref pos);
            var rk = Encoding.UTF8.GetString(data.AsSpan(pos, rkLength));
            pos += rkLength;
            if (pos != data.Length)
            {
                throw new FormatException("trailing bytes");
            }

            return (pk, rk);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException or InvalidDataException)
        {
            throw new TableStoreException(400, "InvalidInput", $"The continuation token is not one this store issued ({e.Message}).");
        }
    }

    private static bool IsWellFormedUtf16(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (!char.IsSurrogate(c))
            {
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
                continue;
            }

            return false;
        }

        return true;
    }

    private static void WriteByte(ArrayBufferWriter<byte> w, byte b)
    {
        w.GetSpan(1)[0] = b;
        w.Advance(1);
    }

    private static void WriteUtf8(ArrayBufferWriter<byte> w, string s)
    {
        var byteCount = Encoding.UTF8.GetByteCount(s);
        WriteVarint(w, (uint)byteCount);
        var written = Encoding.UTF8.GetBytes(s, w.GetSpan(byteCount));
        w.Advance(written);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> w, uint value)
    {
        var span = w.GetSpan(5);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        w.Advance(n);
    }

    private static uint ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = data[pos++];
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new InvalidDataException("A length prefix is malformed.");
    }
}
