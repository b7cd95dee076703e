using System.Buffers;
using System.Buffers.Binary;

namespace Btmc.Ledger;

/// <summary>
/// The leaf of one ledger entry. Canonical leaf bytes:
/// <c>u8 format version (=1) | 32-byte event hash | u16 big-endian UTF-8 length of EventId | EventId UTF-8</c>.
/// EventId must be 1..65535 bytes of UTF-8.
/// </summary>
public readonly record struct LedgerEntry(string EventId, Hash32 EventHash)
{
    /// <summary>The first byte of the leaf encoding.</summary>
    public const byte LeafFormatVersion = 1;

    /// <summary>Version byte, event hash and length prefix.</summary>
    public const int FixedLeafBytes = 1 + Hash32.Size + 2;

    /// <summary>The largest EventId in UTF-8 bytes.</summary>
    public const int MaxEventIdBytes = ushort.MaxValue;

    // Leaves up to this size are hashed from a stack buffer.
    private const int StackLimit = 1024 + FixedLeafBytes + 1;

    /// <summary>The canonical leaf bytes.</summary>
    /// <exception cref="ArgumentException">EventId is null, empty, longer than 65535 UTF-8 bytes, or not valid Unicode.</exception>
    public byte[] EncodeLeaf()
    {
        var idBytes = ValidatedEventIdByteCount();
        var leaf = new byte[FixedLeafBytes + idBytes];
        WriteLeaf(leaf, idBytes);
        return leaf;
    }

    /// <summary>MerkleTree.HashLeaf(EncodeLeaf()), without heap allocation for ids up to 1 KB.</summary>
    /// <exception cref="ArgumentException">As for <see cref="EncodeLeaf"/>.</exception>
    public Hash32 ComputeLeafHash()
    {
        var idBytes = ValidatedEventIdByteCount();
        var length = 1 + FixedLeafBytes + idBytes;
        byte[]? rented = null;
        var buffer = length <= StackLimit
            ? stackalloc byte[StackLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            buffer[0] = MerkleTree.LeafPrefix;
            WriteLeaf(buffer.Slice(1, length - 1), idBytes);
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

    private int ValidatedEventIdByteCount()
    {
        if (string.IsNullOrEmpty(EventId))
        {
            throw new ArgumentException("The event id is required.", nameof(EventId));
        }

        var count = StrictUtf8.GetByteCount(EventId, nameof(EventId));
        if (count > MaxEventIdBytes)
        {
            throw new ArgumentException($"The event id is {count} UTF-8 bytes; at most {MaxEventIdBytes} are allowed.", nameof(EventId));
        }

        return count;
    }

    private void WriteLeaf(Span<byte> destination, int idBytes)
    {
        destination[0] = LeafFormatVersion;
        EventHash.CopyTo(destination[1..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(1 + Hash32.Size)..], (ushort)idBytes);
        StrictUtf8.Encoding.GetBytes(EventId, destination[FixedLeafBytes..]);
    }
}
