using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Btmc.Supply;

/// <summary>
/// Where an event id lives: its stream partition (and so its chain) and its index row. Both come from SHA-256 of the
/// id, so the same event always lands on the same chain, which is what makes deduplication a per-chain matter.
/// </summary>
public readonly record struct EventKey(int Partition, string IndexPartitionKey, string IndexRowKey)
{
    public static EventKey For(string eventId, int partitions)
    {
        Span<byte> digest = stackalloc byte[32];
        var max = Encoding.UTF8.GetMaxByteCount(eventId.Length);
        var buffer = max <= 1024 ? stackalloc byte[max] : new byte[max];
        SHA256.HashData(buffer[..Encoding.UTF8.GetBytes(eventId, buffer)], digest);
        var partition = (int)(BinaryPrimitives.ReadUInt32BigEndian(digest) % (uint)partitions);
        var hex = Convert.ToHexStringLower(digest);
        return new EventKey(partition, hex[..1], hex);
    }
}
