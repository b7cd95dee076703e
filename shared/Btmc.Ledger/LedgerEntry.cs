using System.Buffers;
using System.Buffers.Binary;

namespace Btmc.Ledger;

/// <summary>
/// The leaf of one ledger entry: which event (its ledger id, the CBV 2.0 event hash ID), the hash of the event as
/// stored, and the partner that captured it. Canonical leaf bytes:
/// <c>u8 format version (=2) | 32-byte event hash | u16 big-endian UTF-8 length of EventId | EventId UTF-8 |
/// u16 big-endian UTF-8 length of Partner | Partner UTF-8</c>.
/// EventId and Partner must each be 1..65535 bytes of UTF-8.
/// </summary>
public readonly record struct LedgerEntry(string EventId, Hash32 EventHash, string Partner)
{
    /// <summary>The first byte of the leaf encoding.</summary>
    public const byte LeafFormatVersion = 2;

    /// <summary>Version byte, event hash and the two length prefixes.</summary>
    public const int FixedLeafBytes = 1 + Hash32.Size + 2 + 2;

    /// <summary>The largest EventId or Partner in UTF-8 bytes.</summary>
    public const int MaxFieldBytes = ushort.MaxValue;

    // Leaves up to this size are hashed from a stack buffer.
    private const int StackLimit = 1024 + FixedLeafBytes + 1;

    /// <summary>The canonical leaf bytes.</summary>
    /// <exception cref="ArgumentException">EventId or Partner is null, empty, longer than 65535 UTF-8 bytes, or not valid Unicode.</exception>
    public byte[] EncodeLeaf()
    {
        var (idBytes, partnerBytes) = ValidatedByteCounts();
        var leaf = new byte[FixedLeafBytes + idBytes + partnerBytes];
        WriteLeaf(leaf, idBytes, partnerBytes);
        return leaf;
    }

    /// <summary>MerkleTree.HashLeaf(EncodeLeaf()), without heap allocation for leaves up to 1 KB.</summary>
    /// <exception cref="ArgumentException">As for <see cref="EncodeLeaf"/>.</exception>
    public Hash32 ComputeLeafHash()
    {
        var (idBytes, partnerBytes) = ValidatedByteCounts();
        var length = 1 + FixedLeafBytes + idBytes + partnerBytes;
        byte[]? rented = null;
        var buffer = length <= StackLimit
            ? stackalloc byte[StackLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            buffer[0] = MerkleTree.LeafPrefix;
            WriteLeaf(buffer.Slice(1, length - 1), idBytes, partnerBytes);
            return Hash32.Compute(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private (int Id, int Partner) ValidatedByteCounts() =>
        (ValidatedByteCount(EventId, nameof(EventId), "event id"), ValidatedByteCount(Partner, nameof(Partner), "partner"));

    private static int ValidatedByteCount(string value, string paramName, string what)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException($"The {what} is required.", paramName);
        }

        var count = StrictUtf8.GetByteCount(value, paramName);
        if (count > MaxFieldBytes)
        {
            throw new ArgumentException($"The {what} is {count} UTF-8 bytes; at most {MaxFieldBytes} are allowed.", paramName);
        }

        return count;
    }

    private void WriteLeaf(Span<byte> destination, int idBytes, int partnerBytes)
    {
        destination[0] = LeafFormatVersion;
        EventHash.CopyTo(destination[1..]);
        var at = 1 + Hash32.Size;
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], (ushort)idBytes);
        at += 2;
        StrictUtf8.Encoding.GetBytes(EventId, destination[at..]);
        at += idBytes;
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], (ushort)partnerBytes);
        StrictUtf8.Encoding.GetBytes(Partner, destination[(at + 2)..]);
    }
}
