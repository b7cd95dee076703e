using System.Buffers.Binary;
using System.Text;

namespace Btmc.Ledger;

/// <summary>
/// The signed part of a block. Canonical encoding, big-endian, no padding:
/// <c>"BTMC" | u16 version | u16 len + chainId | u64 height | 32 previousHash | 32 merkleRoot |
/// u64 leafCount | i64 slotTime (Unix ms) | u16 len + producerId | u16 len + keyId</c>.
/// Strings are 1..255 bytes of UTF-8. SlotTime is truncated to whole milliseconds.
/// </summary>
public sealed record BlockHeader(
    int Version,
    string ChainId,
    long Height,
    Hash32 PreviousHash,
    Hash32 MerkleRoot,
    long LeafCount,
    DateTimeOffset SlotTime,
    string ProducerId,
    string KeyId)
{
    /// <summary>The only version this code writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The longest allowed string field in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 255;

    /// <summary>The length of an encoding with three empty strings.</summary>
    public const int FixedEncodedLength = 4 + 2 + 2 + 8 + Hash32.Size + Hash32.Size + 8 + 8 + 2 + 2;

    /// <summary>The length of the longest possible encoding.</summary>
    public const int MaxEncodedLength = FixedEncodedLength + (3 * MaxStringBytes);

    private static ReadOnlySpan<byte> Magic => "BTMC"u8;

    private const long MinUnixMilliseconds = -62_135_596_800_000;
    private const long MaxUnixMilliseconds = 253_402_300_799_999;

    /// <summary>The canonical bytes.</summary>
    /// <exception cref="ArgumentException">A field is out of range (see the type remarks).</exception>
    public byte[] Encode()
    {
        Span<byte> buffer = stackalloc byte[MaxEncodedLength];
        var length = EncodeTo(buffer);
        return buffer[..length].ToArray();
    }

    /// <summary>Writes the canonical bytes to <paramref name="destination"/> and returns their length.</summary>
    /// <exception cref="ArgumentException">A field is out of range, or the destination is too short.</exception>
    public int EncodeTo(Span<byte> destination)
    {
        if (Version != CurrentVersion)
        {
            throw new ArgumentOutOfRangeException(nameof(Version), Version, $"Only version {CurrentVersion} is supported.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(Height);
        ArgumentOutOfRangeException.ThrowIfNegative(LeafCount);
        var chainIdLength = ValidatedLength(ChainId, nameof(ChainId));
        var producerIdLength = ValidatedLength(ProducerId, nameof(ProducerId));
        var keyIdLength = ValidatedLength(KeyId, nameof(KeyId));
        var total = FixedEncodedLength + chainIdLength + producerIdLength + keyIdLength;
        if (destination.Length < total)
        {
            throw new ArgumentException($"The destination must hold {total} bytes.", nameof(destination));
        }

        var offset = 0;
        Magic.CopyTo(destination);
        offset += Magic.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], (ushort)Version);
        offset += 2;
        offset += WriteString(destination[offset..], ChainId, chainIdLength);
        BinaryPrimitives.WriteUInt64BigEndian(destination[offset..], (ulong)Height);
        offset += 8;
        PreviousHash.CopyTo(destination[offset..]);
        offset += Hash32.Size;
        MerkleRoot.CopyTo(destination[offset..]);
        offset += Hash32.Size;
        BinaryPrimitives.WriteUInt64BigEndian(destination[offset..], (ulong)LeafCount);
        offset += 8;
        BinaryPrimitives.WriteInt64BigEndian(destination[offset..], SlotTime.ToUnixTimeMilliseconds());
        offset += 8;
        offset += WriteString(destination[offset..], ProducerId, producerIdLength);
        offset += WriteString(destination[offset..], KeyId, keyIdLength);
        return offset;
    }

    /// <summary>Parses canonical bytes. SlotTime comes back with offset zero.</summary>
    /// <exception cref="FormatException">Wrong magic or version, a bad length, invalid UTF-8, a value out of range, truncated or trailing bytes.</exception>
    public static BlockHeader Decode(ReadOnlySpan<byte> encoded)
    {
        var reader = new Reader(encoded);
        if (!reader.Take(Magic.Length).SequenceEqual(Magic))
        {
            throw new FormatException("The block header does not start with \"BTMC\".");
        }

        var version = reader.ReadUInt16();
        if (version != CurrentVersion)
        {
            throw new FormatException($"Block header version {version} is not supported; expected {CurrentVersion}.");
        }

        var chainId = reader.ReadString("chain id");
        var height = reader.ReadNonNegativeInt64("height");
        var previousHash = new Hash32(reader.Take(Hash32.Size));
        var merkleRoot = new Hash32(reader.Take(Hash32.Size));
        var leafCount = reader.ReadNonNegativeInt64("leaf count");
        var slotMilliseconds = reader.ReadInt64();
        if (slotMilliseconds is < MinUnixMilliseconds or > MaxUnixMilliseconds)
        {
            throw new FormatException($"Slot time {slotMilliseconds} ms is outside the representable range.");
        }

        var producerId = reader.ReadString("producer id");
        var keyId = reader.ReadString("key id");
        if (reader.Remaining != 0)
        {
            throw new FormatException($"The block header has {reader.Remaining} trailing bytes.");
        }

        return new BlockHeader(
            version,
            chainId,
            height,
            previousHash,
            merkleRoot,
            leafCount,
            DateTimeOffset.FromUnixTimeMilliseconds(slotMilliseconds),
            producerId,
            keyId);
    }

    /// <summary>SHA-256 of the canonical bytes: the block hash, and the digest that is signed.</summary>
    /// <exception cref="ArgumentException">As for <see cref="Encode"/>.</exception>
    public Hash32 ComputeHash()
    {
        Span<byte> buffer = stackalloc byte[MaxEncodedLength];
        var length = EncodeTo(buffer);
        return Hash32.Compute(buffer[..length]);
    }

    private static int ValidatedLength(string? value, string paramName)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException("The value is required.", paramName);
        }

        var length = StrictUtf8.GetByteCount(value, paramName);
        if (length > MaxStringBytes)
        {
            throw new ArgumentException($"The value is {length} UTF-8 bytes; at most {MaxStringBytes} are allowed.", paramName);
        }

        return length;
    }

    private static int WriteString(Span<byte> destination, string value, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)length);
        StrictUtf8.Encoding.GetBytes(value, destination[2..]);
        return 2 + length;
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _offset;

        public readonly int Remaining => _data.Length - _offset;

        public ReadOnlySpan<byte> Take(int count)
        {
            if (Remaining < count)
            {
                throw new FormatException($"The block header is truncated at byte {_offset}.");
            }

            var slice = _data.Slice(_offset, count);
            _offset += count;
            return slice;
        }

        public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

        public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

        public long ReadNonNegativeInt64(string field)
        {
            var value = BinaryPrimitives.ReadUInt64BigEndian(Take(8));
            return value <= long.MaxValue
                ? (long)value
                : throw new FormatException($"The {field} {value} is out of range.");
        }

        public string ReadString(string field)
        {
            var length = ReadUInt16();
            if (length is 0 or > MaxStringBytes)
            {
                throw new FormatException($"The {field} is {length} bytes; it must be 1..{MaxStringBytes}.");
            }

            try
            {
                return StrictUtf8.Encoding.GetString(Take(length));
            }
            catch (DecoderFallbackException ex)
            {
                throw new FormatException($"The {field} is not valid UTF-8.", ex);
            }
        }
    }
}
