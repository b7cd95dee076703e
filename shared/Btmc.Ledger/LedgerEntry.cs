using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Btmc.Ledger;

/// <summary>
/// The leaf of one ledger entry: which event (its ledger id, the CBV 2.0 event hash ID), the hash of the event as
/// stored, the partner that captured it and, for a signed capture, the capture attestation digest
/// (<see cref="SignedCapture.ComputeAttestation"/>). Canonical leaf bytes:
/// <c>u8 format version (2, or 3 with an attestation) | 32-byte event hash | u16 big-endian UTF-8 length of EventId |
/// EventId UTF-8 | u16 big-endian UTF-8 length of Partner | Partner UTF-8 [| 32-byte attestation, format 3 only]</c>.
/// EventId and Partner must each be 1..65535 bytes of UTF-8.
/// </summary>
public readonly record struct LedgerEntry(string EventId, Hash32 EventHash, string Partner, Hash32? CaptureAttestation = null)
{
    /// <summary>The first byte of the leaf encoding of an unsigned entry.</summary>
    public const byte LeafFormatVersion = 2;

    /// <summary>The first byte of the leaf encoding of an entry with a capture attestation.</summary>
    public const byte SignedLeafFormatVersion = 3;

    /// <summary>Version byte, event hash and the two length prefixes.</summary>
    public const int FixedLeafBytes = 1 + Hash32.Size + 2 + 2;

    /// <summary>The largest EventId or Partner in UTF-8 bytes.</summary>
    public const int MaxFieldBytes = ushort.MaxValue;

    // Leaves up to this size are hashed from a stack buffer.
    private const int StackLimit = 1024 + FixedLeafBytes + Hash32.Size + 1;

    private int AttestationBytes => CaptureAttestation is null ? 0 : Hash32.Size;

    /// <summary>
    /// Reads leaf bytes back, strictly: format 2 or 3, lengths 1..65535 that fit, valid UTF-8, for format 3 exactly
    /// 32 attestation bytes, and nothing after.
    /// </summary>
    /// <exception cref="FormatException">The bytes are not a canonical leaf.</exception>
    public static LedgerEntry DecodeLeaf(ReadOnlySpan<byte> leaf)
    {
        if (leaf.Length < FixedLeafBytes)
        {
            throw new FormatException($"A leaf is at least {FixedLeafBytes} bytes; got {leaf.Length}.");
        }

        var signed = leaf[0] switch
        {
            LeafFormatVersion => false,
            SignedLeafFormatVersion => true,
            var other => throw new FormatException($"Leaf format 0x{other:x2} is not 0x02 or 0x03."),
        };
        var eventHash = new Hash32(leaf.Slice(1, Hash32.Size));
        var at = 1 + Hash32.Size;
        var eventId = ReadField(leaf, ref at, "event id");
        var partner = ReadField(leaf, ref at, "partner");
        Hash32? attestation = null;
        if (signed)
        {
            if (leaf.Length - at < Hash32.Size)
            {
                throw new FormatException("A format 0x03 leaf ends with a 32-byte capture attestation; it is truncated.");
            }

            attestation = new Hash32(leaf.Slice(at, Hash32.Size));
            at += Hash32.Size;
        }

        if (at != leaf.Length)
        {
            throw new FormatException($"The leaf has {leaf.Length - at} bytes after its last field.");
        }

        return new LedgerEntry(eventId, eventHash, partner, attestation);
    }

    private static string ReadField(ReadOnlySpan<byte> leaf, ref int at, string what)
    {
        if (leaf.Length - at < 2)
        {
            throw new FormatException($"The leaf is truncated before the {what} length.");
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(leaf[at..]);
        at += 2;
        if (length == 0 || leaf.Length - at < length)
        {
            throw new FormatException(length == 0 ? $"The {what} is empty." : $"The leaf is truncated inside the {what}.");
        }

        string value;
        try
        {
            value = StrictUtf8.Encoding.GetString(leaf.Slice(at, length));
        }
        catch (DecoderFallbackException ex)
        {
            throw new FormatException($"The {what} is not valid UTF-8.", ex);
        }

        at += length;
        return value;
    }

    /// <summary>The canonical leaf bytes.</summary>
    /// <exception cref="ArgumentException">EventId or Partner is null, empty, longer than 65535 UTF-8 bytes, or not valid Unicode.</exception>
    public byte[] EncodeLeaf()
    {
        var (idBytes, partnerBytes) = ValidatedByteCounts();
        var leaf = new byte[FixedLeafBytes + idBytes + partnerBytes + AttestationBytes];
        WriteLeaf(leaf, idBytes, partnerBytes);
        return leaf;
    }

    /// <summary>MerkleTree.HashLeaf(EncodeLeaf()), without heap allocation for leaves up to 1 KB.</summary>
    /// <exception cref="ArgumentException">As for <see cref="EncodeLeaf"/>.</exception>
    public Hash32 ComputeLeafHash()
    {
        var (idBytes, partnerBytes) = ValidatedByteCounts();
        var length = 1 + FixedLeafBytes + idBytes + partnerBytes + AttestationBytes;
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
        destination[0] = CaptureAttestation is null ? LeafFormatVersion : SignedLeafFormatVersion;
        EventHash.CopyTo(destination[1..]);
        var at = 1 + Hash32.Size;
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], (ushort)idBytes);
        at += 2;
        StrictUtf8.Encoding.GetBytes(EventId, destination[at..]);
        at += idBytes;
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], (ushort)partnerBytes);
        at += 2;
        StrictUtf8.Encoding.GetBytes(Partner, destination[at..]);
        if (CaptureAttestation is { } attestation)
        {
            attestation.CopyTo(destination[(at + partnerBytes)..]);
        }
    }
}
