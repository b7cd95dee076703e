using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Btmc.Supply.Sealing;

namespace Btmc.Supply.Storage;

/// <summary>
/// Where an event id lives: its stream partition (and so its chain and its chain's index table) and its index row.
/// All come from SHA-256 of the id, so the same event always lands on the same chain, which is what makes
/// deduplication a per-chain matter. <see cref="Hash1"/> and <see cref="Hash2"/> are further bits of the same digest,
/// for <see cref="SealedEventFilter"/>.
/// </summary>
public readonly record struct EventKey(int Partition, string IndexPartitionKey, string IndexRowKey, ulong Hash1, ulong Hash2)
{
    public static EventKey For(string eventId, int partitions)
    {
        Span<byte> digest = stackalloc byte[32];
        var max = Encoding.UTF8.GetMaxByteCount(eventId.Length);
        var buffer = max <= 1024 ? stackalloc byte[max] : new byte[max];
        SHA256.HashData(buffer[..Encoding.UTF8.GetBytes(eventId, buffer)], digest);
        return FromDigest(digest, partitions);
    }

    /// <summary>The key of an index row, from its row key (the hex digest).</summary>
    public static EventKey FromIndexRowKey(string rowKey, int partitions)
    {
        Span<byte> digest = stackalloc byte[32];
        if (rowKey.Length != 64 || Convert.FromHexString(rowKey, digest, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            throw new FormatException($"'{rowKey}' is not an event index row key.");
        }

        return FromDigest(digest, partitions);
    }

    private static EventKey FromDigest(ReadOnlySpan<byte> digest, int partitions)
    {
        var partition = (int)(BinaryPrimitives.ReadUInt32BigEndian(digest) % (uint)partitions);
        var hex = Convert.ToHexStringLower(digest);
        return new EventKey(partition, hex[..1], hex, BinaryPrimitives.ReadUInt64BigEndian(digest[8..]), BinaryPrimitives.ReadUInt64BigEndian(digest[16..]) | 1);
    }
}
