using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Btmc.Platform.EventLog;

/// <summary>
/// The on-disk frame of the event log (little-endian):
/// <code>
/// 0  u32  magic "BTL1"
/// 4  u32  payload length (bytes after the header)
/// 8  u32  event count (≥ 1)
/// 12 i64  sequence number of the first event
/// 20 16B  SHA-256(bytes 0..20 ++ payload), first 16 bytes
/// 36 payload: per event u32 body length, i64 enqueued time (UTC ticks), body
/// </code>
/// </summary>
internal static class EventLogFormat
{
    public const uint FrameMagic = 0x314C5442; // "BTL1"
    public const uint CheckpointMagic = 0x31435442; // "BTC1"
    public const int HeaderSize = 36;
    public const int RecordHeaderSize = 12;
    public const int ChecksumSize = 16;
    public const int CheckpointSize = 32;

    /// <summary>Largest payload a frame may declare; anything larger is damage, not data.</summary>
    public const int MaxPayload = 1024 * 1024 * 1024;

    public static void WriteHeader(Span<byte> frame, int payloadLength, int count, long firstSequence)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame, FrameMagic);
        BinaryPrimitives.WriteInt32LittleEndian(frame[4..], payloadLength);
        BinaryPrimitives.WriteInt32LittleEndian(frame[8..], count);
        BinaryPrimitives.WriteInt64LittleEndian(frame[12..], firstSequence);
    }

    /// <summary>Writes the checksum of a frame whose header fields and payload are in place.</summary>
    public static void Seal(Span<byte> frame, IncrementalHash sha)
    {
        Span<byte> hash = stackalloc byte[32];
        Hash(frame, sha, hash);
        hash[..ChecksumSize].CopyTo(frame[20..]);
    }

    /// <summary>True when the stored checksum matches the header fields and the payload.</summary>
    public static bool ChecksumMatches(ReadOnlySpan<byte> frame, IncrementalHash sha)
    {
        Span<byte> hash = stackalloc byte[32];
        Hash(frame, sha, hash);
        return hash[..ChecksumSize].SequenceEqual(frame.Slice(20, ChecksumSize));
    }

    /// <summary>Reads a header's fields; false with a reason when they cannot describe a frame.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> header, out int payloadLength, out int count, out long firstSequence, out string reason)
    {
        payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        count = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        firstSequence = BinaryPrimitives.ReadInt64LittleEndian(header[12..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != FrameMagic)
        {
            reason = "bad frame magic";
            return false;
        }

        if (payloadLength is < RecordHeaderSize or > MaxPayload || count < 1 || (long)count * RecordHeaderSize > payloadLength)
        {
            reason = $"implausible frame lengths (payload {payloadLength}, count {count})";
            return false;
        }

        if (firstSequence < 0)
        {
            reason = $"negative sequence number {firstSequence}";
            return false;
        }

        reason = string.Empty;
        return true;
    }

    /// <summary>True when the payload holds exactly <paramref name="count"/> records.</summary>
    public static bool RecordsFit(ReadOnlySpan<byte> payload, int count)
    {
        var pos = 0;
        for (var i = 0; i < count; i++)
        {
            if (payload.Length - pos < RecordHeaderSize)
            {
                return false;
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(payload[pos..]);
            if (length < 0 || length > payload.Length - pos - RecordHeaderSize)
            {
                return false;
            }

            pos += RecordHeaderSize + length;
        }

        return pos == payload.Length;
    }

    public static byte[] EncodeCheckpoint(int partition, long nextSequenceNumber)
    {
        var data = new byte[CheckpointSize];
        BinaryPrimitives.WriteUInt32LittleEndian(data, CheckpointMagic);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4), partition);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), nextSequenceNumber);
        SHA256.HashData(data.AsSpan(0, 16)).AsSpan(0, ChecksumSize).CopyTo(data.AsSpan(16));
        return data;
    }

    public static bool TryDecodeCheckpoint(ReadOnlySpan<byte> data, int partition, out long nextSequenceNumber)
    {
        nextSequenceNumber = 0;
        if (data.Length != CheckpointSize
            || BinaryPrimitives.ReadUInt32LittleEndian(data) != CheckpointMagic
            || BinaryPrimitives.ReadInt32LittleEndian(data[4..]) != partition
            || !SHA256.HashData(data[..16]).AsSpan(0, ChecksumSize).SequenceEqual(data[16..]))
        {
            return false;
        }

        nextSequenceNumber = BinaryPrimitives.ReadInt64LittleEndian(data[8..]);
        return true;
    }

    private static void Hash(ReadOnlySpan<byte> frame, IncrementalHash sha, Span<byte> hash)
    {
        sha.AppendData(frame[..20]);
        sha.AppendData(frame[HeaderSize..]);
        sha.GetHashAndReset(hash);
    }
}
